"""Acceptance 1 of issue #17: two ``dcsim serve`` processes and two runner workers on one
PostgreSQL and one Redis act as one server.

Everything here is a real OS process: a ``redis-server``, two ``dcsim serve`` (A and B,
each with a data directory of its own, as two pods would have) and two ``dcsim ansible
worker``, on a PostgreSQL database made for the test. A probe plugin (a real entry point:
a ``.dist-info`` folder on the servers' ``PYTHONPATH``) subscribes a consumer group to
every event and appends each handling to a file, and gives P1 incidents a 2-second
response target so an SLA breach comes due during the test.

Then: 200 mixed writes spread over both processes, concurrently (VM create, power,
delete; incidents and their transitions; CI creates and edits; runs queued), and checks
that every record, VM and CI is visible through both, numbers are unique, the probe's
group handled each event once, ``/ws`` on A streamed what B caused, and the SLA breach
fired once. Last, B is killed with SIGKILL in the middle of a burst: every write that
got a 2xx answer is in the store and its event reaches the stream and the probe group.

Runs in tox's ``scaleout`` env (dcsim-core and dcsim-ansible installed, PostgreSQL from
``DCSIM_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

import dcsim_ansible  # noqa: F401  (the scaleout env installs it for the runner workers)
from dcsim.testing import ServerProcess, eventually, postgres_database, required_database_url, run_server

STREAM = "scaleout"
PROBE_GROUP = "scaleout-probe"

PROBE_MODULE = '''
"""Test plugin of the scale-out acceptance test: counts handled events, short P1 SLAs."""

import json
import os
from datetime import timedelta

from dcsim import hookimpl
from dcsim.itsm.sla import SlaTarget


@hookimpl
def dcsim_register_subscribers(registry):
    async def handled(dcsim, event):
        line = {"pid": os.getpid(), "id": event.id, "type": event.type, "subject": event.subject}
        with open(os.environ["SCALEOUT_PROBE_LOG"], "a") as log:
            log.write(json.dumps(line) + "\\n")

    registry.add("scaleout-probe", handled, types=("*",))


@hookimpl
def dcsim_itsm_sla_targets(priority):
    if priority == "P1":
        return SlaTarget(timedelta(seconds=2), timedelta(hours=4))
    return None
'''


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own, dropped afterwards."""
    with postgres_database(required_database_url("two processes"), "dcsim_scaleout") as url:
        yield url


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server without persistence on a free port, stopped by PID."""
    tmp_path = tmp_path_factory.mktemp("redis")
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.access(binary, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail("redis-server not found")
        pytest.skip("redis-server not found")
    port = _free_port()
    directory = tmp_path
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_timeout=1)
    try:
        _eventually(lambda: _pings(client), timeout=10, what="redis-server answering")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _probe_plugin(directory: Path) -> Path:
    """Write the probe plugin as an installed distribution (module and dist-info) into ``directory``."""
    directory.mkdir(parents=True)
    (directory / "scaleout_probe.py").write_text(PROBE_MODULE)
    info = directory / "scaleout_probe-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: scaleout-probe\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[dcsim]\nscaleout-probe = scaleout_probe\n")
    return directory


class Api:
    """A JSON client of one server process (thread-safe: one httpx client per call site)."""

    def __init__(self, server: ServerProcess, name: str) -> None:
        self.name = name
        self.url = server.url
        self.process = server.process
        self.client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=60)

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        """Send one request and return the answer."""
        return self.client.request(method, path, json=body, params=params or None)

    def ok(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """Send one request, assert a 2xx answer, return its JSON."""
        answer = self.call(method, path, body, **params)
        assert answer.is_success, f"{method} {path} through {self.name}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None


_eventually = functools.partial(eventually, timeout=60.0, interval=0.25, what="condition")


def _stream_events(url: str) -> list[dict[str, Any]]:
    """Every event on the test's stream, read straight from Redis."""
    client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
    try:
        return [json.loads(fields["event"]) for _, fields in client.xrange(STREAM, "-", "+")]
    finally:
        client.close()


def _handled(log_path: Path) -> list[dict[str, Any]]:
    if not log_path.exists():
        return []
    return [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]


