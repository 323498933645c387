"""The observability tests' helpers: Prometheus's HTTP API, started processes, polling,
and the fast copy of the shipped rules (the fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import attrs
import httpx
import yaml

from dcsim.testing import stop_process

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "observability" / "prometheus" / "rules" / "dcsim-alerts.yml"
ALERTMANAGER_CONFIG = REPO / "observability" / "alertmanager" / "alertmanager.yml"
#: The test copy's ``for:`` and range windows (the shipped ones are minutes long).
FAST_FOR = "5s"
FAST_WINDOW = "20s"

T = TypeVar("T")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.5) -> T:
    """Call ``probe`` until it returns something other than None or False; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except (httpx.HTTPError, OSError) as exc:
            last_error, result = exc, None
        if result is not None and result is not False:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_error})")


def fast_rules(source: Path, target: Path) -> Path:
    """Write ``source``'s rules to ``target`` with every ``for:`` set to :data:`FAST_FOR` and
    every range window (``[2m]``) to :data:`FAST_WINDOW`: expressions, thresholds,
    labels and annotations stay as shipped, so the loop test exercises the real rules
    without waiting minutes."""
    document = yaml.safe_load(source.read_text())
    for group in document["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = FAST_FOR
            rule["expr"] = re.sub(r"\[\d+[smhd]\]", f"[{FAST_WINDOW}]", rule["expr"])
    target.write_text(yaml.safe_dump(document, sort_keys=False))
    return target


@attrs.frozen
class Process:
    """A started tool: its URL and process, stopped by PID."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """What the process has written so far."""
        return self.log_path.read_text(errors="replace")


@attrs.frozen
class Prometheus(Process):
    """Prometheus's HTTP API."""

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector (or scalar) of ``expr`` now; AssertionError on a query error."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body = response.json()
        assert body.get("status") == "success", f"query {expr!r} failed: {body}"
        result = body["data"]["result"]
        return result if isinstance(result, list) else [{"value": result}]

    def alerts(self) -> list[dict[str, Any]]:
        """Active alerts (pending and firing)."""
        response = httpx.get(f"{self.url}/api/v1/alerts", timeout=10)
        response.raise_for_status()
        return list(response.json()["data"]["alerts"])

    def wait_for_scrapes(self, count: int = 2, timeout: float = 60) -> None:
        """Return once dc-sim has been scraped successfully ``count`` times (counted
        from the ``up`` series' samples)."""
        wait_until(
            lambda: (
                any(float(s["value"][1]) >= count for s in self.query('count_over_time(up{job="dcsim"}[5m])'))
                and all(float(s["value"][1]) == 1 for s in self.query('up{job="dcsim"}'))
            ),
            timeout,
            f"{count} successful scrapes of dc-sim",
        )


@contextlib.contextmanager
def running(
    command: list[str], log_path: Path, ready_url: str, timeout: float = 60
) -> Iterator[subprocess.Popen[bytes]]:
    log = log_path.open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}:\n{log_path.read_text()}")
            return httpx.get(ready_url, timeout=2).status_code == 200

        wait_until(ready, timeout, f"{command[0]} at {ready_url}", interval=0.2)
        yield process
    finally:
        stop_process(process)
        log.close()


@contextlib.contextmanager
def start_alertmanager(tools: dict[str, str], root: Path, dcsim_url: str, token: str) -> Iterator[Process]:
    """The shipped alertmanager.yml posting to ``dcsim_url`` with ``token``, group_wait and
    group_interval of a second, on a free loopback port, its files under ``root``."""
    token_file = root / "dcsim-token"
    token_file.write_text(token)
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    config["route"] |= {"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1m"}
    for receiver in config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            webhook["url"] = f"{dcsim_url}/itsm/alerts/alertmanager"
            webhook["http_config"]["authorization"]["credentials_file"] = str(token_file)
    (root / "alertmanager.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        tools["prometheus-alertmanager"],
        f"--config.file={root / 'alertmanager.yml'}",
        f"--storage.path={root / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        # No gossip: one instance, and no port outside loopback.
        "--cluster.listen-address=",
    ]
    with running(command, root / "alertmanager.log", f"{url}/-/ready") as process:
        yield Process(url=url, process=process, log_path=root / "alertmanager.log")


@contextlib.contextmanager
def start_prometheus(
    tools: dict[str, str], root: Path, dcsim_port: int, alertmanager_url: str, *, fast: bool = True
) -> Iterator[Prometheus]:
    """Prometheus scraping dc-sim on ``dcsim_port`` and evaluating the shipped rules (their
    :func:`fast_rules` copy unless ``fast`` is False) every second, alerting
    ``alertmanager_url``, on a free loopback port, its files under ``root``."""
    rules = fast_rules(RULES, root / "dcsim-alerts.yml") if fast else RULES
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager_url.removeprefix("http://")]}]}]},
        "scrape_configs": [
            {
                "job_name": "dcsim",
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [f"127.0.0.1:{dcsim_port}"]}],
            }
        ],
    }
    (root / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        tools["prometheus"],
        f"--config.file={root / 'prometheus.yml'}",
        f"--storage.tsdb.path={root / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        # Resend firing alerts every second, not every minute.
        "--rules.alert.resend-delay=1s",
    ]
    with running(command, root / "prometheus.log", f"{url}/-/ready") as process:
        yield Prometheus(url=url, process=process, log_path=root / "prometheus.log")
