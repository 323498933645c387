"""``dcsim serve --server uvicorn|granian`` (issue #18): both stacks serve dc-sim with its
start-up and shutdown, its access lines, on 127.0.0.1 by default, stop gracefully on
SIGTERM and keep the SQLite single-server refusal; uvicorn is the default, Granian is asked for."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from dcsim.errors import ConfigError
from dcsim.serving import granian_installed, pick_server
from dcsim.testing import _free_port, stop_process

SERVE = [sys.executable, "-c", "from dcsim.cli import main; main()", "serve"]
# The stacks installed here: the serve-granian tox env has both, the core envs uvicorn alone.
STACKS = ["uvicorn", *(["granian"] if granian_installed() else [])]


def _env(data_dir: Path, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DCSIM_")}
    return env | {"DCSIM_DATA_DIR": str(data_dir), "DCSIM_PORT": str(port), "DCSIM_LOG_FORMAT": "json"} | (extra or {})


@contextmanager
def serving(
    stack: str, data_dir: Path, log_path: Path, tls: ssl.SSLContext | None = None, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``dcsim serve --server stack`` until /healthz answers: the process and its URL."""
    port = _free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*SERVE, "--server", stack], env=_env(data_dir, port, env), stdout=log, stderr=subprocess.STDOUT
        )
        url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(url + "/healthz", timeout=2, context=tls) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
            yield process, url
        finally:
            stop_process(process)


def _lines(log_path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_serves_logs_each_request_and_stops_gracefully(stack: str, tmp_path: Path) -> None:
    log_path = tmp_path / "serve.log"
    with serving(stack, tmp_path / "data", log_path) as (process, url):
        token = (tmp_path / "data" / "admin-token").read_text().strip()
        answer = httpx.get(url + "/sim/vms/vm-001", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["name"] == "vm-001"
        request_id = answer.headers["x-request-id"]
        assert httpx.get(url + "/sim/vms/vm-001").status_code == 401
        process.send_signal(signal.SIGTERM)
        # uvicorn raises the signal again once it has shut down: gracefully all the same.
        assert process.wait(timeout=30) in {0, -signal.SIGTERM}
    lines = _lines(log_path)
    events = [line["event"] for line in lines]
    # The app's start-up and shutdown ran (ASGI lifespan), in that order.
    assert events.index("dcsim.started") < events.index("dcsim.stopped")
    access = [line for line in lines if line["event"] == "http.request"]
    assert [line["path"] for line in access if line["path"] != "/healthz"] == ["/sim/vms/vm-001"] * 2
    assert any(line["request_id"] == request_id and line["status"] == 200 for line in access)
    # No access line of the server's own: the app writes one line a request.
    assert not any(line.get("logger") in {"uvicorn.access", "granian.access"} for line in lines)


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_binds_loopback_by_default(stack: str, tmp_path: Path) -> None:
    with serving(stack, tmp_path / "data", tmp_path / "serve.log") as (_process, url):
        port = int(url.rsplit(":", 1)[1])
        listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
        # Local address 0100007F:<port> in state 0A (LISTEN): 127.0.0.1 alone, no 0.0.0.0.
        mine = [line.split() for line in listening if line.split()[1].endswith(f":{port:04X}")]
        assert {fields[1] for fields in mine if fields[3] == "0A"} == {f"0100007F:{port:04X}"}


@pytest.mark.parametrize("stack", STACKS)
def test_a_killed_server_leaves_no_worker_behind(stack: str, tmp_path: Path) -> None:
    # kill -9 of the serving process: its workers (Granian's always, uvicorn's under
    # --workers) must end too, or they would keep the SQLite lock and a restart would be refused.
    data_dir = tmp_path / "data"
    with serving(stack, data_dir, tmp_path / "first.log") as (first, _url):
        children = Path(f"/proc/{first.pid}/task/{first.pid}/children").read_text().split()
        first.kill()
        first.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()], "a worker outlived its server"
    with serving(stack, data_dir, tmp_path / "second.log") as (_second, url):
        assert httpx.get(url + "/healthz").status_code == 200


@pytest.mark.parametrize("stack", STACKS)
def test_a_second_server_on_one_sqlite_file_is_refused_on_each_stack(stack: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with serving(stack, data_dir, tmp_path / "first.log") as (first, url):
        second = subprocess.run(
            [*SERVE, "--server", stack], env=_env(data_dir, _free_port()), capture_output=True, text=True, timeout=60
        )
        assert second.returncode != 0
        assert f"another dcsim serve (pid {first.pid}) already serves the SQLite store" in second.stderr
        assert httpx.get(url + "/healthz").status_code == 200


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_serves_https_down_to_tls_1_2(stack: str, tmp_path: Path) -> None:
    import trustme

    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate.cert_chain_pems[0].write_to_path(str(cert_file))
    certificate.private_key_pem.write_to_path(str(key_file))
    client = ssl.create_default_context()
    authority.configure_trust(client)
    # Vendor tools still speak TLS 1.2: the server must take it.
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    env = {"DCSIM_TLS_CERTFILE": str(cert_file), "DCSIM_TLS_KEYFILE": str(key_file)}
    with serving(stack, tmp_path / "data", tmp_path / "serve.log", tls=client, env=env) as (_process, url):
        assert url.startswith("https://")
        answer = httpx.get(url + "/healthz", verify=client)
        assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_uvicorn_is_the_default_and_granian_is_asked_for() -> None:
    assert pick_server(None) == "uvicorn"
    assert pick_server("uvicorn") == "uvicorn"
    with pytest.raises(ConfigError, match="one of uvicorn, granian"):
        pick_server("hypercorn")
