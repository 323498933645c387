"""The contract every event bus driver fulfils (``dcsim.bus`` stevedore namespace).

Semantics, identical for every driver (the contract suite in ``tests/bus`` checks them):

* ``publish`` appends an event to one ordered stream and returns its message id.
* A consumer group receives every event published after the group was created, each
  once, shared among the group's consumers. Groups are independent of each other.
* A delivery stays pending until ``ack``. A pending delivery idle for longer than
  ``redelivery_seconds`` is handed again (to whichever consumer of the group reads
  next), with ``attempt`` increased.
* A delivery that would be handed out for attempt ``max_deliveries + 1`` goes to the
  dead-letter stream instead and is acknowledged in its group.
* Retention: the stream keeps at most ``retention_max_len`` events (approximately) and
  ``trim`` drops events older than ``retention_max_age_seconds``.
* ``tail`` is a broadcast: every caller sees every event published after it started,
  with no group and no acknowledgement (used by ``/ws``).
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

import attrs

from dcsim.model import Event

if TYPE_CHECKING:
    from dcsim.settings import Settings


class Delivery(NamedTuple):
    """One hand-out of an event to a consumer of a group (immutable).

    A named tuple rather than a frozen attrs class: one is made per event handed out, and
    building a tuple costs a fifth of a frozen class's ``__init__`` (issue #18). Drivers
    build them with ``tuple.__new__(Delivery, (...))``, which skips even the named tuple's
    Python-level ``__new__``.
    """

    message_id: str
    event: Event
    group: str
    consumer: str
    attempt: int


@attrs.frozen
class DeadLetter:
    """An event that failed ``attempts`` deliveries in ``group``."""

    message_id: str
    event: Event
    group: str
    attempts: int


class EventBus(abc.ABC):
    """Base class of event bus drivers; a driver class is constructed with the settings."""

    name: str = "abstract"
    #: True when other processes can reach the same stream (the outbox relay then takes
    #: a lease, so that one process publishes at a time); False for an in-process bus.
    shared: bool = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stream = settings.bus_stream
        self.redelivery_seconds = settings.bus_redelivery_seconds
        self.max_deliveries = settings.bus_max_deliveries
        self.retention_max_len = settings.bus_retention_max_len
        self.retention_max_age_seconds = settings.bus_retention_max_age_seconds

    async def start(self) -> None:  # noqa: B027 - optional for drivers with nothing to open
        """Open connections. Called once before any other method."""

    async def close(self) -> None:  # noqa: B027
        """Release connections; pending deliveries stay pending for the next run."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Return when the bus is reachable; raise :class:`dcsim.errors.Unavailable` if not."""

    @abc.abstractmethod
    async def publish(self, event: Event) -> str:
        """Append ``event`` to the stream and return its message id."""

    async def publish_many(self, events: Sequence[Event]) -> list[str]:
        """Append ``events`` in order and return their message ids (drivers send them in one
        round trip). If it raises, any prefix of them may have been appended."""
        return [await self.publish(event) for event in events]

    @abc.abstractmethod
    async def ensure_group(self, group: str) -> None:
        """Create consumer group ``group`` reading from now on, if it does not exist."""

    @abc.abstractmethod
    async def read(self, group: str, consumer: str, count: int = 10, block_seconds: float = 1.0) -> list[Delivery]:
        """Hand up to ``count`` deliveries to ``consumer`` of ``group``.

        Overdue pending deliveries (redelivery) come first, then new events. Waits up to
        ``block_seconds`` for something to arrive; returns an empty list if nothing did.
        """

    @abc.abstractmethod
    async def ack(self, group: str, message_id: str) -> None:
        """Acknowledge a delivery: it is done and will not be handed out again."""

    async def ack_many(self, group: str, message_ids: Sequence[str]) -> None:
        """Acknowledge several deliveries of ``group`` at once (drivers send one command)."""
        for message_id in message_ids:
            await self.ack(group, message_id)

    @abc.abstractmethod
    async def pending(self, group: str) -> int:
        """How many deliveries of ``group`` are handed out and not yet acknowledged."""

    @abc.abstractmethod
    async def lag(self, group: str) -> int:
        """How many events of the stream ``group`` has not been handed yet (its backlog;
        events trimmed away by retention no longer count); 0 for an unknown group."""

    @abc.abstractmethod
    async def dead_letters(self, group: str | None = None, count: int = 100) -> list[DeadLetter]:
        """The oldest ``count`` dead letters, of one group or of all."""

    @abc.abstractmethod
    async def recent(self, count: int = 100) -> list[tuple[str, Event]]:
        """The newest ``count`` events still retained, oldest first, with message ids."""

    @abc.abstractmethod
    def tail(self) -> AsyncIterator[tuple[str, Event]]:
        """Yield every event published from now on (broadcast, no acknowledgement)."""

    @abc.abstractmethod
    async def trim(self) -> int:
        """Drop events older than the age retention; return how many were dropped."""
