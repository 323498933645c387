"""ITSM's Prometheus series (dcsim.itsm.metrics): open incidents, MTTR and SLA breaches."""

from __future__ import annotations

import math

from prometheus_client.parser import text_string_to_metric_families

from .conftest import FakeClock


def samples(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = client.get("/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("dcsim_itsm_")
    }


def test_open_incidents_mttr_and_sla_breaches(make_client):
    client = make_client()
    itsm = client.sim.services["itsm"]
    itsm.clock = clock = FakeClock()

    quiet = samples(client)
    assert {quiet["dcsim_itsm_open_incidents", (("priority", p),)] for p in ("P1", "P2", "P3", "P4")} == {0.0}
    assert math.isnan(quiet["dcsim_itsm_mttr_seconds", ()])
    assert quiet["dcsim_itsm_sla_breaches_total", (("kind", "response"), ("priority", "P1"))] == 0.0

    def incident(impact: int, urgency: int) -> str:
        body = {"title": f"impact {impact} urgency {urgency}", "impact": impact, "urgency": urgency}
        return str(client.post("/itsm/incidents", json=body).json()["number"])

    p1, p1_late, p3 = incident(1, 1), incident(1, 1), incident(2, 2)
    clock.advance(minutes=10)
    client.post(f"/itsm/incidents/{p1}/resolve", json={"resolution_notes": "fixed"})
    clock.advance(minutes=10)
    client.post(f"/itsm/incidents/{p3}/resolve", json={"resolution_notes": "fixed"})
    # p1_late has waited 20 minutes: past P1's 15-minute response target.
    client.call(itsm.slas.check)

    now = samples(client)
    assert now["dcsim_itsm_open_incidents", (("priority", "P1"),)] == 1.0
    assert now["dcsim_itsm_open_incidents", (("priority", "P3"),)] == 0.0
    assert now["dcsim_itsm_mttr_seconds", ()] == (10 * 60 + 20 * 60) / 2
    assert now["dcsim_itsm_sla_breaches_total", (("kind", "response"), ("priority", "P1"))] == 1.0
    assert now["dcsim_itsm_sla_breaches_total", (("kind", "resolution"), ("priority", "P1"))] == 0.0
    assert now["dcsim_itsm_sla_breached_incidents", (("priority", "P1"),)] == 1.0

    client.post(f"/itsm/incidents/{p1_late}/resolve", json={"resolution_notes": "late"})
    client.post(f"/itsm/incidents/{p1}/reopen", json={"reason": "again"})
    after = samples(client)
    assert after["dcsim_itsm_sla_breached_incidents", (("priority", "P1"),)] == 0.0, "breached but resolved"
    assert after["dcsim_itsm_sla_breaches_total", (("kind", "response"), ("priority", "P1"))] == 1.0, "a counter"
    assert after["dcsim_itsm_open_incidents", (("priority", "P1"),)] == 1.0, "the reopened one"
    assert after["dcsim_itsm_mttr_seconds", ()] == (20 * 60 + 20 * 60) / 2, "p3 and p1_late; p1 reopened"
