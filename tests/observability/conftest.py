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
from stack import Process, Prometheus, start_alertmanager, start_prometheus

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
    with start_alertmanager(observability_tools, root, dcsim_stack.url, webhook_token) as process:
        yield process


@pytest.fixture(scope="session")
def prometheus(
    observability_tools: dict[str, str],
    dcsim_stack: ServerProcess,
    alertmanager: Process,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Prometheus]:
    """Prometheus scraping dc-sim and evaluating the (fast copy of the) shipped rules every second."""
    root = tmp_path_factory.mktemp("prometheus")
    with start_prometheus(observability_tools, root, dcsim_stack.port, alertmanager.url) as process:
        yield process
