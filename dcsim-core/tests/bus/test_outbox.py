"""The transactional outbox against a real redis-server: outages, a frozen server, kill -9.

Every test runs the host app with the redis bus on a dedicated ``redis-server`` (see
``redis_server.py``) and creates VMs through ``POST /sim/vms``.
"""

from __future__ import annotations

import functools
import json
import signal
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from redis_server import RedisServer

from dcsim.testing import DcsimClient, eventually, run_server

# The stream and groups must outlive a Redis crash, as in any deployment that keeps events.
PERSISTENT = ["--appendonly", "yes", "--appendfsync", "always"]


def _vm(name: str) -> dict[str, Any]:
    return {"name": name, "cluster": "cluster-01", "cpu": 1, "memory_mb": 512, "power_on": False}


def _published(server: RedisServer, stream: str, event_type: str) -> list[dict[str, Any]]:
    """Every event of ``event_type`` on ``stream``, read straight from Redis."""
    client = redis.Redis(port=server.port, decode_responses=True, socket_timeout=5)
    try:
        entries = client.xrange(stream, "-", "+")
    finally:
        client.close()
    events = [json.loads(fields["event"]) for _, fields in entries]
    return [event for event in events if event["type"] == event_type]


_eventually = functools.partial(eventually, timeout=60.0, interval=0.2, what="condition")


def _redis_client(make_client: Callable[..., DcsimClient], server: RedisServer, stream: str) -> DcsimClient:
    return make_client(bus_driver="redis", redis_url=server.url, bus_stream=stream, rate_limit="1000000/minute")


def test_redis_killed_during_a_burst_of_writes_loses_nothing(
    make_client: Callable[..., DcsimClient], start_redis: Callable[..., RedisServer]
) -> None:
    server = start_redis(PERSISTENT)
    stream = f"test:{uuid.uuid4().hex}"
    client = _redis_client(make_client, server, stream)
    names = [f"burst-{n:02d}" for n in range(24)]

    for n, name in enumerate(names):
        if n == 8:
            server.stop(kill=True)
        response = client.post("/sim/vms", json=_vm(name))
        assert response.status_code == 201, response.text
    assert client.sim.store.outbox_count() > 0  # the events written while Redis was away wait

    server.start()

    def delivered() -> bool:
        return {e["data"]["vm"]["name"] for e in _published(server, stream, "vm.created")} >= set(names)

    _eventually(delivered, what="every vm.created on the stream")
    _eventually(lambda: client.sim.store.outbox_count() == 0, what="an empty outbox")
    listed = [vm["name"] for vm in client.get("/sim/vms", params={"limit": 1000}).json()["items"]]
    assert sorted(n for n in listed if n.startswith("burst-")) == names  # no duplicates

    def in_cmdb() -> bool:
        cis = client.get("/cmdb/cis", params={"type": "vm", "limit": 1000}).json()["items"]
        return {ci["name"] for ci in cis} >= set(names)

    _eventually(in_cmdb, what="every VM in the CMDB")  # no POST /cmdb/sync
    cis = client.get("/cmdb/cis", params={"type": "vm", "limit": 1000}).json()["items"]
    assert sorted(ci["name"] for ci in cis if ci["name"].startswith("burst-")) == names


def test_a_redis_restarted_empty_still_gets_the_waiting_events_to_every_group(
    make_client: Callable[..., DcsimClient], start_redis: Callable[..., RedisServer]
) -> None:
    """Without persistence a restarted Redis has lost the stream and the consumer groups:
    the relay re-creates the groups before it publishes what waited."""
    server = start_redis()
    stream = f"test:{uuid.uuid4().hex}"
    client = _redis_client(make_client, server, stream)

    def cmdb_vms() -> set[str]:
        return {ci["name"] for ci in client.get("/cmdb/cis", params={"type": "vm", "limit": 1000}).json()["items"]}

    assert client.post("/sim/vms", json=_vm("before-outage")).status_code == 201
    _eventually(lambda: "before-outage" in cmdb_vms(), what="the first VM in the CMDB")
    server.stop(kill=True)
    names = {f"outage-{n}" for n in range(5)}
    for name in sorted(names):
        assert client.post("/sim/vms", json=_vm(name)).status_code == 201

    server.start()  # empty: no stream, no groups

    _eventually(lambda: cmdb_vms() >= names, what="the VMs made during the outage in the CMDB")


def test_redis_frozen_readiness_answers_fast_and_writes_go_on(
    make_client: Callable[..., DcsimClient], start_redis: Callable[..., RedisServer]
) -> None:
    server = start_redis()
    stream = f"test:{uuid.uuid4().hex}"
    client = _redis_client(make_client, server, stream)
    assert client.get("/readyz").status_code == 200
    assert server.process is not None
    server.process.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        ready = client.get("/readyz")
        elapsed = time.monotonic() - started
        # A correctness bound the issue names, not a speed target: 2 s per probe, concurrently.
        assert elapsed < 3.0, elapsed
        assert ready.status_code == 503
        checks = {check["name"]: check for check in ready.json()["checks"]}
        assert not checks["bus"]["ok"] and checks["store"]["ok"]

        for name in ("frozen-1", "frozen-2", "frozen-3"):
            assert client.post("/sim/vms", json=_vm(name)).status_code == 201
        outbox = {check["name"]: check for check in client.get("/readyz").json()["checks"]}["outbox"]
        assert outbox["ok"] and outbox["detail"].split()[0].isdigit() and int(outbox["detail"].split()[0]) >= 3
    finally:
        server.process.send_signal(signal.SIGCONT)

    def delivered() -> bool:
        names = {e["data"]["vm"]["name"] for e in _published(server, stream, "vm.created")}
        return names >= {"frozen-1", "frozen-2", "frozen-3"}

    _eventually(delivered, what="the frozen-time events on the stream")
    _eventually(lambda: client.get("/readyz").status_code == 200, what="ready again")


def _post(url: str, token: str, body: dict[str, Any]) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def test_kill_9_between_commit_and_publish_publishes_after_restart(
    tmp_path: Path, start_redis: Callable[..., RedisServer]
) -> None:
    server = start_redis()
    stream = f"test:{uuid.uuid4().hex}"
    env = {"DCSIM_BUS_DRIVER": "redis", "DCSIM_REDIS_URL": server.url, "DCSIM_BUS_STREAM": stream}
    data_dir = tmp_path / "dcsim"
    names = ["crash-1", "crash-2", "crash-3"]
    # The relay of the first process never runs: every commit is followed by a crash
    # before its events are published.
    with run_server(data_dir, env | {"DCSIM_OUTBOX_RELAY": "false"}, tmp_path / "first.log") as first:
        for name in names:
            assert _post(first.url + "/sim/vms", first.token, _vm(name)) == 201
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
    assert _published(server, stream, "vm.created") == []

    with run_server(data_dir, env, tmp_path / "second.log"):

        def delivered() -> bool:
            return {e["data"]["vm"]["name"] for e in _published(server, stream, "vm.created")} >= set(names)

        _eventually(delivered, what="the events committed before the crash on the stream")
