"""The record service every ITSM kind shares: get, list, create, update, act, note.

Every change to a record goes one way: check the workflow table, change a copy, write
it through with its history entry and its event (one store transaction: the event goes
into the outbox, the relay publishes it), then swap it into the index.
The ITSM service's one lock serialises writers of every kind, so a record's events are
published in the order its changes were made. Incidents, problems and changes subclass
:class:`RecordService` with what is theirs: their request bodies and what each
workflow action does to the record.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, cast

import attrs
import msgspec

from dcsim.convert import from_json, to_json
from dcsim.errors import Conflict
from dcsim.etag import check_if_match
from dcsim.itsm.events import SOURCE
from dcsim.itsm.model import HistoryEntry, ImpactAnalysis, Note, Record
from dcsim.itsm.workflow import is_final, next_state
from dcsim.web.contracts import ValidationFailed

if TYPE_CHECKING:
    from dcsim.itsm.records import RecordBook
    from dcsim.itsm.service import Itsm
    from dcsim.model import Event

T = TypeVar("T")
R = TypeVar("R", bound=Record)
Kind = Literal["incident", "problem", "change"]

#: Derived or logged elsewhere in the record, so left out of history diffs.
_UNTRACKED = frozenset({"history", "notes", "updated_at", "sla", "impact_analysis", "approvals"})


def parse(data: Any, cls: type[T]) -> T:
    """Structure a JSON body into ``cls`` strictly (SPEC-010): members ``cls`` does not
    have, wrong types (no coercion: ``"notalist"`` is not a list) and failed checks are
    a 422 listing the fields."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object", errors=[{"field": "", "message": "not an object"}])
    known = sorted(attrs.fields_dict(cls))  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(known))
    errors = [{"field": name, "message": "unknown field"} for name in unknown]
    try:
        msgspec.convert(data, cls, strict=True)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `$")
        path = where.rstrip("`").lstrip(".")
        if message.startswith("Object missing required field `"):
            path = ".".join(filter(None, (path, message.split("`")[1])))
        errors.append({"field": path, "message": message})
    if errors:
        summary = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)
        detail = f"invalid {cls.__name__}: {summary}; known fields: {', '.join(known) or 'none'}"
        raise ValidationFailed(detail, errors=errors, unknown=unknown)
    return from_json(data, cls)