class WsCollector:
    """A ``/ws`` client in a thread, keeping every event it is sent."""

    def __init__(self, api: Api, token: str, types: str) -> None:
        from websockets.sync.client import connect

        url = api.url.replace("http://", "ws://") + f"/ws?types={types}"
        self.socket = connect(url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10)
        self.events: list[dict[str, Any]] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with contextlib.suppress(Exception):
            while True:
                self.events.append(json.loads(self.socket.recv()))

    def close(self) -> None:
        """Close the socket and wait for the reader."""
        self.socket.close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, database_url: str, redis_url: str) -> Iterator[dict[str, Any]]:
    """Servers A and B and workers w1, w2 on one PostgreSQL and one Redis, shared by the
    module's tests (the last one kills B)."""
    tmp_path = tmp_path_factory.mktemp("cluster")
    probe_log = tmp_path / "probe.log"
    env = {
        "DCSIM_DATABASE_URL": database_url,
        "DCSIM_BUS_DRIVER": "redis",
        "DCSIM_REDIS_URL": redis_url,
        "DCSIM_BUS_STREAM": STREAM,
        "DCSIM_BUS_REDELIVERY_SECONDS": "2",
        "DCSIM_RATE_LIMIT": "1000000/minute",
        "DCSIM_PLUGINS__ANSIBLE__WORKER": "false",
        "DCSIM_PLUGINS__ANSIBLE__LEASE_SECONDS": "5",
    }
    server_env = env | {
        "PYTHONPATH": str(_probe_plugin(tmp_path / "probe")),
        "SCALEOUT_PROBE_LOG": str(probe_log),
    }
    workers: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as stack:
        # A seeds the empty store; B starts on the seeded one.
        a = stack.enter_context(run_server(tmp_path / "a", env=server_env, log_path=tmp_path / "a.log"))
        (tmp_path / "b").mkdir()
        shutil.copy(a.data_dir / "admin-token", tmp_path / "b" / "admin-token")
        b = stack.enter_context(run_server(tmp_path / "b", env=server_env, log_path=tmp_path / "b.log"))
        for name in ("w1", "w2"):
            child_env = {k: v for k, v in os.environ.items() if not k.startswith("DCSIM_")}
            child_env |= env | {"DCSIM_DATA_DIR": str(tmp_path / name)}
            command = [sys.executable, "-c", "from dcsim.cli import main; main()", "ansible", "worker", "--name", name]
            log = stack.enter_context((tmp_path / f"{name}.log").open("ab"))
            workers.append(subprocess.Popen(command, env=child_env, stdout=log, stderr=subprocess.STDOUT))
        try:
            yield {
                "a": Api(a, "A"),
                "b": Api(b, "B"),
                "token": a.token,
                "redis_url": redis_url,
                "probe_log": probe_log,
                "b_process": b.process,
            }
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.terminate()
                    worker.wait(timeout=30)


def _vm(name: str) -> dict[str, Any]:
    return {"name": name, "cluster": "cluster-01", "cpu": 1, "memory_mb": 256, "disk_gb": 1, "power_on": False}


def _run(api: Api) -> dict[str, Any]:
    body = {"playbook": "hello-world", "extra_vars": {"target": "localhost"}}
    return dict(api.ok("POST", "/ansible/run", body))


