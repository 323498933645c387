"""patch.scheduled starts a patch run on the scheduled targets; its result carries the
event's correlation id (the drift/patch issue only publishes the event)."""

from __future__ import annotations

import json
import time
from typing import Any

from dcsim import hookimpl


class DeclarePatchScheduled:
    """Declares patch.scheduled when no installed plugin does (the patch module owns it)."""

    @hookimpl
    def dcsim_register_event_types(self, registry: Any) -> None:
        if "patch.scheduled" not in registry:
            registry.add("patch.scheduled", description="a patch run is due", data={"targets": "nodes or CI ids"})


def test_patch_scheduled_runs_patch_ubuntu_on_the_targets(make_client, ansible_settings):
    client = make_client(DeclarePatchScheduled(), plugins={"ansible": ansible_settings})
    node = client.get("/ansible/inventory").json()["ubuntu_nodes"]["hosts"][0]
    packages_file = client.sim.settings.data_dir / "nodes" / node / "packages.json"
    package = sorted(json.loads(packages_file.read_text()))[0]
    data = {
        "targets": [node],
        "os": "ubuntu22",
        "extra_vars": {
            "patch_advisories": [{"id": "USN-9999-1", "package": package, "fixed_version": "999.0", "severity": "high"}]
        },
        "correlation_id": "patch-window-42",
    }
    assert client.post("/events", json={"type": "patch.scheduled", "data": data}).status_code in (200, 201, 202)
    deadline = time.monotonic() + 180
    done = None
    while done is None:
        assert time.monotonic() < deadline, "no ansible.run.completed for the patch run"
        events = client.get("/events?limit=1000").json()["items"]
        done = next(
            (
                e
                for e in events
                if e["type"] == "ansible.run.completed" and e["data"]["correlation_id"] == "patch-window-42"
            ),
            None,
        )
        time.sleep(0.3)
    run = client.get(f"/ansible/runs/{done['data']['run_id']}").json()
    assert done["data"]["status"] == "successful", client.get(f"/ansible/runs/{run['id']}/stdout").json()["stdout"]
    assert run["playbook"] == "patch-ubuntu" and run["trigger"] == "patch.scheduled" and run["limit"] == node
    assert json.loads(packages_file.read_text())[package] == "999.0"
