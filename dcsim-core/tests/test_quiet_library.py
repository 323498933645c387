"""Library mode is quiet; the server's log lines are readable on a terminal, JSON elsewhere.

Each case runs in a fresh interpreter, since logging configuration is process-wide.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dcsim.logs import resolve_format

OPEN_AND_USE = """
import asyncio, sys
import dcsim

class Tool:  # a library user's own plugin, declaring the event it publishes

    @dcsim.hookimpl
    def dcsim_register_event_types(self, registry):
        registry.add("tool.ran", description="the tool ran")

async def main():
    async with dcsim.open(data_dir=sys.argv[1], plugins=[Tool()]) as sim:
        await sim.publish("tool.ran", {"to": "world"}, source="/my-tool")
    async with dcsim.open(data_dir=sys.argv[1]) as sim:  # a second start: nothing to migrate
        pass

asyncio.run(main())
"""


def _python(script: str, *args: str, stderr: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    # The child sees no DCSIM_* variable of the test run: it must not depend on them.
    env = {key: value for key, value in os.environ.items() if not key.startswith("DCSIM_")}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_open_in_a_fresh_interpreter_prints_nothing(tmp_path: Path) -> None:
    done = _python(OPEN_AND_USE, str(tmp_path / "dc"))
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")


def test_a_caller_who_configures_logging_sees_dcsim_but_not_alembic(tmp_path: Path) -> None:
    script = "import logging, sys\nlogging.basicConfig(level='INFO', stream=sys.stdout)\n" + OPEN_AND_USE
    done = _python(script, str(tmp_path / "dc"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # The first start writes the admin token, which dc-sim says at WARNING.
    assert any(line.startswith("WARNING:dcsim.app:auth.admin_token_created path=") for line in lines), lines
    assert not [line for line in lines if ":alembic" in line]
    assert done.stderr == ""


def test_auto_format_is_console_on_a_terminal_and_json_otherwise(tmp_path: Path) -> None:
    master, replica = os.openpty()
    with os.fdopen(replica, "w") as terminal, (tmp_path / "file").open("w") as file:
        assert resolve_format("auto", terminal) == "console"
        assert resolve_format("auto", file) == "json"
        assert resolve_format("json", terminal) == "json"
        assert resolve_format("console", file) == "console"
    os.close(master)


@pytest.mark.parametrize("fmt", ["auto", "json"])
def test_server_logging_writes_json_lines_when_stderr_is_not_a_terminal(fmt: str) -> None:
    script = f"""
    import structlog
    from dcsim.logs import configure_logging

    configure_logging("INFO", {fmt!r})
    structlog.get_logger("dcsim.test").info("test.said", args=["a"])
    """
    done = _python(script)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stderr)
    assert (record["event"], record["level"], record["args"], record["logger"]) == (
        "test.said",
        "info",
        ["a"],
        "dcsim.test",
    )


def test_server_logging_writes_readable_lines_on_a_terminal() -> None:
    script = """
    import structlog
    from dcsim.logs import configure_logging

    configure_logging("INFO", "auto")
    structlog.get_logger("dcsim.test").info("test.said", colour="blue")
    """
    master, replica = os.openpty()
    try:
        with os.fdopen(replica, "w") as terminal:
            done = _python(script, stderr=terminal.fileno())
        output = os.read(master, 65536).decode()
    finally:
        os.close(master)
    assert done.returncode == 0
    line = output.strip()
    assert "test.said" in line and "colour=blue" in line and not line.startswith("{"), line
