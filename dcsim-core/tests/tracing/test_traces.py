"""One trace from a request through the outbox, the bus and the subscribers; JSON log
lines carry its trace id; nothing of it when tracing is off (SPEC-017, "Traces and logs")."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from dcsim import hookimpl
from dcsim.bus.relay import OutboxRelay
from dcsim.errors import ConfigError
from dcsim.logs import configure_logging
from dcsim.model import Event
from dcsim.settings import load_settings
from dcsim.testing import DcsimClient

POWER_ROUTE = "POST /sim/vms/{vm}/power"


class CiLogger:
    """A subscriber that logs one line per ``cmdb.ci.updated`` it handles."""

    @hookimpl
    def dcsim_register_subscribers(self, registry: Any) -> None:
        async def handled(dcsim: Any, event: Event) -> None:
            structlog.get_logger("dcsim.test").info("test.ci_event_handled", event_id=event.id)

        registry.add("test-ci-logger", handled, types=("cmdb.ci.updated",))


def wait_for_spans(exporter: InMemorySpanExporter, ok: Callable[[list[ReadableSpan]], bool]) -> list[ReadableSpan]:
    deadline = time.monotonic() + 10
    while True:
        spans = list(exporter.get_finished_spans())
        if ok(spans):
            return spans
        assert time.monotonic() < deadline, f"spans so far: {[s.name for s in spans]}"
        time.sleep(0.05)


def vm_id(client: DcsimClient, name: str) -> str:
    return str(next(vm["id"] for vm in client.get("/sim/vms").json()["items"] if vm["name"] == name))


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The server's JSON log lines (service ``dcsim-test``, env ``ci``); logging restored after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, structlog.get_config())
    stream = io.StringIO()
    configure_logging("INFO", "json", service="dcsim-test", env="ci", stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        structlog.configure(**saved[2])


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def test_a_power_off_request_is_one_trace_through_bus_and_subscribers(
    make_client: Callable[..., DcsimClient], spans: InMemorySpanExporter, json_logs: io.StringIO
) -> None:
    client = make_client(CiLogger(), tracing=True)
    vm = vm_id(client, "vm-001")
    spans.clear()

    answer = client.post(f"/sim/vms/{vm}/power", json={"action": "off"})
    assert answer.status_code == 200, answer.text

    def complete(found: list[ReadableSpan]) -> bool:
        names = {s.name for s in found}
        return {"cmdb-sync vm.power_changed", "test-ci-logger cmdb.ci.updated"} <= names

    found = wait_for_spans(spans, complete)
    request = next(s for s in found if s.name == POWER_ROUTE)
    assert request.kind is SpanKind.SERVER
    assert request.attributes is not None and request.attributes["http.route"] == "/sim/vms/{vm}/power"
    trace_id = request.context.trace_id
    by_id = {s.context.span_id: s for s in found if s.context.trace_id == trace_id}

    def parent(span: ReadableSpan) -> ReadableSpan:
        assert span.parent is not None, span.name
        return by_id[span.parent.span_id]

    publish = next(s for s in by_id.values() if s.name == "publish vm.power_changed")
    assert publish.kind is SpanKind.PRODUCER and parent(publish) is request
    cmdb = next(s for s in by_id.values() if s.name == "cmdb-sync vm.power_changed")
    assert cmdb.kind is SpanKind.CONSUMER and parent(cmdb) is publish
    # The CMDB's own event, committed while it handled the power change, continues the trace.
    ci_publish = next(s for s in by_id.values() if s.name == "publish cmdb.ci.updated")
    assert parent(ci_publish) is cmdb
    handled = next(s for s in by_id.values() if s.name == "test-ci-logger cmdb.ci.updated")
    assert parent(handled) is ci_publish

    # The envelope on the bus carries the publish span's context.
    recent = [event for _, event in client.call(client.sim.bus.recent, 200)]
    power = next(e for e in recent if e.type == "vm.power_changed" and e.data.get("id") == vm)
    assert power.traceparent is not None
    assert power.traceparent.startswith(f"00-{trace_id:032x}-{publish.context.span_id:016x}-")

    logged = lines(json_logs)
    hex_id = f"{trace_id:032x}"
    access = next(line for line in logged if line["event"] == "http.request" and line["path"].endswith("/power"))
    assert access["trace_id"] == hex_id
    assert access["service"] == "dcsim-test" and access["env"] == "ci"
    ci_line = next(line for line in logged if line["event"] == "test.ci_event_handled")
    assert ci_line["trace_id"] == hex_id
    assert ci_line["ci_id"] and ci_line["service"] == "dcsim-test"
    assert client.get(f"/cmdb/cis/{ci_line['ci_id']}").json()["attributes"]["power_state"] == "off"


def test_the_context_is_stored_with_the_outbox_row_and_carried_by_another_relay(
    make_client: Callable[..., DcsimClient], spans: InMemorySpanExporter
) -> None:
    # This instance never relays (another process would): its events wait in the outbox.
    client = make_client(tracing=True, outbox_relay=False)
    vm = vm_id(client, "vm-003")
    client.call(client.sim.relay.relay_once)  # nothing of the start-up left waiting
    spans.clear()
    assert client.post(f"/sim/vms/{vm}/power", json={"action": "off"}).status_code == 200
    request = next(s for s in spans.get_finished_spans() if s.name == POWER_ROUTE)
    waiting = [entry.event for entry in client.sim.store.outbox_pending(100)]
    power = next(e for e in waiting if e.type == "vm.power_changed")
    assert power.traceparent is not None
    assert power.traceparent.startswith(f"00-{request.context.trace_id:032x}-{request.context.span_id:016x}-")

    other = OutboxRelay(client.sim.store, client.sim.bus, client.sim.settings, tracing=client.sim.tracing)
    assert client.call(other.relay_once) >= 1
    found = wait_for_spans(spans, lambda found: any(s.name == "cmdb-sync vm.power_changed" for s in found))
    publish = next(s for s in found if s.name == "publish vm.power_changed")
    assert publish.parent is not None and publish.parent.span_id == request.context.span_id
    cmdb = next(s for s in found if s.name == "cmdb-sync vm.power_changed")
    assert cmdb.parent is not None and cmdb.parent.span_id == publish.context.span_id


def test_tracing_off_makes_no_span_and_no_traceparent(
    make_client: Callable[..., DcsimClient], spans: InMemorySpanExporter
) -> None:
    client = make_client()
    assert client.sim.tracing.enabled is False
    vm = vm_id(client, "vm-002")
    assert client.post(f"/sim/vms/{vm}/power", json={"action": "off"}).status_code == 200
    client.call(client.sim.relay.drain)
    recent = [event for _, event in client.call(client.sim.bus.recent, 200)]
    assert any(e.type == "vm.power_changed" for e in recent)
    assert all(e.traceparent is None for e in recent)
    assert spans.get_finished_spans() == ()


OFF_PROBE = """
import sys, tempfile
import dcsim
from dcsim.settings import load_settings
from dcsim.testing import DcsimClient
from dcsim.web.app import create_app

