"""``dcsim serve`` with ``tracing`` and an OTLP endpoint exports its spans with the real
OTLP/HTTP exporter, under its service name and environment, and its JSON log lines carry
the exported trace id (SPEC-017, "Traces and logs")."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from dcsim.testing import run_server


class Collector(ThreadingHTTPServer):
    """An OTLP/HTTP traces receiver on loopback: keeps each exported span with its resource."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receive)
        self.spans: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/traces"


class _Receive(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest.FromString(body)
        with self.server.lock:
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.server.spans.append(
                            {"name": span.name, "trace_id": span.trace_id.hex(), "resource": resource}
                        )
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_dcsim_serve_exports_one_trace_over_otlp_and_logs_its_id(tmp_path: Path, collector: Collector) -> None:
    env = {
        "DCSIM_TRACING": "true",
        "DCSIM_TRACING_OTLP_ENDPOINT": collector.endpoint,
        "DCSIM_SERVICE_NAME": "dcsim-otlp-test",
        "DCSIM_ENVIRONMENT": "ci",
        "DCSIM_LOG_FORMAT": "json",
        # The batch processor's delay (5 s by default): the test waits less.
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    log_path = tmp_path / "server.log"
    with run_server(tmp_path / "server", env=env, log_path=log_path) as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        vms = httpx.get(f"{server.url}/sim/vms", headers=headers).json()["items"]
        vm = next(v["id"] for v in vms if v["name"] == "vm-001")
        answer = httpx.post(f"{server.url}/sim/vms/{vm}/power", json={"action": "off"}, headers=headers)
        assert answer.status_code == 200, answer.text

        deadline = time.monotonic() + 30
        while True:
            with collector.lock:
                spans = list(collector.spans)
            request = next((s for s in spans if s["name"] == "POST /sim/vms/{vm}/power"), None)
            if request is not None and any(
                s["name"] == "cmdb-sync vm.power_changed" and s["trace_id"] == request["trace_id"] for s in spans
            ):
                break
            assert time.monotonic() < deadline, f"exported so far: {sorted({s['name'] for s in spans})}"
            time.sleep(0.2)

    assert request["resource"]["service.name"] == "dcsim-otlp-test"
    assert request["resource"]["deployment.environment.name"] == "ci"
    assert any(s["name"] == "publish vm.power_changed" and s["trace_id"] == request["trace_id"] for s in spans)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = next(line for line in lines if line["event"] == "http.request" and line["path"].endswith("/power"))
    assert access["trace_id"] == request["trace_id"]
    assert access["service"] == "dcsim-otlp-test" and access["env"] == "ci"