def test_two_processes_and_two_workers_act_as_one_server(cluster: dict[str, Any]) -> None:
    a, b = cluster["a"], cluster["b"]
    both = (a, b)
    ws = WsCollector(a, cluster["token"], "incident.created,vm.created")
    # A P1 incident's 2-second response target runs out during the burst.
    p1 = a.ok("POST", "/itsm/incidents", {"title": "scale-out SLA probe", "priority": "P1"})
    writes = 1
    pool = ThreadPoolExecutor(8)

    def spread(calls: list[Callable[[Api], Any]]) -> list[Any]:
        """Run each call through A or B in turn, eight at a time."""
        nonlocal writes
        writes += len(calls)
        futures = [pool.submit(call, both[n % 2]) for n, call in enumerate(calls)]
        return [future.result() for future in futures]

    def other(api: Api) -> Api:
        return b if api is a else a

    # Round 1 (80 writes): creates of every kind through both.
    vm_names = [f"so-vm-{n:03d}" for n in range(30)]
    created = spread(
        [(lambda api, name=name: (api, api.ok("POST", "/sim/vms", _vm(name)))) for name in vm_names]
        + [
            (lambda api, n=n: (api, api.ok("POST", "/itsm/incidents", {"title": f"scale-out incident {n}"})))
            for n in range(20)
        ]
        + [
            (lambda api, n=n: (api, api.ok("POST", "/cmdb/cis", {"type": "application", "name": f"so-app-{n:02d}"})))
            for n in range(20)
        ]
        + [(lambda api: (api, _run(api))) for _ in range(10)]
    )
    vms = {answer["name"]: (api, answer) for api, answer in created[:30]}
    incidents = [(api, answer) for api, answer in created[30:50]]
    cis = [(api, answer) for api, answer in created[50:70]]
    runs = [(api, answer) for api, answer in created[70:80]]

    # Round 2 (80 writes): each record changed through the process that did NOT create it,
    # at once: a write through one process is visible to the next write through the other.
    spread_by_owner: list[Callable[[Api], Any]] = []
    for name, (owner, _) in vms.items():
        spread_by_owner.append(
            lambda _, name=name, owner=owner: other(owner).ok("POST", f"/sim/vms/{name}/power", {"action": "on"})
        )
    for owner, incident in incidents:
        number = incident["number"]
        spread_by_owner.append(
            lambda _, number=number, owner=owner: other(owner).ok("POST", f"/itsm/incidents/{number}/start")
        )
    for owner, ci in cis:
        ci_id = ci["id"]
        spread_by_owner.append(
            lambda _, ci_id=ci_id, owner=owner: other(owner).ok(
                "PATCH", f"/cmdb/cis/{ci_id}", {"tags": {"env": "scaleout"}}
            )
        )
    spread_by_owner += [(lambda api: _run(api)) for _ in range(10)]
    spread(spread_by_owner)

    # Round 3 (40 writes): power off 10 VMs, delete 10 others, resolve 20 incidents.
    names = list(vms)
    deleted = names[20:30]
    round3: list[Callable[[Api], Any]] = [
        (lambda api, name=name: api.ok("POST", f"/sim/vms/{name}/power", {"action": "off"})) for name in names[:10]
    ]
    round3 += [(lambda api, name=name: api.ok("DELETE", f"/sim/vms/{name}")) for name in deleted]
    round3 += [
        (
            lambda api, number=incident["number"]: api.ok(
                "POST", f"/itsm/incidents/{number}/resolve", {"resolution_notes": "done"}
            )
        )
        for _, incident in incidents
    ]
    spread(round3)
    assert writes >= 201

    # Two processes racing for one name or one power transition: exactly one wins.
    for n in range(5):
        name = f"so-race-{n}"
        answers = spread([lambda api, name=name: api.call("POST", "/sim/vms", _vm(name))] * 2)
        assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
        answers = spread([lambda api, name=name: api.call("POST", f"/sim/vms/{name}/power", {"action": "on"})] * 2)
        assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]

    # Every VM is visible through both, with the same placement, and no two share an address.
    alive = set(names) - set(deleted) | {f"so-race-{n}" for n in range(5)}
    for api in both:
        listed = api.ok("GET", "/sim/vms", limit=1000)["items"]
        mine = {vm["name"]: vm for vm in listed if vm["name"].startswith("so-")}
        assert set(mine) == alive, api.name
        assert all(mine[name]["power_state"] == "off" for name in names[:10])
        assert all(mine[name]["power_state"] == "on" for name in names[10:20])
        addresses = [nic["ip"] for vm in listed for nic in vm["nics"] if nic["ip"]]
        assert len(addresses) == len(set(addresses)), "two VMs got one address"
        for name in deleted:
            assert api.call("GET", f"/sim/vms/{name}").status_code == 404
    assert a.ok("GET", "/sim/vms", limit=1000) == b.ok("GET", "/sim/vms", limit=1000)

    # Every incident through both, numbers unique, states agreed.
    numbers = [p1["number"]] + [incident["number"] for _, incident in incidents]
    assert len(set(numbers)) == len(numbers), numbers
    for api in both:
        listed = {i["number"]: i for i in api.ok("GET", "/itsm/incidents", limit=1000)["items"]}
        assert set(numbers) <= set(listed), api.name
        assert all(listed[number]["state"] == "resolved" for number in numbers[1:]), api.name

    # Every CI through both, with the edit made through the other process.
    for api in both:
        for _, ci in cis:
            assert api.ok("GET", f"/cmdb/cis/{ci['id']}")["tags"] == {"env": "scaleout"}, api.name
    # The CMDB (a consumer group of its own) followed the simulation: a CI per VM alive.
    for api in both:
        _eventually(
            lambda api=api: alive <= {ci["name"] for ci in api.ok("GET", "/cmdb/cis", type="vm", limit=1000)["items"]},
            what=f"a CI for every VM through {api.name}",
        )

    # Runs queued through both ran once each, on the two workers.
    run_ids = [run["id"] for _, run in runs]
    finished = []
    for run_id in run_ids:
        finished.append(_eventually(lambda run_id=run_id: _final(a, run_id), timeout=180, what=f"run {run_id} over"))
        assert b.ok("GET", f"/ansible/runs/{run_id}")["status"] == finished[-1]["status"]
    assert [run["status"] for run in finished] == ["successful"] * len(run_ids), finished

    # The SLA breach fired once, though both processes check SLAs.
    def breaches() -> list[dict[str, Any]]:
        return [
            e
            for e in _stream_events(cluster["redis_url"])
            if e["type"] == "incident.sla_breached" and e["data"]["incident"]["number"] == p1["number"]
        ]

    _eventually(breaches, timeout=60, what="the P1 incident's response breach")
    time.sleep(3)  # a second firing, if any, would come now
    assert [e["data"]["kind"] for e in breaches()] == ["response"]
    assert a.ok("GET", f"/itsm/incidents/{p1['number']}")["sla"]["breached"] == ["response"]

    # Each event on the stream was handled once by the probe's group, across both processes.
    events = _eventually(lambda: _all_handled(cluster), what="every event handled by the probe group")
    counts = Counter(line["id"] for line in _handled(cluster["probe_log"]))
    assert all(counts[event["id"]] == 1 for event in events), {k: v for k, v in counts.items() if v > 1}
    assert len({line["pid"] for line in _handled(cluster["probe_log"])}) == 2, "both processes share the group"

    # /ws on A streamed the creates made through B.
    through_b = {answer["number"] for api, answer in incidents if api is b}
    _eventually(
        lambda: through_b <= {e["data"]["incident"]["number"] for e in ws.events if e["type"] == "incident.created"},
        what="/ws on A streaming incidents created through B",
    )
    made_on_b = {name for name, (api, _) in vms.items() if api is b}
    assert made_on_b <= {e["data"]["vm"]["name"] for e in ws.events if e["type"] == "vm.created"}
    ws.close()
    pool.shutdown()


