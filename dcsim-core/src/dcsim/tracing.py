"""OpenTelemetry traces: a request, the events it caused, their subscribers and the runs
they started are one trace (SPEC-017, "Traces and logs").

Off unless ``tracing = true``. Off, :func:`setup` returns :data:`NO_TRACING`, whose
methods do nothing, and nothing here imports ``opentelemetry``: the request path is not
wrapped at all. On (``pip install 'dcsim-core[tracing]'``):

* each HTTP request and WebSocket is a server span (``opentelemetry-instrumentation-asgi``
  around the whole host app, so unmatched routes get one too), named after its route
  template once the router matched one;
* an event committed while a span is current carries that span's W3C ``traceparent`` in
  its envelope (:func:`current_traceparent`, called by the outbox when it stores the
  event, so the context survives the outbox and a process restart);
* the outbox relay's publish of each event is a producer span, child of the event's
  ``traceparent``, and the event leaves with the publish span's ``traceparent`` instead;
* a subscriber's handling of an event (and a runner's run) is a consumer span whose
  parent is the event's ``traceparent``;
* while a span of these is current, log lines carry its ``trace_id`` (and ``ci_id`` where
  the event names a CI) through structlog's context variables.

Spans go to the tracer provider the process already has (a test's in-memory exporter,
a caller's own set-up), else to one made here: service name and environment as its
resource, and an OTLP/HTTP exporter when ``tracing_otlp_endpoint`` is set.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import structlog

from dcsim.errors import ConfigError

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send
    from opentelemetry.trace import Span, Tracer

    from dcsim.model import Event
    from dcsim.settings import Settings

#: The instrumentation scope of dc-sim's own spans.
TRACER_NAME = "dcsim"
_TRACEPARENT = "traceparent"
#: Whether an instance of this process traces: until one does, no span of ours can be
#: current (other libraries may import OpenTelemetry, redis-py does).
_on = False


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the span current in this context, or None.

    None when no span is current, and always when no instance of this process traces
    (then this looks no further than a module flag).
    """
    if not _on:
        return None
    from opentelemetry import trace

    return _traceparent_of(trace.get_current_span())


def with_traceparent(event: Event) -> Event:
    """``event`` carrying the current span's ``traceparent`` unless it has one already."""
    if event.traceparent is not None:
        return event
    traceparent = current_traceparent()
    return event if traceparent is None else attrs.evolve(event, traceparent=traceparent)


class NoTracing:
    """Tracing off: every method leaves things as they are, at the cost of a call."""

    enabled = False

    def wrap_asgi(self, app: ASGIApp) -> ASGIApp:
        """``app`` itself: no span, no wrapper on the request path."""
        return app

    @contextlib.contextmanager
    def publishing(self, events: Sequence[Event]) -> Iterator[list[Event]]:
        """The events, unchanged."""
        yield list(events)

    @contextlib.contextmanager
    def consuming(self, event: Event, name: str, group: str | None = None) -> Iterator[Span | None]:
        """No span."""
        yield None


#: The tracing of an instance whose ``tracing`` setting is off.
NO_TRACING = NoTracing()


