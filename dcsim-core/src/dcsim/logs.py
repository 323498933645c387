"""Logging: quiet in library mode, structured on the server.

In a caller's program (``dcsim.open()``), dc-sim logs through the standard library
under the ``dcsim`` logger, which has a ``NullHandler``: nothing is printed unless the
caller configures logging (``logging.basicConfig(level="INFO")`` shows dc-sim's INFO
lines). ``dcsim serve`` and the CLI route structlog and the standard library (uvicorn,
alembic) to one formatter on stderr: readable lines on a terminal, JSON lines otherwise
or when ``log_format`` says so. Alembic logs at WARNING in both.

Server log lines carry ``service`` (the ``service_name`` setting) and ``env`` (the
``environment`` setting, when set) on every line, and the context variables bound where
they are known: ``request_id`` in a request, ``trace_id`` while a span is current (with
``tracing`` on: a request, a subscriber's handling, a runner's run) and ``ci_id`` while
an event about a CI is handled (``dcsim.tracing``). As JSON lines they are ready for Loki.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import sys
import time
from asyncio import events as asyncio_events
from typing import Any, TextIO

import msgspec
import structlog

#: The values of the ``log_format`` setting: ``auto`` is console on a terminal, else json.
LOG_FORMATS = ("auto", "console", "json")
#: The values of the ``log_level`` setting.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def library_logging() -> None:
    """Quiet library mode: dc-sim's logs go to the standard library and, unless the
    caller configured logging, nowhere. A structlog configuration the caller made is kept.
    """
    package = logging.getLogger("dcsim")
    if not any(isinstance(handler, logging.NullHandler) for handler in package.handlers):
        package.addHandler(logging.NullHandler())
    # Alembic announces every migration step at INFO; only its problems matter to a caller.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if structlog.is_configured():
        return
    structlog.configure(
        processors=[
            # First, so that a disabled level (all of them, by default) costs nothing more.
            structlog.stdlib.filter_by_level,
            structlog.contextvars.merge_contextvars,
            _to_stdlib,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: the CLI may configure logging for real afterwards.
        cache_logger_on_first_use=False,
    )


def _to_stdlib(_logger: object, _method: str, event_dict: structlog.types.EventDict) -> dict[str, Any]:
    """The keyword arguments of a standard library logging call: the event and its fields
    as one message (``itsm.no_cmdb detail='...'``), so that any formatter shows them and no
    field can clash with a ``LogRecord`` attribute (as ``args=`` would)."""
    kwargs = {key: event_dict.pop(key) for key in ("exc_info", "stack_info", "stacklevel") if key in event_dict}
    event = str(event_dict.pop("event", ""))
    fields = " ".join(f"{key}={value!r}" for key, value in event_dict.items())
    return {"msg": f"{event} {fields}" if fields else event, **kwargs}


def resolve_format(fmt: str, stream: TextIO | None = None) -> str:
    """``console`` or ``json``: ``auto`` is console when ``stream`` (stderr) is a terminal."""
    if fmt != "auto":
        return fmt
    stream = sys.stderr if stream is None else stream
    return "console" if stream.isatty() else "json"


def configure_logging(
    level: str = "INFO",
    fmt: str = "auto",
    *,
    service: str = "dcsim",
    env: str | None = None,
    stream: TextIO | None = None,
) -> None:
    """Route structlog and the standard library (uvicorn, alembic) to one formatter on
    ``stream`` (stderr); ``fmt`` is one of :data:`LOG_FORMATS`; every line carries
    ``service`` and, when given, ``env``."""
    stream = sys.stderr if stream is None else stream
    renderer: structlog.types.Processor = (
        _json_line if resolve_format(fmt, stream) == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        _ProcessFields(service, env),
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _UtcTimestamp(),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: the CLI reconfigures once settings are known (dcsim serve).
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = _LineHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    global _direct
    _direct = _DirectLines(handler, shared, renderer)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # The host app logs each request itself, with its request id.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def info_line(logger: logging.Logger, event: str, fields: dict[str, Any]) -> None:
    """Log ``event`` with ``fields`` at INFO on ``logger``: the same line as
    ``structlog.get_logger(logger.name).info(event, **fields)``, written straight to the
    handler of :func:`configure_logging` while it is the only one (for the access line of
    every request: the structlog and standard library layers were a quarter of a
    ``/healthz``). On an event loop the lines of one loop iteration are written together,
    at its end (one write instead of one per request); any other line on the handler
    writes them first, so the order holds. The caller checks
    ``logger.isEnabledFor(logging.INFO)`` first."""
    direct = _direct
    if direct is None or not direct.write(logger, event, fields):
        structlog.get_logger(logger.name).info(event, **fields)


class _DirectLines:
    """Render a line with the configured processors and renderer and write it to the
    handler's stream, skipping the record, the formatter and the filters in between;
    refuse (``write`` is false) whenever those could change the line or where it goes."""

    def __init__(
        self, handler: logging.StreamHandler[TextIO], shared: list[structlog.types.Processor], renderer: Any
    ) -> None:
        self.handler = handler
        self.processors = [*shared, renderer]
        self.root_handlers = [handler]

    def write(self, logger: logging.Logger, event: str, fields: dict[str, Any]) -> bool:
        handler = self.handler
        # Anyone who added a handler or filter (pytest's caplog, a caller) gets the usual path.
        if (
            logging.root.handlers != self.root_handlers
            or logger.handlers
            or logger.filters
            or handler.filters
            or handler.level > logging.INFO
            or not logger.propagate
        ):
            return False
        line: Any = {**fields, "event": event}
        for processor in self.processors:
            line = processor(logger, "info", line)
        text = f"{line}{handler.terminator}"
        loop = asyncio_events._get_running_loop()
        if loop is None or not isinstance(handler, _LineHandler):
            with handler.lock if handler.lock is not None else _NO_LOCK:
                if isinstance(handler, _LineHandler):
                    handler.write_pending()
                handler.stream.write(text)
                handler.flush()
        else:
            handler.add_pending(text, loop)
        return True


class _LineHandler(logging.StreamHandler[TextIO]):
    """The stream handler of :func:`configure_logging`, which also takes lines already
    rendered (:func:`info_line`) to write at the end of the event loop's iteration."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.pending: list[str] = []

    def add_pending(self, text: str, loop: asyncio.AbstractEventLoop) -> None:
        """Queue ``text``; the first line of an iteration schedules their write."""
        with self.lock if self.lock is not None else _NO_LOCK:
            self.pending.append(text)
            first = len(self.pending) == 1
        if first:
            loop.call_soon(self.write_pending)

    def write_pending(self) -> None:
        """Write the queued lines, in one write."""
        with self.lock if self.lock is not None else _NO_LOCK:
            if self.pending:
                text = "".join(self.pending)
                self.pending.clear()
                self.stream.write(text)
                self.flush()

    def emit(self, record: logging.LogRecord) -> None:
        if self.pending:
            self.write_pending()
        super().emit(record)


