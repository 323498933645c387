"""The Prometheus text exposition of a registry whose large collectors write their own text.

prometheus_client renders a collector's families sample by sample (a ``Sample`` object,
then label names re-checked and escaped per line); for tens of thousands of series that is
most of a scrape. A collector that can write its exposition text itself calls
:func:`defer_to_text` at the top of ``collect()``: while :func:`render` runs, that hands
its text writer to the render and the collector yields nothing, so the registry's other
collectors (drift, patch, HTTP, anything a plugin registers) render as usual and the
writers' text is appended. Outside :func:`render` (``generate_latest`` of the same
registry, a test), ``defer_to_text`` returns False and the collector yields families.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from prometheus_client import CollectorRegistry, generate_latest

#: Text writers handed over by collectors during the current :func:`render`.
_writers: ContextVar[list[Callable[[], bytes]] | None] = ContextVar("dcsim_exposition_writers", default=None)


def defer_to_text(writer: Callable[[], bytes]) -> bool:
    """Hand ``writer`` (the collector's whole exposition text) to the running :func:`render`.

    Returns:
        True when a render takes the text (the collector then yields nothing), False
        outside one (the collector yields its families as usual).
    """
    writers = _writers.get()
    if writers is None:
        return False
    writers.append(writer)
    return True


def render(registry: CollectorRegistry) -> bytes:
    """The text exposition (format 0.0.4) of every collector of ``registry``."""
    writers: list[Callable[[], bytes]] = []
    token = _writers.set(writers)
    try:
        body = generate_latest(registry)
    finally:
        _writers.reset(token)
    return body + b"".join(writer() for writer in writers)