def _final(api: Api, run_id: str) -> dict[str, Any] | None:
    run = api.ok("GET", f"/ansible/runs/{run_id}")
    return dict(run) if run["status"] in {"successful", "failed", "canceled", "timeout"} else None


def _all_handled(cluster: dict[str, Any]) -> list[dict[str, Any]] | None:
    events = _stream_events(cluster["redis_url"])
    handled = {line["id"] for line in _handled(cluster["probe_log"])}
    return events if events and all(event["id"] in handled for event in events) else None


def test_a_process_killed_mid_burst_loses_nothing_acknowledged(cluster: dict[str, Any]) -> None:
    a, b = cluster["a"], cluster["b"]
    victim: subprocess.Popen[bytes] = cluster["b_process"]
    acknowledged: dict[str, tuple[str, str]] = {}  # name -> (kind, process)
    lock = threading.Lock()
    counter = itertools.count()
    stop = threading.Event()

    def writer(api: Api) -> None:
        while not stop.is_set():
            n = next(counter)
            kind = "vm" if n % 2 else "incident"
            name = f"kill-{kind}-{n:04d}"
            try:
                if kind == "vm":
                    answer = api.call("POST", "/sim/vms", _vm(name))
                else:
                    answer = api.call("POST", "/itsm/incidents", {"title": name})
            except httpx.HTTPError:
                continue  # no answer: not acknowledged
            if answer.is_success:
                key = name if kind == "vm" else answer.json()["number"]
                with lock:
                    acknowledged[key] = (kind, api.name)
            if api is b and victim.poll() is not None:
                return

    threads = [threading.Thread(target=writer, args=(api,)) for api in (a, a, b, b, b, b)]
    for thread in threads:
        thread.start()
    _eventually(lambda: sum(1 for _, p in acknowledged.values() if p == "B") >= 40, what="40 writes through B")
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    time.sleep(1)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    through_b = [key for key, (_, process) in acknowledged.items() if process == "B"]
    assert through_b, "B acknowledged writes before it died"

    # Every acknowledged write is in the store, read through the survivor.
    vms = {vm["name"] for vm in a.ok("GET", "/sim/vms", limit=1000)["items"]}
    incidents = {i["number"] for i in a.ok("GET", "/itsm/incidents", limit=1000)["items"]}
    for key, (kind, process) in acknowledged.items():
        assert key in (vms if kind == "vm" else incidents), f"{kind} {key} acknowledged by {process} is lost"

    # ...and its event reaches the stream (A's relay takes the lease B held) and the probe group
    # (deliveries B took and never acknowledged are redelivered to A).
    def delivered() -> bool:
        events = _stream_events(cluster["redis_url"])
        created_vms = {e["data"]["vm"]["name"] for e in events if e["type"] == "vm.created"}
        created_incidents = {e["data"]["incident"]["number"] for e in events if e["type"] == "incident.created"}
        return all(
            key in (created_vms if kind == "vm" else created_incidents) for key, (kind, _) in acknowledged.items()
        )

    _eventually(delivered, timeout=90, what="an event on the stream for every acknowledged write")
    _eventually(lambda: _all_handled(cluster), timeout=90, what="every event handled by the probe group")
    # At least once: only deliveries the killed process had taken may have been handled twice.
    handled = _handled(cluster["probe_log"])
    survivors = Counter(line["id"] for line in handled if line["pid"] != victim.pid)
    assert all(count == 1 for count in survivors.values()), {k: v for k, v in survivors.items() if v > 1}
