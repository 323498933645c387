"""The managed vCenter simulator: found, started on 127.0.0.1, watched and restarted.

The process prints one JSON line with its two SDK URLs once it listens; the sidecar
waits for it (no polling), then watches the process: when it exits unexpectedly, the
gap starts, the owner is told, and the process is started again on the same ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog

from dcsim.errors import ConfigError, ServiceUnavailable
from dcsim_vmware.certificate import ensure_certificate
from dcsim_vmware.settings import VmwareSettings

log = structlog.get_logger(__name__)

#: The simulator's command name (scripts/vcsim.sh and ``dcsim vmware install-vcsim`` build it).
BINARY = "dcsim-vcsim"
#: How long the simulator may take to listen.
START_TIMEOUT = 30.0


def find_binary(settings: VmwareSettings) -> Path:
    """The simulator to run; a ConfigError that says how to get one otherwise."""
    if settings.binary is not None:
        if not os.access(settings.binary, os.X_OK):
            raise ConfigError(f"plugins.vmware.binary {settings.binary} is not an executable file")
        return settings.binary
    found = shutil.which(BINARY)
    if found:
        return Path(found)
    if shutil.which("go"):
        how = "Go is installed: `dcsim vmware install-vcsim` builds it"
    else:
        how = "Go (>= 1.24) is not installed either: install Go, then run `dcsim vmware install-vcsim`"
    raise ConfigError(
        f"no {BINARY} found on PATH or in plugins.vmware.binary; {how}; "
        "or set plugins.vmware.vcenter to the SDK URL of a running vCenter"
    )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sidecar:
    """One supervised simulator process."""

    def __init__(
        self,
        settings: VmwareSettings,
        data_dir: Path,
        on_restart: Callable[[], Awaitable[None]],
    ) -> None:
        self.settings = settings
        self.binary = find_binary(settings)
        self.cert, self.key = ensure_certificate(data_dir / "vmware")
        self.log_file = data_dir / "vmware" / "vcsim.log"
        self.https_port = settings.https_port or free_port()
        self.http_port = settings.http_port or free_port()
        self.on_restart = on_restart
        self.process: asyncio.subprocess.Process | None = None
        #: Since when the simulator has been away (monotonic), None while it runs.
        self.down_since: float | None = time.monotonic()
        self.restarts = 0
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def https_url(self) -> str:
        """The TLS SDK URL."""
        return f"https://127.0.0.1:{self.https_port}/sdk"

    @property
    def http_url(self) -> str:
        """The plain HTTP SDK URL."""
        return f"http://127.0.0.1:{self.http_port}/sdk"

    async def start(self) -> None:
        """Start the simulator and wait until it listens; then watch it."""
        await self._spawn()
        self.down_since = None
        self._watch = asyncio.create_task(self._supervise(), name="vcsim-supervisor")

    async def _spawn(self) -> None:
        args = [
            str(self.binary),
            f"-https=127.0.0.1:{self.https_port}",
            f"-http=127.0.0.1:{self.http_port}",
            f"-tlscert={self.cert}",
            f"-tlskey={self.key}",
            f"-username={self.settings.username}",
            f"-password={self.settings.password}",
        ]
        with self.log_file.open("ab") as errors:
            process = await asyncio.create_subprocess_exec(
                *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=errors
            )
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)
            json.loads(line)
        except (TimeoutError, ValueError):
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            error = self.log_file.read_text(errors="replace").strip().splitlines()[-1:] or ["no answer"]
            raise ServiceUnavailable(f"{self.binary} did not start: {error[0]}") from None
        self.process = process
        log.info("vmware.vcsim_started", pid=process.pid, https=self.https_url, http=self.http_url)

    async def _supervise(self) -> None:
        while not self._stopping:
            assert self.process is not None
            code = await self.process.wait()
            if self.stopping():
                return
            self.down_since = time.monotonic()
            log.warning("vmware.vcsim_exited", code=code)
            while not self._stopping:
                await asyncio.sleep(self.settings.restart_seconds)
                try:
                    await self._spawn()
                except (ServiceUnavailable, OSError) as exc:
                    log.warning("vmware.vcsim_restart_failed", error=str(exc))
                    continue
                self.restarts += 1
                try:
                    await self.on_restart()
                except Exception:
                    log.exception("vmware.reseed_failed")
                    with contextlib.suppress(ProcessLookupError):
                        self.process.kill()
                    break
                self.down_since = None
                break

    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopping

    def kill(self) -> None:
        """Kill the process as a crash would (the supervisor restarts it)."""
        if self.process is not None:
            self.process.kill()

    async def stop(self) -> None:
        """Stop supervising and end the process."""
        self._stopping = True
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch


__all__ = ["BINARY", "Sidecar", "find_binary", "free_port"]