class RecordService(Generic[R]):
    """The records of one kind and the operations all kinds share."""

    #: The record kind: the event prefix, the JSON key of the record in event data.
    kind: ClassVar[Kind]
    #: The workflow table (state -> {action: next state}).
    transitions: ClassVar[dict[Any, dict[str, Any]]]
    #: The body class each workflow action takes.
    action_bodies: ClassVar[dict[str, type[Any]]]

    def __init__(self, itsm: Itsm, book: RecordBook[R]) -> None:
        self.itsm = itsm
        self.book = book

    # Reads ------------------------------------------------------------------------------

    def get(self, number: str) -> R:
        """The record ``number``; NotFound otherwise."""
        return self.book.get(number)

    def exists(self, number: str) -> bool:
        """True when ``number`` is a record of this kind."""
        return self.book.exists(number)

    def find_open(self, correlation_id: str) -> R | None:
        """The newest record with ``correlation_id`` whose workflow has not ended."""
        return next(
            (
                record
                for record in self.book.all()
                if record.correlation_id == correlation_id and not is_final(self.transitions, _state(record))
            ),
            None,
        )

    def matching(self, ci: str | None, q: str | None) -> list[R]:
        """Records, newest first, affecting CI ``ci`` and with ``q`` in their title."""
        return [
            record
            for record in self.book.all()
            if (ci is None or ci in record.affected_cis) and (q is None or q.lower() in record.title.lower())
        ]

    # Writes -----------------------------------------------------------------------------

    async def act(
        self, number: str, action: str, body: dict[str, Any] | None, actor: str, if_match: str | None = None
    ) -> R:
        """Move a record through its workflow: ``action`` from :attr:`transitions`, with
        its JSON ``body`` (:attr:`action_bodies`). A stale ``if_match`` is a 412; an
        illegal move is refused before the body is read, so it is a 409 whatever the body."""
        async with self.itsm.lock:
            current = self.book.get(number)
            check_if_match(if_match, current)
            to = next_state(self.transitions, number, _state(current), action)
            request = parse(body, self.action_bodies[action])
            now = self.itsm.clock()
            record = copy.deepcopy(current)
            cast(Any, record).state = to
            self._apply(action, request, current, record, now, actor)
            comment = getattr(request, "reason", None) or getattr(request, "comment", None) or None
            record = await self.commit(current, record, actor, action, comment, now, self._event(action))
            return await self._after_action(record, now)

    async def add_note(self, number: str, text: str, actor: str, if_match: str | None = None) -> R:
        """Append a work-log note to a record (any state: notes never change the workflow)."""
        async with self.itsm.lock:
            current = self.book.get(number)
            check_if_match(if_match, current)
            now = self.itsm.clock()
            record = copy.deepcopy(current)
            record.notes.append(Note(at=now, author=actor, text=text))
            return await self.commit(current, record, actor, "note", None, now)

    async def affected(self, ci_ids: list[str]) -> tuple[list[str], ImpactAnalysis | None]:
        """Checked CI ids (each once) and their impact snapshot."""
        cis = await self.itsm.cmdb_link.check_cis(ci_ids)
        return cis, await self.itsm.cmdb_link.analyse(cis)

    def new_fields(
        self,
        actor: str,
        now: datetime,
        affected: tuple[list[str], ImpactAnalysis | None],
        correlation_id: str | None = None,
        source_data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The fields every new record starts with: affected CIs and their impact, its
        origin, its creation and the first history entry."""
        cis, analysis = affected
        return {
            "affected_cis": cis,
            "impact_analysis": analysis,
            "correlation_id": correlation_id,
            "source_data": source_data or {},
            "created_by": actor,
            "created_at": now,
            "updated_at": now,
            "history": [HistoryEntry(at=now, actor=actor, action="created")],
        }

    async def insert(self, record: R, actor: str) -> R:
        """Number, store and announce a new record (the caller holds the lock)."""
        await self.book.add(record, lambda numbered: self.event(f"{self.kind}.created", numbered, {"actor": actor}))
        return record

    async def commit(
        self,
        before: R,
        after: R,
        actor: str,
        action: str,
        comment: str | None = None,
        now: datetime | None = None,
        event: str | None = None,
    ) -> R:
        """Write ``after`` with a history entry and publish its event (``<kind>.updated``
        unless named); an ``updated`` that changes nothing writes and publishes nothing."""
        changes = _diff(before, after)
        if action == "updated" and not changes:
            return before
        now = now or self.itsm.clock()
        after.updated_at = now
        after.history.append(HistoryEntry(at=now, actor=actor, action=action, changes=changes, comment=comment))
        data = {"action": action, "changes": changes, "comment": comment, "actor": actor}
        await self.book.save(after, [self.event(event or f"{self.kind}.updated", after, data)])
        return after

    async def publish(self, event_type: str, record: R, data: dict[str, Any]) -> None:
        """Publish ``event_type`` about ``record`` on its own (through the outbox); the
        events of a write go with the write (:meth:`insert`, :meth:`commit`)."""
        await asyncio.to_thread(self.itsm.dcsim.store.add_event, self.event(event_type, record, data))

    def event(self, event_type: str, record: R, data: dict[str, Any]) -> Event:
        """The event ``event_type`` about ``record`` (the record's JSON under its kind)."""
        return self.itsm.dcsim.event(
            event_type, {self.kind: to_json(record), **data}, source=SOURCE, subject=f"{self.kind}/{record.number}"
        )

    def refuse_final(self, record: R) -> None:
        """Conflict when ``record``'s workflow has ended: it cannot change any more."""
        if is_final(self.transitions, _state(record)):
            state = _state(record).value
            raise Conflict(f"{record.number} is {state}, which is final: it cannot change", state=state, allowed=[])

    # What each kind adds ----------------------------------------------------------------

    def _apply(self, action: str, request: Any, current: R, record: R, now: datetime, actor: str) -> None:
        """Apply ``action``'s body to ``record`` (already in its new state)."""

    def _event(self, action: str) -> str | None:
        """The event a workflow action publishes; None: ``<kind>.updated``."""
        return None

    async def _after_action(self, record: R, now: datetime) -> R:
        """Work after a workflow action was committed (the lock is still held)."""
        return record


def assign_fields(record: Record, patch: Any, names: tuple[str, ...]) -> None:
    """Copy the fields ``names`` of ``patch`` that are set (not None) onto ``record``."""
    for name in names:
        value = getattr(patch, name)
        if value is not None:
            setattr(record, name, value)


def assign_people(record: Record, value: str | None, name: str) -> None:
    """Set an assignment; the empty string clears it."""
    if value is not None:
        setattr(record, name, value or None)


def _state(record: Record) -> Any:
    """The workflow state of a record of any kind (each kind types its own)."""
    return cast(Any, record).state


def _diff(before: Record, after: Record) -> dict[str, list[Any]]:
    old, new = to_json(before), to_json(after)
    return {key: [old[key], new[key]] for key in new if key not in _UNTRACKED and old[key] != new[key]}
