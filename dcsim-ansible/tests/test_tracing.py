"""Issue #17 acceptance 4 with the runner: a request that powers a VM off (out of band, as
someone pressing its button) is one trace through the bus publish, the CMDB's and the
drift module's subscribers, the trigger that asks for a remediation run, and the run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import wait_run
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """An in-memory exporter on the process's tracer provider (dc-sim uses the one set)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def wait_for_span(exporter: InMemorySpanExporter, name: str, timeout: float = 120) -> list[ReadableSpan]:
    deadline = time.monotonic() + timeout
    while True:
        found = list(exporter.get_finished_spans())
        if any(span.name == name for span in found):
            return found
        assert time.monotonic() < deadline, f"no span {name!r}; spans so far: {sorted({s.name for s in found})}"
        time.sleep(0.1)


def test_a_power_off_request_is_one_trace_down_to_the_runners_play(
    make_client: Any, ansible_settings: dict[str, Any], spans: InMemorySpanExporter
) -> None:
    client = make_client(plugins={"ansible": ansible_settings}, tracing=True)
    vm = next(v for v in client.get("/sim/vms").json()["items"] if v["name"] == "vm-001")
    node = vm["node"]["name"]
    policy = client.get("/drift/policies/policy-power-state").json()
    policy.update(auto_remediate=True, remediation="hello-world")
    assert client.put("/drift/policies/policy-power-state", json=policy).status_code == 200
    spans.clear()

    answer = client.post("/drift/truth/changes", json={"kind": "power", "node": node, "state": "off"})
    assert answer.status_code == 201, answer.text
    assert client.get(f"/sim/vms/{vm['id']}").json()["power_state"] == "off"

    found = wait_for_span(spans, "ansible.run hello-world")
    request = next(s for s in found if s.name == "POST /drift/truth/changes")
    assert request.kind is SpanKind.SERVER
    in_trace = {s.context.span_id: s for s in found if s.context.trace_id == request.context.trace_id}

    def named(name: str) -> ReadableSpan:
        matches = [s for s in in_trace.values() if s.name == name]
        assert matches, f"no span {name!r} in the request's trace: {sorted(s.name for s in in_trace.values())}"
        return matches[0]

    def parent(span: ReadableSpan) -> ReadableSpan:
        assert span.parent is not None, span.name
        return in_trace[span.parent.span_id]

    power = named("publish vm.power_changed")
    assert parent(power) is request
    assert parent(named("cmdb-sync vm.power_changed")) is power
    drift = named("drift vm.power_changed")
    assert parent(drift) is power
    detected = named("publish drift.detected")
    assert parent(detected) is drift
    triggered = named("ansible-triggers drift.detected")
    assert parent(triggered) is detected
    requested = named("publish ansible.run.requested")
    assert parent(requested) is triggered
    run = named("ansible.run hello-world")
    assert run.kind is SpanKind.CONSUMER and parent(run) is requested
    # The run's own events (started, its log lines, completed) continue the trace.
    completed = named("publish ansible.run.completed")
    assert parent(completed) is run

    assert run.attributes is not None
    run_id = str(run.attributes["dcsim.run.id"])
    record = wait_run(client, run_id)
    assert record["playbook"] == "hello-world" and record["requested_by"] == "trigger:drift-remediation"
    assert run.attributes["dcsim.run.status"] == record["status"]
