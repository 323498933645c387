"""``dcsim.testing.stop_process``: SIGTERM, then SIGKILL after the timeout; an exited process is left alone."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from dcsim.testing import stop_process

# Prints once its handler is in place, so the test never signals it before then.
IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
)


def test_a_process_that_stops_on_sigterm_is_not_killed() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    assert stop_process(process) == -signal.SIGTERM


def test_a_process_that_ignores_sigterm_is_killed_after_the_timeout() -> None:
    process = subprocess.Popen([sys.executable, "-c", IGNORES_SIGTERM], stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline() == b"ready\n"
    started = time.monotonic()
    assert stop_process(process, timeout=0.5) == -signal.SIGKILL
    assert 0.5 <= time.monotonic() - started < 10
    process.stdout.close()


def test_an_exited_process_keeps_its_exit_code() -> None:
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    process.wait(timeout=30)
    assert stop_process(process) == 3
