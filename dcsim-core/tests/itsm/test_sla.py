"""SLA timers: breaches published once per kind, paused on hold, targets from the hook."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from dcsim import hookimpl
from dcsim.itsm.model import IncidentRequest
from dcsim.itsm.sla import SlaTarget

from .conftest import FakeClock, events


def _check(client, number):
    """Run the SLA check now; the breaches it found for ``number`` (the instance is shared)."""
    return [b for b in client.call(client.sim.services["itsm"].slas.check) if b.incident == number]


def _breaches(client, number):
    return [e["data"]["kind"] for e in events(client, "incident.sla_breached") if e["subject"] == f"incident/{number}"]


def test_overdue_incident_publishes_each_breach_once(shared_client, clock):
    client = shared_client
    number = client.post("/itsm/incidents", json={"title": "core switch down", "impact": 1, "urgency": 1}).json()
    number = number["number"]

    clock.advance(minutes=14)
    assert _check(client, number) == []
    clock.advance(minutes=2)
    [breach] = _check(client, number)
    assert (breach.kind, breach.priority) == ("response", "P1")
    assert (breach.target_seconds, breach.elapsed_seconds) == (900, 960)
    assert _check(client, number) == []
    client.post(f"/itsm/incidents/{number}/start")  # late: already reported, not again
    clock.advance(hours=4)
    assert [b.kind for b in _check(client, number)] == ["resolution"]
    assert _check(client, number) == []

    assert _breaches(client, number) == ["response", "resolution"]
    event = [e for e in events(client, "incident.sla_breached") if e["subject"] == f"incident/{number}"][-1]["data"]
    assert event["incident"]["sla"]["breached"] == ["response", "resolution"]
    assert event["target_seconds"] == 4 * 3600 and event["elapsed_seconds"] == 4 * 3600 + 960
    incident = client.get(f"/itsm/incidents/{number}").json()
    assert [h["comment"] for h in incident["history"] if h["action"] == "sla_breached"] == ["response", "resolution"]


def test_timers_pause_on_hold(shared_client, clock):
    client = shared_client
    created = clock.now
    number = client.post("/itsm/incidents", json={"title": "db failover", "impact": 1, "urgency": 1}).json()["number"]
    clock.advance(minutes=5)
    started = client.post(f"/itsm/incidents/{number}/start").json()
    assert started["sla"]["responded_at"] == clock.now.isoformat()
    clock.advance(minutes=55)
    held = client.post(f"/itsm/incidents/{number}/hold", json={"reason": "awaiting vendor"}).json()
    assert held["sla"]["resolution_due"] is None and held["sla"]["paused_since"] == clock.now.isoformat()
    clock.advance(hours=10)
    assert _check(client, number) == []
    resumed = client.post(f"/itsm/incidents/{number}/resume").json()
    assert resumed["sla"]["paused_seconds"] == 10 * 3600
    assert resumed["sla"]["resolution_due"] == (created + timedelta(hours=14)).isoformat()
    clock.advance(hours=2, minutes=59)
    assert _check(client, number) == []
    clock.advance(minutes=2)
    [breach] = _check(client, number)
    assert breach.kind == "resolution" and breach.elapsed_seconds == 4 * 3600 + 60


def test_a_late_transition_reports_the_breach_itself(shared_client, clock):
    client = shared_client
    number = client.post("/itsm/incidents", json={"title": "VPN down", "impact": 1, "urgency": 2}).json()["number"]
    clock.advance(hours=2)
    started = client.post(f"/itsm/incidents/{number}/start").json()
    assert started["sla"]["breached"] == ["response"]
    assert _breaches(client, number) == ["response"]
    clock.advance(hours=7)
    resolved = client.post(f"/itsm/incidents/{number}/resolve", json={"resolution_notes": "ISP fixed it"}).json()
    assert resolved["sla"]["breached"] == ["response", "resolution"]
    clock.advance(hours=1)
    reopened = client.post(f"/itsm/incidents/{number}/reopen", json={"reason": "down again"}).json()
    assert reopened["sla"]["paused_seconds"] == 3600 and reopened["state"] == "in_progress"


async def test_the_background_check_finds_breaches(make_dcsim):
    clock = FakeClock()
    sim = make_dcsim()
    itsm = sim.services["itsm"]
    itsm.clock, itsm.slas.interval = clock, 0.05
    async with sim:
        await itsm.incidents.create(IncidentRequest(title="late", impact=1, urgency=1), "test")
        clock.advance(minutes=16)
        for _ in range(100):
            if itsm.incidents.get("INC0001001").sla.breached:
                break
            await asyncio.sleep(0.02)
        assert itsm.incidents.get("INC0001001").sla.breached == ["response"]


def test_dcsim_itsm_sla_targets(make_client):
    class TightP3:
        @hookimpl
        def dcsim_itsm_sla_targets(self, priority):
            return SlaTarget(timedelta(minutes=1), timedelta(minutes=10)) if priority == "P3" else None

    client = make_client(TightP3())
    targets = client.get("/itsm/sla").json()
    assert targets["P3"] == {"response_seconds": 60, "resolution_seconds": 600}
    assert targets["P1"] == {"response_seconds": 900, "resolution_seconds": 4 * 3600}
    incident = client.post("/itsm/incidents", json={"title": "printer", "impact": 2, "urgency": 2}).json()
    assert (incident["sla"]["response_target_seconds"], incident["sla"]["resolution_target_seconds"]) == (60, 600)
