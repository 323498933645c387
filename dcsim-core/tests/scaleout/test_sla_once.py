"""An SLA breach fires once across two ``dcsim serve`` processes on one store (SPEC-018)."""

from __future__ import annotations

import time

from conftest import client

from dcsim.settings import Settings
from dcsim.store.sql import SqlStore
from dcsim.testing import ServerProcess


def test_an_sla_breach_fires_once_across_processes(
    two_servers: tuple[ServerProcess, ServerProcess], shared_env: dict[str, str]
) -> None:
    first, second = (client(s) for s in two_servers)
    number = first.post("/itsm/incidents", json={"title": "database down", "impact": 1, "urgency": 1}).json()["number"]
    # A response target of one second, written to the store as a third process would: both
    # servers learn of it through the change feed and both run SLA checks twice a second.
    store = SqlStore(Settings(database_url=shared_env["DCSIM_DATABASE_URL"]))
    try:
        document = store.get("itsm.incident", number)
        value = document.value
        value["sla"]["response_target_seconds"] = 1
        store.put("itsm.incident", number, value, expected_version=document.version)
    finally:
        store.close()

    def breaches() -> list[dict[str, object]]:
        events = first.get("/events?limit=1000").json()["items"]
        return [e for e in events if e["type"] == "incident.sla_breached" and e["subject"] == f"incident/{number}"]

    deadline = time.monotonic() + 20
    while not breaches():
        assert time.monotonic() < deadline, "the SLA breach never fired"
        time.sleep(0.2)
    # Both processes went on checking for a while: still one breach.
    time.sleep(3)

    assert [e["data"]["kind"] for e in breaches()] == ["response"]
    for http in (first, second):
        history = http.get(f"/itsm/incidents/{number}").json()["history"]
        assert [h["comment"] for h in history if h["action"] == "sla_breached"] == ["response"]
