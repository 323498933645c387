"""The runner's queue depth on /metrics (dcsim_ansible.metrics)."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families


def runner_series(client: Any) -> dict[str, float]:
    text = client.get("/metrics").text
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("dcsim_ansible_")
    }


def test_queued_runs_without_a_worker_are_the_queue_depth(make_client: Any, ansible_settings: dict[str, Any]) -> None:
    # No worker in this process: accepted runs wait in the queue.
    client = make_client(plugins={"ansible": ansible_settings | {"worker": False}})
    assert runner_series(client) == {"dcsim_ansible_queued_runs": 0, "dcsim_ansible_running_runs": 0}

    runs = [
        client.post("/ansible/run", json={"playbook": "local-sleep", "extra_vars": {"seconds": 1}}) for _ in range(3)
    ]
    assert [r.status_code for r in runs] == [202] * 3, [r.text for r in runs]
    assert runner_series(client)["dcsim_ansible_queued_runs"] == 3

    assert client.post(f"/ansible/runs/{runs[0].json()['id']}/cancel").status_code == 202
    assert runner_series(client) == {"dcsim_ansible_queued_runs": 2, "dcsim_ansible_running_runs": 0}