def _write_pending_lines() -> None:
    # At exit: the lines of an iteration the loop did not finish.
    if _direct is not None and isinstance(_direct.handler, _LineHandler):
        _direct.handler.write_pending()


atexit.register(_write_pending_lines)
_NO_LOCK = contextlib.nullcontext()
_direct: _DirectLines | None = None


def _json_line(_logger: object, _method: str, event_dict: structlog.types.EventDict) -> str:
    """One JSON line (msgspec: a fifth of the time of ``json.dumps``); a value JSON has no
    form for is written as its ``repr``, as structlog's renderer does."""
    return _JSON.encode(event_dict).decode()


_JSON = msgspec.json.Encoder(enc_hook=repr)


class _UtcTimestamp:
    """``timestamp``: ISO 8601 in UTC with microseconds (``2026-11-30T09:24:03.035626Z``),
    the date and time formatted once a second (structlog's ``TimeStamper`` built a
    ``datetime`` per line, a tenth of the access line)."""

    def __init__(self) -> None:
        self.second: tuple[int, str] = (-1, "")

    def __call__(
        self, _logger: object, _method: str, event_dict: structlog.types.EventDict
    ) -> structlog.types.EventDict:
        now = time.time()
        whole = int(now)
        second, prefix = self.second
        if second != whole:
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
            # One tuple: threads logging at once never pair a second with another's text.
            self.second = (whole, prefix)
        event_dict["timestamp"] = f"{prefix}.{int((now - whole) * 1_000_000):06d}Z"
        return event_dict


class _ProcessFields:
    """Add the fields of the whole process (``service``, ``env``) to every line."""

    def __init__(self, service: str, env: str | None) -> None:
        self.fields = {"service": service} if env is None else {"service": service, "env": env}

    def __call__(
        self, _logger: object, _method: str, event_dict: structlog.types.EventDict
    ) -> structlog.types.EventDict:
        for key, value in self.fields.items():
            event_dict.setdefault(key, value)
        return event_dict
