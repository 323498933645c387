"""The NetBox anchor of bench/run (``--netbox``): a real NetBox loaded with the same number
of VMs as the dc-sim estate, and the time to page through them over its REST API.

Set up from a fresh machine by the bench itself, idempotently (``prepare``):
``scripts/netbox.sh`` (NetBox in its Python 3.12 venv and the migrated template database:
minutes the first time, a second afterwards), and ``pytz`` in this Python's environment,
which ``netbox.netbox.nb_inventory`` refuses to run without (the ``ansible`` package
does not depend on it).

NetBox comes up as the NetBox tests bring it up (``tests/netbox_support``: a copy of a
database, a Redis of its own, free loopback ports). Its VMs are created through its REST
API, ``BATCH`` per bulk POST, ``IN_FLIGHT`` POSTs at a time spread over ``WORKERS`` NetBox
processes (one process is bound by its GIL). The loaded database is kept as
``netbox_bench_<vms>`` (its comment names the template it grew from), so the next run
copies it in seconds instead of loading again; ``--netbox-reload`` (``reload=True``)
loads afresh. Timed are the paging and ``ansible-inventory --list`` through the
``netbox.netbox.nb_inventory`` plugin against that NetBox.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from common import progress

REPO = Path(__file__).resolve().parents[1]
BATCH = 1000
IN_FLIGHT = 4
WORKERS = 2
PAGE = 1000
KEPT_PREFIX = "netbox_bench_"


def prepare() -> None:
    """What ``--netbox`` needs, installed when missing: NetBox and its template
    (``scripts/netbox.sh``), and ``pytz`` for ``nb_inventory`` in this environment."""
    progress("netbox: scripts/netbox.sh (installs and migrates once; seconds when ready)")
    subprocess.run([str(REPO / "scripts" / "netbox.sh")], check=True)
    if importlib.util.find_spec("pytz") is None:
        progress("netbox: installing pytz for nb_inventory")
        # uv on PATH, next to this Python, or where scripts/test installs it; else pip.
        candidates = [shutil.which("uv"), Path(sys.executable).with_name("uv"), REPO / ".venv-tools/venv/bin/uv"]
        uv = next((str(c) for c in candidates if c and Path(c).exists()), None)
        if uv is not None:
            subprocess.run([uv, "pip", "install", "--quiet", "--python", sys.executable, "pytz"], check=True)
        else:
            if importlib.util.find_spec("pip") is None:  # a venv made by uv has no pip
                subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True)
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "pytz"], check=True)


def netbox_seconds(vms: int, work: Path, *, reload: bool = False) -> tuple[float, float]:
    """Seconds to GET every VM of a NetBox holding ``vms`` VMs, ``PAGE`` per request, and
    seconds of ``ansible-inventory --list`` through ``nb_inventory`` against it."""
    prepare()
    sys.path.insert(0, str(REPO / "tests"))
    from netbox_support import NetboxInstall, NetboxServer, _redis

    install = NetboxInstall.load()
    kept = f"{KEPT_PREFIX}{vms}"
    with ExitStack() as stack:
        connection = stack.enter_context(install.connect())
        marker = f"dc-sim bench: {vms} VMs on {_comment(connection, install.template_database)}"
        loaded = not reload and _comment(connection, kept) == marker
        source = kept if loaded else install.template_database
        progress(f"netbox: copying {source}")
        database = stack.enter_context(_database_copy(connection, source))
        redis_port = stack.enter_context(_redis(work))
        servers = [
            NetboxServer(install, database=database, redis_port=redis_port, tmp_dir=work, startup_timeout=300)
            for _ in range(1 if loaded else WORKERS)
        ]
        for server in servers:
            stack.callback(server.close)
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(lambda server: server.start(), servers))
        netbox = servers[0]
        if not loaded:
            _load(vms, [_caller(server.url, server.headers) for server in servers])
            for server in servers:
                server.stop()  # the processes holding NetBox loaded hold no connection
            _keep(connection, database, kept, marker)
            netbox.start()
        call = _caller(netbox.url, netbox.headers)
        progress("netbox: paging through the VMs")
        started = time.perf_counter()
        seen = 0
        path: str | None = f"/api/virtualization/virtual-machines/?limit={PAGE}"
        while path:
            page = call("GET", path, None)
            seen += len(page["results"])
            path = page["next"].removeprefix(netbox.url) if page["next"] else None
        seconds = time.perf_counter() - started
        if seen != vms:
            raise SystemExit(f"netbox listed {seen} VMs, expected {vms}")
        config = work / "netbox.nb_inventory.yml"
        config.write_text(json.dumps({"plugin": "netbox.netbox.nb_inventory", "api_endpoint": netbox.url,
                                      "token": netbox.token, "validate_certs": False}))  # fmt: skip
        progress("netbox: ansible-inventory --list through nb_inventory")
        listed = inventory_seconds(["-i", str(config)], os.environ.copy())
        if sum(name.startswith("vm-") for name in listed[1]) != vms:
            raise SystemExit(f"nb_inventory listed {len(listed[1])} hosts, expected {vms} VMs")
        return seconds, listed[0]


def inventory_seconds(source: list[str], env: dict[str, str]) -> tuple[float, set[str]]:
    """Seconds of ``ansible-inventory <source> --list`` and the hosts it listed."""
    command = [str(Path(sys.executable).with_name("ansible-inventory")), *source, "--list"]
    started = time.perf_counter()
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=1800).stdout
    seconds = time.perf_counter() - started
    return seconds, set(json.loads(output).get("_meta", {}).get("hostvars", {}))


def floor_seconds(url: str, token: str, work: Path) -> float:
    """Seconds of ``ansible-inventory --list`` over dc-sim's inventory with every host's
    vars cut to ``ansible_host`` and ``ansible_port`` (same hosts, same groups), from a
    script that prints a file: what Ansible itself spends per host, whatever the source."""
    request = urllib.request.Request(url + "/cmdb/ansible/inventory", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=600) as response:
        inventory = json.loads(response.read())
    hostvars = inventory["_meta"]["hostvars"]
    for name, variables in hostvars.items():
        hostvars[name] = {"ansible_host": variables["ansible_host"], "ansible_port": variables["ansible_port"]}
    data = work / "floor-inventory.json"
    data.write_text(json.dumps(inventory))
    script = work / "floor-inventory"
    script.write_text(f"#!/bin/sh\nexec cat {data}\n")
    script.chmod(0o755)
    progress("ansible-inventory --list over the same hosts and groups, two vars each (the floor)")
    return inventory_seconds(["-i", str(script)], os.environ.copy())[0]


def _load(vms: int, callers: list[Any]) -> None:
    """``vms`` VMs in one cluster, through bulk POSTs spread over the NetBox processes."""
    call = callers[0]
    cluster_type = call("POST", "/api/virtualization/cluster-types/", {"name": "bench", "slug": "bench"})
    cluster = call("POST", "/api/virtualization/clusters/", {"name": "bench", "type": cluster_type["id"]})
    batches = [
        [{"name": f"vm-{n:05d}", "cluster": cluster["id"], "status": "active"}
         for n in range(start + 1, min(vms, start + BATCH) + 1)]
        for start in range(0, vms, BATCH)
    ]  # fmt: skip
    started = time.perf_counter()
    progress(f"netbox: creating {vms} VMs, {BATCH} a POST, {IN_FLIGHT} at a time over {len(callers)} processes")

    def post(index: int) -> None:
        callers[index % len(callers)]("POST", "/api/virtualization/virtual-machines/", batches[index])
        progress(f"netbox: batch {index + 1}/{len(batches)} created ({time.perf_counter() - started:.0f} s)")

    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        list(pool.map(post, range(len(batches))))
    progress(f"netbox: {vms} VMs created in {time.perf_counter() - started:.1f} s")


def _comment(connection: Any, database: str) -> str | None:
    row = connection.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (database,)
    ).fetchone()
    return None if row is None else str(row[0])


@contextmanager
def _database_copy(connection: Any, source: str) -> Iterator[str]:
    """A copy of ``source``, named as the NetBox tests name theirs (``scripts/netbox.sh``
    drops those a dead process left behind); dropped afterwards."""
    from psycopg import sql

    name = f"netbox_test_{os.getpid()}_{os.urandom(4).hex()}"
    connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(source)))
    try:
        yield name
    finally:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _keep(connection: Any, database: str, kept: str, marker: str) -> None:
    """``database`` (no one connected) copied to ``kept``, marked; the comment goes last:
    a copy without it is loaded again next time."""
    from psycopg import sql

    progress(f"netbox: keeping the loaded database as {kept} for the next run")
    connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(kept)))
    connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(kept), sql.Identifier(database)))
    connection.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(kept), sql.Literal(marker)))


def _caller(url: str, headers: dict[str, str]) -> Any:
    def call(method: str, path: str, body: object) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url + path, data=data, method=method,
                                         headers=headers | {"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=1800) as response:
            return json.loads(response.read())

    return call