sim = dcsim.open(settings=load_settings(environ={}, data_dir=tempfile.mkdtemp(), create_admin_token=False))
app = create_app(sim)
with DcsimClient(app) as client:
    client.sim = sim
    client.headers["Authorization"] = "Bearer " + client.token("admin")
    assert client.get("/sim/vms").status_code == 200
    assert type(app.asgi_handler).__module__.startswith("dcsim."), app.asgi_handler
from dcsim import tracing
assert tracing._on is False
# Litestar (at app build) and redis-py (at import) import parts of OpenTelemetry when it is
# installed; dc-sim makes no tracer provider and no span.
print(sorted(m for m in sys.modules if m.startswith("opentelemetry.sdk.trace")))
"""


def test_tracing_off_leaves_the_request_path_unwrapped_and_makes_no_tracer() -> None:
    # A process of its own: this suite's other tests import the SDK and the instrumentation.
    done = subprocess.run([sys.executable, "-c", OFF_PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


MISSING_PROBE = """
import sys, tempfile
sys.modules["opentelemetry"] = None  # as if dcsim-core[tracing] were not installed
import dcsim
from dcsim.errors import ConfigError
try:
    dcsim.open(data_dir=tempfile.mkdtemp(), tracing=True)
except ConfigError as exc:
    print(exc.detail)
"""


def test_tracing_on_without_the_packages_names_the_extra() -> None:
    done = subprocess.run([sys.executable, "-c", MISSING_PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "pip install 'dcsim-core[tracing]'" in done.stdout


def test_the_otlp_endpoint_must_be_an_http_url() -> None:
    environ = {"DCSIM_TRACING_OTLP_ENDPOINT": "grpc://127.0.0.1:4317"}
    with pytest.raises(ConfigError, match=r"DCSIM_TRACING_OTLP_ENDPOINT.*allowed: http://, https://"):
        load_settings(environ=environ)
    assert load_settings(environ={"DCSIM_TRACING": "true"}).tracing is True
