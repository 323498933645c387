"""A run whose request was lost (taken off the bus and never executed) is asked for again
after requeue_seconds, once, and then runs."""

from __future__ import annotations

from typing import Any

from conftest import wait_run

from dcsim_ansible.settings import load_ansible_settings
from dcsim_ansible.worker import GROUP, Worker


def test_a_lost_request_is_asked_for_again_and_runs(make_client: Any, ansible_settings: dict[str, Any]) -> None:
    settings = ansible_settings | {"worker": False, "lease_seconds": 1, "requeue_seconds": 2}
    client = make_client(plugins={"ansible": settings})
    run_id = client.post("/ansible/run", json={"playbook": "local-echo"}).json()["id"]
    client.call(client.sim.relay.drain)
    bus = client.sim.bus

    async def lose() -> list[str]:
        deliveries = await bus.read(GROUP, "lost-worker", count=100, block_seconds=2)
        for delivery in deliveries:
            await bus.ack(GROUP, delivery.message_id)
        return [d.event.data["run_id"] for d in deliveries if d.event.type == "ansible.run.requested"]

    assert client.call(lose) == [run_id]
    worker = Worker(client.sim, load_ansible_settings(settings), None, name="late")
    client.call(worker.start)
    try:
        run = wait_run(client, run_id, timeout=60)
    finally:
        client.call(worker.stop)
    assert run["status"] == "successful" and run["worker"] == "late"
    assert run["requeued_at"] is not None
    client.call(client.sim.relay.drain)
    requested = [e for e in client.get("/events?limit=1000").json()["items"] if e["type"] == "ansible.run.requested"]
    assert len(requested) == 2
