"""The NetBox anchor of bench/run (``--netbox``): a real NetBox loaded with the same number
of VMs as the dc-sim estate, and the time to page through them over its REST API.

NetBox comes up as the NetBox tests bring it up (``tests/netbox_support.running_netbox``:
a copy of the template database that ``scripts/netbox.sh`` migrated, a Redis of its own,
free loopback ports), so ``scripts/netbox.sh`` (or ``tox -e netbox``) must have run once.
The VMs are created with bulk POSTs of 500 into one cluster; timed are the paging and
``ansible-inventory --list`` through the ``netbox.netbox.nb_inventory`` plugin (the
``ansible`` package's collection, which needs ``pytz`` installed) against that NetBox.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from common import progress

REPO = Path(__file__).resolve().parents[1]
BATCH = 500
PAGE = 1000


def netbox_seconds(vms: int, work: Path) -> tuple[float, float]:
    """Seconds to GET every VM of a NetBox holding ``vms`` VMs, ``PAGE`` per request, and
    seconds of ``ansible-inventory --list`` through ``nb_inventory`` against it."""
    sys.path.insert(0, str(REPO / "tests"))
    from netbox_support import running_netbox

    with running_netbox(work / "netbox", startup_timeout=300) as netbox:
        call = _caller(netbox.url, netbox.headers)
        cluster_type = call("POST", "/api/virtualization/cluster-types/", {"name": "bench", "slug": "bench"})
        cluster = call("POST", "/api/virtualization/clusters/", {"name": "bench", "type": cluster_type["id"]})
        progress(f"netbox: creating {vms} VMs")
        for start in range(0, vms, BATCH):
            batch = [{"name": f"vm-{n:05d}", "cluster": cluster["id"], "status": "active"}
                     for n in range(start + 1, min(vms, start + BATCH) + 1)]  # fmt: skip
            call("POST", "/api/virtualization/virtual-machines/", batch)
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


def _caller(url: str, headers: dict[str, str]) -> Any:
    def call(method: str, path: str, body: object) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url + path, data=data, method=method,
                                         headers=headers | {"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())

    return call
