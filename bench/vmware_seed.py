"""Seed generated estates into dc-sim's vCenter simulator and time it.

    python bench/vmware_seed.py [--vms 100 1000] [--hosts 8] [--clusters 2]

For each size: ``dcsim seed`` generates the estate into a fresh data directory (core's
generated topology; dcsim-vmware adds DRS, pools, port groups and dvSwitches), a fresh
simulator (``.venv-tools/bin/dcsim-vcsim``, or ``$DCSIM_VCSIM``; ``scripts/vcsim.sh``
builds it) is started, and the reconciler seeds it from the world over plain HTTP, as
the plugin does at start and after a restart. Prints one line per size and the largest.

Measured on the project's 2-core machine (2026-11-30, shared with other jobs; default
2 clusters x 8 hosts): 100 VMs in 2.5 s, 500 VMs in 16.2 s, and the largest, 2,000 VMs
on 16 hosts (4,046 vCenter changes) in 53.7 s, about 37 VMs a second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VCSIM = Path(os.environ.get("DCSIM_VCSIM", REPO / ".venv-tools" / "bin" / "dcsim-vcsim"))


async def seed_once(vms: int, hosts: int, clusters: int) -> dict[str, float | int]:
    import attrs

    import dcsim
    from dcsim.settings import load_settings
    from dcsim_vmware.certificate import ensure_certificate
    from dcsim_vmware.desired import read_inventory
    from dcsim_vmware.inventory import Reconciler
    from dcsim_vmware.vcenter import Echoes, connect, disconnect

    work = Path(tempfile.mkdtemp(prefix="vmware-seed-"))
    data = work / "data"
    subprocess.run(
        [sys.executable, "-c", "from dcsim.cli import main; main()", "--data-dir", str(data), "seed",
         "--vms", str(vms), "--hosts", str(hosts), "--clusters", str(clusters)],
        check=True, capture_output=True,
    )  # fmt: skip
    settings = attrs.evolve(load_settings(environ={}, data_dir=data), plugins={"vmware": {"vcenter": "off"}})
    cert, key = ensure_certificate(work / "tls")
    process = subprocess.Popen(
        [str(VCSIM), f"-tlscert={cert}", f"-tlskey={key}", "-username=u", "-password=p"], stdout=subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        url = json.loads(process.stdout.readline())["http"]
        async with dcsim.open(settings=settings) as instance:
            inventory = read_inventory(instance.sim.world)
        si = connect(url, "u", "p")
        started = time.monotonic()
        actions = Reconciler(si, Echoes(), {}, {}, work / "datastores").apply(inventory)
        seconds = time.monotonic() - started
        disconnect(si)
    finally:
        process.terminate()
        process.wait(10)
    return {"vms": len(inventory.vms), "hosts": len(inventory.hosts), "actions": len(actions), "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--hosts", type=int, default=8, help="hosts per cluster")
    parser.add_argument("--clusters", type=int, default=2)
    args = parser.parse_args()
    results = []
    for vms in args.vms:
        result = asyncio.run(seed_once(vms, args.hosts, args.clusters))
        results.append(result)
        print(f"{result['vms']:>6} VMs, {result['hosts']:>4} hosts: seeded in {result['seconds']:.1f} s "
              f"({result['vms'] / result['seconds']:.0f} VMs/s, {result['actions']} vCenter changes)", flush=True)  # fmt: skip
    largest = max(results, key=lambda r: r["vms"])
    print(f"largest: {largest['vms']} VMs on {largest['hosts']} hosts in {largest['seconds']:.1f} s")


if __name__ == "__main__":
    main()
