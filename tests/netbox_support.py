"""A real NetBox for the tests, on a database of its own: ``running_netbox(tmp_dir)``.

``scripts/netbox.sh`` (run by ``tox -e netbox`` first) installs NetBox into a Python 3.12
venv and migrates a template database once; it describes what it made in
``.venv-tools/netbox-root/dcsim-netbox.json``. Here each use gets:

- a database copied from that template (about a second, where a migrate takes minutes),
  named ``netbox_test_<pid>_<random>`` so that ``scripts/netbox.sh`` can drop the copies
  of test processes that died before dropping them;
- a ``redis-server`` of its own on a free port of 127.0.0.1 (NetBox's cache and task queue);
- NetBox on another free port of 127.0.0.1, answering the v1 API token of the template's
  ``admin`` user (``Authorization: Token <token>``).

``stop()`` and ``start()`` stop and start NetBox only, on the same port and database, to
test what clients do while NetBox is away: NetBox is loaded once (10 to 25 s) by
``tests/netbox/netbox_serve.py``, which forks the process serving it on each start, so a
restart takes well under a second. Leaving the context stops NetBox and Redis by pid and
drops the database.

Example::

    from netbox_support import running_netbox


    def test_status(tmp_path):
        with running_netbox(tmp_path) as netbox:
            api = pynetbox.api(netbox.url, token=netbox.token)
            assert api.status()["netbox-version"]

This module needs only the standard library, psycopg (a dcsim-core dependency) and
``dcsim.testing``: the test venv never imports NetBox, which runs on another Python.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import sql

from dcsim.testing import stop_process

REPO = Path(__file__).resolve().parents[1]
STATE_FILE = REPO / ".venv-tools" / "netbox-root" / "dcsim-netbox.json"
SERVE_SCRIPT = REPO / "tests" / "netbox" / "netbox_serve.py"

STARTUP_SECONDS = 60.0
STOP_SECONDS = 15.0
# What scripts/netbox.sh writes as the template's comment once it is complete.
TEMPLATE_MARKER_PREFIX = "dc-sim: netbox {version} migrated"


class NetboxUnavailable(RuntimeError):
    """NetBox is not installed, or its template database is not ready: run scripts/netbox.sh."""


@dataclass(frozen=True)
class NetboxInstall:
    """What ``scripts/netbox.sh`` installed, read from its state file."""

    version: str
    python: Path
    netbox_root: Path
    template_database: str
    postgres: dict[str, Any]
    admin_user: str
    admin_password: str
    token: str

    @classmethod
    def load(cls, state_file: Path = STATE_FILE) -> NetboxInstall:
        """Read the state file; ``NetboxUnavailable`` when it or what it names is missing."""
        try:
            state = json.loads(state_file.read_text())
            install = cls(
                version=state["netbox_version"],
                python=Path(state["venv"]) / "bin" / "python",
                netbox_root=Path(state["netbox_root"]),
                template_database=state["template_database"],
                postgres=state["postgres"],
                admin_user=state["admin_user"],
                admin_password=Path(state["admin_password_file"]).read_text().strip(),
                token=Path(state["api_token_file"]).read_text().strip(),
            )
        except (OSError, ValueError, KeyError) as error:
            raise NetboxUnavailable(f"NetBox is not set up ({error}); run scripts/netbox.sh") from error
        if not install.python.exists():
            raise NetboxUnavailable(f"{install.python} is missing; run scripts/netbox.sh")
        return install

    def connect(self) -> psycopg.Connection[Any]:
        """An autocommit connection to the administrative database (never the template)."""
        postgres = self.postgres
        return psycopg.connect(
            host=postgres["host"],
            port=postgres["port"],
            user=postgres["user"],
            password=postgres["password"],
            dbname=postgres["admin_database"],
            autocommit=True,
            connect_timeout=10,
        )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child_env(**extra: str) -> dict[str, str]:
    """This environment without what would make NetBox's Python load the test venv's packages."""
    dropped = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "DJANGO_SETTINGS_MODULE"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(extra)
    return env


@contextmanager
def _redis(tmp_dir: Path) -> Iterator[int]:
    """A ``redis-server`` on a free port of 127.0.0.1, without persistence; yields the port."""
    port = free_port()
    log_path = tmp_dir / f"redis-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=tmp_dir,
        )
    try:
        deadline = time.monotonic() + 10
        while not _redis_answers(port):
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {process.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer on 127.0.0.1:{port} within 10 s")
            time.sleep(0.05)
        yield port
    finally:
        stop_process(process)


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def _database_copy(install: NetboxInstall) -> Iterator[str]:
    """A new database copied from the template; dropped afterwards. Yields its name."""
    name = f"netbox_test_{os.getpid()}_{secrets.token_hex(4)}"
    with install.connect() as connection:
        row = connection.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (install.template_database,),
        ).fetchone()
        marker = TEMPLATE_MARKER_PREFIX.format(version=install.version)
        if row is None or not (row[0] or "").startswith(marker):
            raise NetboxUnavailable(
                f"template database {install.template_database} is not ready ({row[0] if row else 'absent'}); "
                "run scripts/netbox.sh"
            )
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(install.template_database)
            )
        )
    try:
        yield name
    finally:
        with install.connect() as connection:
            # FORCE: a NetBox killed rather than stopped may have left a connection behind.
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class NetboxServer:
    """NetBox on a fixed port of 127.0.0.1 and a database of its own, stopped and started at will.

    ``url`` and ``token`` (a v1 token: ``Authorization: Token <token>``) stay the same
    across ``stop()`` and ``start()``, and so does the data.

    NetBox runs under ``tests/netbox/netbox_serve.py``, which loads it once (10 to 25 s) and
    forks a child serving it on each start, so that a restart takes well under a second; a
    stopped NetBox's port refuses connections, as when its process is gone.
    """

    def __init__(
        self, install: NetboxInstall, *, database: str, redis_port: int, tmp_dir: Path, startup_timeout: float
    ) -> None:
        self.install = install
        self.database = database
        self.redis_port = redis_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = install.token
        self.admin_user = install.admin_user
        self.admin_password = install.admin_password
        self.log_path = tmp_dir / f"netbox-{self.port}.log"
        self.startup_timeout = startup_timeout
        self.pid: int | None = None  # the process serving, while started
        self._loader: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._log: IO[bytes] | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Headers of an authenticated JSON API call."""
        return {"Authorization": f"Token {self.token}", "Accept": "application/json"}

    @property
    def running(self) -> bool:
        return self.pid is not None

    def start(self) -> None:
        """Start NetBox and wait until ``/api/status/`` answers the token (``startup_timeout``)."""
        if self.running:
            return
        deadline = time.monotonic() + self.startup_timeout
        if self._loader is None or self._loader.poll() is not None:
            self._launch_loader(deadline)
        answer = self._command("start", deadline)
        if not answer.startswith("started "):
            raise RuntimeError(f"NetBox did not start: {answer}\n{self.output()}")
        self.pid = int(answer.split()[1])
        status = None
        while time.monotonic() < deadline:
            status = self._status()
            if status == 200:
                return
            time.sleep(0.1)
        raise RuntimeError(
            f"NetBox did not answer {self.url}/api/status/ within {self.startup_timeout:.0f} s "
            f"(last status: {status}):\n{self.output()}"
        )

    def stop(self) -> None:
        """Stop NetBox: its process ends, and its port refuses connections until ``start()``."""
        if self.pid is None:
            return
        self.pid = None
        answer = self._command("stop", time.monotonic() + STOP_SECONDS)
        if answer != "stopped":
            raise RuntimeError(f"NetBox did not stop: {answer}\n{self.output()}")

    def close(self) -> None:
        """Stop NetBox and the process holding it loaded."""
        self.pid = None
        if self._loader is not None:
            loader, self._loader = self._loader, None
            if loader.stdin is not None:
                loader.stdin.close()  # end of input: it stops its child and exits
            try:
                loader.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                stop_process(loader)
        if self._log is not None:
            self._log.close()
            self._log = None

    def output(self) -> str:
        """What NetBox printed: request logs and errors, over all its starts."""
        if self._log is not None:
            self._log.flush()
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _launch_loader(self, deadline: float) -> None:
        if self._log is None:
            self._log = self.log_path.open("ab")
        self._loader = subprocess.Popen(
            [str(self.install.python), str(SERVE_SCRIPT), str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=_child_env(
                NETBOX_ROOT=str(self.install.netbox_root),
                NETBOX_DB_NAME=self.database,
                NETBOX_REDIS_PORT=str(self.redis_port),
                PYTHONUNBUFFERED="1",
            ),
        )
        self._replies = queue.Queue()
        threading.Thread(target=self._read_replies, args=(self._loader, self._replies), daemon=True).start()
        answer = self._reply(deadline)
        if answer != "ready":
            raise RuntimeError(f"NetBox did not load: {answer}\n{self.output()}")

    @staticmethod
    def _read_replies(loader: subprocess.Popen[str], replies: queue.Queue[str | None]) -> None:
        assert loader.stdout is not None
        for line in loader.stdout:
            replies.put(line.strip())
        replies.put(None)

    def _command(self, command: str, deadline: float) -> str:
        assert self._loader is not None and self._loader.stdin is not None
        try:
            self._loader.stdin.write(command + "\n")
            self._loader.stdin.flush()
        except BrokenPipeError:
            return f"the process holding NetBox exited with {self._loader.wait()}"
        return self._reply(deadline)

    def _reply(self, deadline: float) -> str:
        try:
            answer = self._replies.get(timeout=max(deadline - time.monotonic(), 0.1))
        except queue.Empty:
            return "no answer in time"
        if answer is None:
            assert self._loader is not None
            return f"the process holding NetBox exited with {self._loader.wait()}"
        return answer

    def _status(self) -> int | None:
        """The HTTP status of an authenticated ``/api/status/``; None when nothing answers."""
        request = urllib.request.Request(f"{self.url}/api/status/", headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return None


@contextmanager
def running_netbox(
    tmp_dir: Path, *, startup_timeout: float = STARTUP_SECONDS, state_file: Path = STATE_FILE
) -> Iterator[NetboxServer]:
    """A started NetBox on a fresh copy of the template database, with its own Redis.

    Raises ``NetboxUnavailable`` when ``scripts/netbox.sh`` has not prepared NetBox. On
    exit, stops NetBox and Redis and drops the database, however the block ended.
    """
    install = NetboxInstall.load(state_file)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        redis_port = stack.enter_context(_redis(tmp_dir))
        database = stack.enter_context(_database_copy(install))
        server = NetboxServer(
            install, database=database, redis_port=redis_port, tmp_dir=tmp_dir, startup_timeout=startup_timeout
        )
        stack.callback(server.close)
        server.start()
        yield server
