"""Where runs live: documents of the store in namespaces of the runner's own.

``ansible.runs`` (a :class:`Run` per id), ``ansible.requests`` (what a worker needs to
execute it: inventory snapshot, Vault-encrypted secrets), ``ansible.events``
(``<run id>/<seq>``) and ``ansible.stdout``. Every status change is a versioned write,
so two workers cannot both claim a run. The store calls are blocking: callers run
them in a thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from dcsim.errors import Conflict
from dcsim.model import Event
from dcsim.store.base import DocumentSession, Store
from dcsim_ansible.records import FINAL, Run, RunEvent, RunOutput, RunRequest

RUNS = "ansible.runs"
REQUESTS = "ansible.requests"
EVENTS = "ansible.events"
STDOUT = "ansible.stdout"
CAUSES = "ansible.causes"
TRIGGERS = "ansible.triggers"


def _value(record: msgspec.Struct) -> dict[str, Any]:
    value = msgspec.to_builtins(record)
    assert isinstance(value, dict)
    return value


def event_key(run_id: str, seq: int) -> str:
    """The store key of event ``seq`` of a run (sorted by seq)."""
    return f"{run_id}/{seq:08d}"


class RunBook:
    """Reads and writes runs in ``store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, run: Run, request: RunRequest, event: Event, cause: str | None = None) -> None:
        """Save a queued run, its request and the event asking workers for it, in one commit.

        ``cause`` (the id of the event that triggered it) is recorded with it: a second
        run for the same cause is a Conflict, so a redelivered trigger starts nothing.
        """
        with self.store.transaction() as session:
            if cause is not None:
                session.put(CAUSES, cause, {"run_id": run.id}, expected_version=0)
            session.put(RUNS, run.id, _value(run), expected_version=0)
            session.put(REQUESTS, run.id, _value(request), expected_version=0)
            session.add_event(event)

    def get(self, run_id: str) -> Run:
        """Run ``run_id``; NotFound when there is none."""
        return msgspec.convert(self.store.get(RUNS, run_id).value, Run)

    def get_versioned(self, run_id: str) -> tuple[Run, int]:
        """Run ``run_id`` with its document version, for a conditional update."""
        document = self.store.get(RUNS, run_id)
        return msgspec.convert(document.value, Run), document.version

    def request(self, run_id: str) -> RunRequest:
        """What a worker needs to execute run ``run_id``."""
        return msgspec.convert(self.store.get(REQUESTS, run_id).value, RunRequest)

    def all(self) -> list[Run]:
        """Every run, newest first."""
        runs = [msgspec.convert(d.value, Run) for d in self.store.list(RUNS)]
        return sorted(runs, key=lambda r: r.created_at, reverse=True)

    def update(
        self, run_id: str, change: Callable[[Run], Run | None], events: Callable[[Run], list[Event]] | None = None
    ) -> Run | None:
        """Apply ``change`` to the current run and write it only if nobody wrote in between.

        ``change`` returns the new run, or None to leave it as it is (then this returns
        None). ``events`` gives the events to commit with the write. Conflict when
        another writer was first.
        """
        with self.store.transaction() as session:
            document = session.get(RUNS, run_id)
            current = msgspec.convert(document.value, Run)
            new = change(current)
            if new is None:
                return None
            session.put(RUNS, run_id, _value(new), expected_version=document.version)
            for event in events(new) if events else []:
                session.add_event(event)
            return new

    def try_update(
        self, run_id: str, change: Callable[[Run], Run | None], events: Callable[[Run], list[Event]] | None = None
    ) -> Run | None:
        """:meth:`update`, None when another writer was first."""
        try:
            return self.update(run_id, change, events)
        except Conflict:
            return None

    def add_event(self, record: RunEvent, event: Event) -> None:
        """Store one run event and commit its bus event with it."""
        with self.store.transaction() as session:
            session.put(EVENTS, event_key(record.run_id, record.seq), _value(record))
            session.add_event(event)

    def events(self, run_id: str, limit: int, offset: int) -> tuple[list[RunEvent], int]:
        """A page of a run's events in order, and how many it has."""
        documents = self.store.list(EVENTS, prefix=f"{run_id}/", limit=limit, offset=offset)
        return [msgspec.convert(d.value, RunEvent) for d in documents], self.store.count(EVENTS, prefix=f"{run_id}/")

    def save_stdout(self, session: DocumentSession, run_id: str, text: str) -> None:
        """Keep a run's (redacted) stdout."""
        session.put(STDOUT, run_id, _value(RunOutput(run_id=run_id, stdout=text)))

    def stdout(self, run_id: str) -> RunOutput:
        """A run's stdout; empty while it has not finished."""
        self.get(run_id)
        document = self.store.find(STDOUT, run_id)
        return msgspec.convert(document.value, RunOutput) if document else RunOutput(run_id=run_id, stdout="")

    def finish(
        self, run_id: str, change: Callable[[Run], Run], stdout: str, events: Callable[[Run], list[Event]]
    ) -> Run:
        """End a run: its final record, stdout and completion events in one commit.

        A run already over (canceled by someone, failed by a reaper) keeps its status;
        the stdout is kept either way.
        """
        with self.store.transaction() as session:
            document = session.get(RUNS, run_id)
            current = msgspec.convert(document.value, Run)
            self.save_stdout(session, run_id, stdout)
            if current.status in FINAL:
                return current
            new = change(current)
            session.put(RUNS, run_id, _value(new), expected_version=document.version)
            for event in events(new):
                session.add_event(event)
            return new
