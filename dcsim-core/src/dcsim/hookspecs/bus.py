"""Event bus hooks: event types and subscribers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.hooks import hookspec

if TYPE_CHECKING:
    from dcsim.registry import EventTypeRegistry, SubscriberRegistry


@hookspec
def dcsim_register_event_types(registry: EventTypeRegistry) -> None:
    """Declare the event types the plugin publishes, with their schema version.

    When: once, while the instance is built. ``GET /events/types`` lists them and
    ``DcSim.publish`` refuses an undeclared type.

    Args:
        registry: call ``registry.add(type, schemaversion=1, description=..., data=...)``
            where ``data`` documents the fields of the event's ``data``. The framework
            declares ``dcsim.started`` itself.

    Returns: nothing. Calling rule: every implementation is called, one at a time; one
    that raises fails its plugin (what it added is forgotten; the others go on).
    """


@hookspec
def dcsim_register_subscribers(registry: SubscriberRegistry) -> None:
    """Subscribe handlers to bus events as named consumer groups.

    When: once, while the instance is built; the subscriptions run from start-up to
    shut-down. Each group receives every matching event once (several processes of
    one group share the work); an event whose handler raises is redelivered after the
    redelivery timeout, and goes to the dead-letter stream after the configured number
    of failed deliveries.

    Args:
        registry: call ``registry.add(group, handler, types=("vm.*",))``; ``handler``
            is ``async def handler(dcsim, event) -> None``; ``types`` are glob patterns.
            Every group is created before the first ``dcsim_startup`` runs.

    Returns: nothing. Calling rule: every implementation is called, one at a time; one
    that raises fails its plugin (what it added is forgotten; the others go on).
    """
