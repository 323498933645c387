"""``dcsim seed --replace`` on the store of a running server (SPEC-018, "The world"): the
server sees the new world and keeps writing, because the seed moves the world sequence on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from conftest import client, postgres_schema

from dcsim.testing import eventually, run_server

SEED = [sys.executable, "-c", "from dcsim.cli import main; main()", "seed"]


def _vm_names(api: httpx.Client) -> set[str]:
    response = api.get("/sim/vms", params={"limit": 500})
    response.raise_for_status()
    return {vm["name"] for vm in response.json()["items"]}


def test_a_seed_replacing_the_world_is_seen_by_the_running_server(tmp_path: Path) -> None:
    with (
        postgres_schema() as database_url,
        run_server(tmp_path / "data", {"DCSIM_DATABASE_URL": database_url}) as server,
    ):
        api = client(server)
        assert "vm-001" in _vm_names(api), "the server seeded the default topology"
        # A write first, so that the server's world sequence is past zero.
        created = {
            "name": "before-seed",
            "cluster": "cluster-01",
            "cpu": 1,
            "memory_mb": 256,
            "disk_gb": 1,
            "power_on": False,
        }
        assert api.post("/sim/vms", json=created).status_code == 201

        env = {k: v for k, v in os.environ.items() if not k.startswith("DCSIM_")}
        env |= {"DCSIM_DATA_DIR": str(tmp_path / "seeder"), "DCSIM_DATABASE_URL": database_url}
        command = [*SEED, "--replace", "--seed", "7", "--clusters", "1", "--hosts", "2", "--vms", "5"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout + done.stderr

        # /sim reads are fresh: the first one after the seed already answers the new world.
        names = _vm_names(api)
        assert len(names) == 5 and not names & {"vm-001", "before-seed"}, names
        assert "cluster-01-01" in {c["name"] for c in api.get("/sim/clusters").json()["items"]}

        # Writes start from the new world (and the sequence the seed left).
        after = created | {"name": "after-seed", "cluster": "cluster-01-01"}
        response = api.post("/sim/vms", json=after)
        assert response.status_code == 201, response.text
        assert eventually(lambda: "after-seed" in _vm_names(api), what="the VM created after the seed")