class Tracing(NoTracing):
    """Tracing on: spans from ``tracer``, log context bound while they are current."""

    enabled = True

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    def wrap_asgi(self, app: ASGIApp) -> ASGIApp:
        """``app`` inside the OpenTelemetry ASGI middleware: one server span per request."""
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        wrapped: Any = OpenTelemetryMiddleware(
            _RouteAndLogContext(app),
            default_span_details=_span_details,
            # The per-message receive/send spans would double the spans of every request.
            exclude_spans=["receive", "send"],
            tracer=self.tracer,
        )
        result: ASGIApp = wrapped
        return result

    @contextlib.contextmanager
    def publishing(self, events: Sequence[Event]) -> Iterator[list[Event]]:
        """A producer span per event (child of its ``traceparent``), open while the
        caller publishes the events this yields: each carries its publish span's
        ``traceparent``, so its subscribers' spans are the publish span's children. A
        failed publish (the bus away) ends the spans with an error status."""
        from opentelemetry.trace import SpanKind, StatusCode

        spans: list[Span] = []
        sent: list[Event] = []
        try:
            for event in events:
                span = self.tracer.start_span(
                    f"publish {event.type}",
                    context=_context_of(event.traceparent),
                    kind=SpanKind.PRODUCER,
                    attributes=_event_attributes(event),
                )
                spans.append(span)
                sent.append(attrs.evolve(event, traceparent=_traceparent_of(span)))
            yield sent
        except BaseException as exc:
            for span in spans:
                span.record_exception(exc)
                span.set_status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            for span in spans:
                span.end()

    @contextlib.contextmanager
    def consuming(self, event: Event, name: str, group: str | None = None) -> Iterator[Span | None]:
        """A consumer span ``name`` (of consumer ``group``) whose parent is the event's
        ``traceparent``, current while the block runs; log lines in it carry ``trace_id``
        and the event's ``ci_id``."""
        from opentelemetry.trace import SpanKind

        attributes = _event_attributes(event)
        if group is not None:
            attributes["messaging.consumer.group.name"] = group

        with self.tracer.start_as_current_span(
            name,
            context=_context_of(event.traceparent),
            kind=SpanKind.CONSUMER,
            attributes=attributes,
        ) as span:
            bound: dict[str, str] = {"trace_id": f"{span.get_span_context().trace_id:032x}"}
            ci_id = event_ci_id(event)
            if ci_id is not None:
                bound["ci_id"] = ci_id
            with structlog.contextvars.bound_contextvars(**bound):
                yield span


def event_ci_id(event: Event) -> str | None:
    """The CI an event is about, where it says: ``data.ci_id`` or a ``ci/<id>`` subject."""
    ci_id = event.data.get("ci_id")
    if isinstance(ci_id, str) and ci_id:
        return ci_id
    if event.subject and event.subject.startswith("ci/"):
        return event.subject[3:]
    return None


def setup(settings: Settings) -> NoTracing:
    """The tracing of an instance with ``settings``: :data:`NO_TRACING` when off.

    On, spans go to the process's tracer provider if one was set (a test's, a caller's),
    else to one made and set here with the service name and environment and, when
    ``tracing_otlp_endpoint`` is set, an OTLP/HTTP exporter (batched). Raises
    :class:`ConfigError` when the OpenTelemetry packages are missing.
    """
    global _on
    if not settings.tracing:
        return NO_TRACING
    try:
        from opentelemetry import trace
    except ImportError as exc:
        raise ConfigError(
            "tracing = true needs the OpenTelemetry packages: pip install 'dcsim-core[tracing]'", setting="tracing"
        ) from exc
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(_provider(settings))
    _on = True
    return Tracing(trace.get_tracer(TRACER_NAME))


def _provider(settings: Settings) -> Any:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource: dict[str, str] = {"service.name": settings.service_name}
    if settings.environment:
        resource["deployment.environment.name"] = settings.environment
    provider = TracerProvider(resource=Resource.create(resource))
    if settings.tracing_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.tracing_otlp_endpoint)))
    return provider


def _context_of(traceparent: str | None) -> Any:
    """The OpenTelemetry context whose remote parent is ``traceparent`` (None: a new trace)."""
    if not traceparent:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract({_TRACEPARENT: traceparent})


def _traceparent_of(span: Span) -> str | None:
    context = span.get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def _event_attributes(event: Event) -> dict[str, str]:
    attributes = {"messaging.system": "dcsim", "messaging.message.id": event.id, "dcsim.event.type": event.type}
    if event.subject:
        attributes["dcsim.event.subject"] = event.subject
    return attributes


def _span_details(scope: Any) -> tuple[str, dict[str, str]]:
    """The server span's first name (``GET``; renamed to ``GET /route`` once routed)."""
    method = str(scope.get("method", "")) if scope.get("type") == "http" else "WEBSOCKET"
    return method, {}


class _RouteAndLogContext:
    """Inside the server span: bind ``trace_id`` for the request's log lines and, once the
    router matched, name the span after the route template (bounded, unlike the path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from opentelemetry import trace

        span = trace.get_current_span()

        async def naming_send(message: Any) -> None:
            # The instrumentation ends the span with the response's last body: name it
            # when the response starts, the router has matched by then.
            if message["type"] in ("http.response.start", "websocket.accept"):
                template = scope.get("path_template")
                if template and span.is_recording():
                    method = scope.get("method", "WEBSOCKET")
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)
            await send(message)

        with structlog.contextvars.bound_contextvars(trace_id=f"{span.get_span_context().trace_id:032x}"):
            await self.app(scope, receive, naming_send)
