"""The access line's direct path (``dcsim.logs.info_line``): the same JSON line as
structlog's, and the usual path whenever another handler or a filter could see it."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
import structlog

from dcsim import logs
from dcsim.logs import configure_logging, info_line

FIELDS = {"method": "GET", "path": "/healthz", "route": "/healthz", "status": 200, "duration_ms": 0.12}


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    out = io.StringIO()
    configure_logging("INFO", "json", service="dcsim-test", env="ci", stream=out)
    ours = root.handlers[:]
    try:
        yield out
    finally:
        # pytest's own capturing handlers, added to the root for the test's call, go back.
        assert root.handlers[: len(ours)] == ours
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@contextlib.contextmanager
def alone() -> Iterator[None]:
    """Only configure_logging's handler on the root (as in ``dcsim serve``), without the
    handlers pytest adds for a test's call (after the fixtures ran)."""
    root = logging.getLogger()
    handlers = root.handlers[:]
    root.handlers[:] = handlers[:1]
    try:
        yield
    finally:
        root.handlers[:] = handlers


def test_the_direct_line_equals_structlogs_line(stream: io.StringIO) -> None:
    logger = logging.getLogger("dcsim.http")
    assert logs._direct is not None
    with alone(), structlog.contextvars.bound_contextvars(request_id="r-1", trace_id="ab" * 16):
        assert logs._direct.write(logger, "http.request", dict(FIELDS))
        structlog.get_logger("dcsim.http").info("http.request", **FIELDS)
    direct, usual = lines(stream)
    for line in (direct, usual):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", str(line.pop("timestamp")))
    assert (
        direct
        == usual
        == {
            **FIELDS,
            "event": "http.request",
            "service": "dcsim-test",
            "env": "ci",
            "request_id": "r-1",
            "trace_id": "ab" * 16,
            "level": "info",
            "logger": "dcsim.http",
        }
    )


def test_a_value_json_has_no_form_for_is_its_repr(stream: io.StringIO) -> None:
    assert logs._direct is not None
    with alone():
        assert logs._direct.write(logging.getLogger("dcsim.http"), "http.request", {"thing": object})
    assert lines(stream)[0]["thing"] == repr(object)


def test_another_handler_gets_the_line_through_the_usual_path(
    stream: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("dcsim.http")
    with caplog.at_level(logging.INFO, logger="dcsim.http"):
        assert logs._direct is not None and not logs._direct.write(logger, "x", {})
        info_line(logger, "http.request", dict(FIELDS))
    assert [record.name for record in caplog.records] == ["dcsim.http"]
    assert lines(stream)[0]["event"] == "http.request"


def test_a_filter_on_the_handler_still_applies(stream: io.StringIO) -> None:
    handler = logging.getLogger().handlers[0]

    def drop_access(record: logging.LogRecord) -> bool:
        return record.name != "dcsim.http"

    handler.addFilter(drop_access)
    with alone():
        info_line(logging.getLogger("dcsim.http"), "http.request", dict(FIELDS))
    assert stream.getvalue() == ""


async def test_the_lines_of_one_loop_iteration_are_one_write_in_order(stream: io.StringIO) -> None:
    logger = logging.getLogger("dcsim.http")
    writes: list[str] = []
    write = stream.write

    def counted(text: str) -> int:
        writes.append(text)
        return write(text)

    stream.write = counted  # type: ignore[method-assign]
    with alone():
        info_line(logger, "http.request", {**FIELDS, "n": 1})
        info_line(logger, "http.request", {**FIELDS, "n": 2})
        assert stream.getvalue() == ""  # written when this iteration of the loop ends
        await asyncio.sleep(0)
        assert len(writes) == 1 and [line["n"] for line in lines(stream)] == [1, 2]
        info_line(logger, "http.request", {**FIELDS, "n": 3})
        # A line through the usual path writes the queued ones first.
        structlog.get_logger("dcsim.other").warning("other.line")
    assert [(line["event"], line.get("n")) for line in lines(stream)] == [
        ("http.request", 1),
        ("http.request", 2),
        ("http.request", 3),
        ("other.line", None),
    ]
