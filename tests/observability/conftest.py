"""A real dc-sim, a real Prometheus scraping it and a real Alertmanager posting to it.

Session fixtures (one stack for every test of the directory, started on first use):

``observability_tools``
    Paths of ``prometheus``, ``promtool`` and ``prometheus-alertmanager`` (Debian's;
    ``scripts/prometheus.sh`` installs them).
``dcsim_stack``
    A ``dcsim serve`` process (:func:`dcsim.testing.run_server`) on a free loopback
    port, with the installed plugins and the default seed: ``.url``, ``.token`` (admin).
``alertmanager``
    Alertmanager on loopback routing ``auto_create_incident="true"`` alerts to dc-sim's
    webhook with an operator token, with group_wait, group_interval and repeat_interval
    of a second or so: ``.url``.
``prometheus``
    Prometheus on loopback scraping dc-sim every second and evaluating the shipped rules
    (their ``for:`` and range windows shortened, see :func:`fast_rules`) every second,
    alerting that Alertmanager: ``.url``, ``.query(expr)``, ``.alerts()``,
    ``.wait_for_scrapes(n)``.

Each process gets its own data directory and config under the session's temporary
directory, and is stopped by its PID at the end.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest
import yaml
from stack import ALERTMANAGER_CONFIG, RULES, Process, Prometheus, fast_rules, free_port, running

from dcsim.testing import ServerProcess, run_server


@pytest.fixture(scope="session")
def observability_tools() -> dict[str, str]:
    """Paths of Prometheus, promtool and Alertmanager; a clear failure when they are missing."""
    tools = {name: shutil.which(name) for name in ("prometheus", "promtool", "prometheus-alertmanager")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: run scripts/prometheus.sh (Debian's prometheus packages)")
    return {name: str(path) for name, path in tools.items()}


@pytest.fixture(scope="session")
def dcsim_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The dc-sim server Prometheus scrapes and Alertmanager posts to."""
    root = tmp_path_factory.mktemp("dcsim")
    with run_server(root / "server", log_path=root / "server.log") as server:
        yield server


@pytest.fixture(scope="session")
def webhook_token(dcsim_stack: ServerProcess) -> str:
    """An operator token for Alertmanager, created through dc-sim's API."""
    response = httpx.post(
        f"{dcsim_stack.url}/tokens",
        json={"role": "operator", "name": "alertmanager"},
        headers={"Authorization": f"Bearer {dcsim_stack.token}"},
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["secret"])


@pytest.fixture(scope="session")
def alertmanager(
    observability_tools: dict[str, str],
    dcsim_stack: ServerProcess,
    webhook_token: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Process]:
    """The shipped alertmanager.yml pointed at the test's dc-sim, with short timers."""
    root = tmp_path_factory.mktemp("alertmanager")
    token_file = root / "dcsim-token"
    token_file.write_text(webhook_token)
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    config["route"] |= {"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1m"}
    for receiver in config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            webhook["url"] = f"{dcsim_stack.url}/itsm/alerts/alertmanager"
            webhook["http_config"]["authorization"]["credentials_file"] = str(token_file)
    (root / "alertmanager.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        observability_tools["prometheus-alertmanager"],
        f"--config.file={root / 'alertmanager.yml'}",
        f"--storage.path={root / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        # No gossip: one instance, and no port outside loopback.
        "--cluster.listen-address=",
    ]
    with running(command, root / "alertmanager.log", f"{url}/-/ready") as process:
        yield Process(url=url, process=process, log_path=root / "alertmanager.log")


@pytest.fixture(scope="session")
def prometheus(
    observability_tools: dict[str, str],
    dcsim_stack: ServerProcess,
    alertmanager: Process,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Prometheus]:
    """Prometheus scraping dc-sim and evaluating the (fast copy of the) shipped rules every second."""
    root = tmp_path_factory.mktemp("prometheus")
    rules = fast_rules(RULES, root / "dcsim-alerts.yml")
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager.url.removeprefix("http://")]}]}]},
        "scrape_configs": [
            {
                "job_name": "dcsim",
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [f"127.0.0.1:{dcsim_stack.port}"]}],
            }
        ],
    }
    (root / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        observability_tools["prometheus"],
        f"--config.file={root / 'prometheus.yml'}",
        f"--storage.tsdb.path={root / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        # Resend firing alerts every second, not every minute.
        "--rules.alert.resend-delay=1s",
    ]
    with running(command, root / "prometheus.log", f"{url}/-/ready") as process:
        yield Prometheus(url=url, process=process, log_path=root / "prometheus.log")
