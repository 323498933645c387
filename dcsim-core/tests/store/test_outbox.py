"""The store's outbox, relay lease and idempotency records, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from dcsim.errors import InvalidInput
from dcsim.model import Event, utcnow
from dcsim.store.sql import SqlStore


def _event(n: int) -> Event:
    return Event(type="thing.happened", source="/test", subject=f"thing/{n}", data={"n": n})


def test_events_commit_with_the_transaction_in_order(store: SqlStore) -> None:
    with store.transaction() as session:
        session.put("things", "a", {"v": 1})
        session.add_event(_event(1))
        session.add_event(_event(2))
    store.add_event(_event(3))

    pending = store.outbox_pending(10)

    assert [entry.event.data["n"] for entry in pending] == [1, 2, 3]
    assert store.outbox_count() == 3


def test_events_of_a_failed_transaction_are_not_written(store: SqlStore) -> None:
    with pytest.raises(RuntimeError), store.transaction() as session:
        session.put("things", "a", {"v": 1})
        session.add_event(_event(1))
        raise RuntimeError("the change failed")

    assert store.outbox_count() == 0 and store.find("things", "a") is None


def test_an_event_round_trips_whole(store: SqlStore) -> None:
    event = _event(7)
    store.add_event(event)

    [entry] = store.outbox_pending(1)

    assert entry.event == event


def test_marked_events_are_not_pending_and_are_pruned_after_retention(store: SqlStore) -> None:
    for n in range(3):
        store.add_event(_event(n))
    first, second, _ = store.outbox_pending(10)

    store.outbox_mark_sent([first.id, second.id])

    assert [entry.event.data["n"] for entry in store.outbox_pending(10)] == [2]
    assert store.outbox_prune(utcnow() - timedelta(hours=1)) == 0
    assert store.outbox_prune(utcnow() + timedelta(seconds=1)) == 2
    assert store.outbox_count() == 1


def test_commits_that_add_events_call_the_listeners(store: SqlStore) -> None:
    calls: list[int] = []
    store.on_events_added(lambda: calls.append(1))

    store.put("things", "a", {"v": 1})
    assert calls == []
    store.add_event(_event(1))
    assert calls == [1]


def test_an_event_that_is_not_json_is_refused(store: SqlStore) -> None:
    bad = Event(type="thing.happened", source="/test", data={"n": float("nan")})

    with pytest.raises(InvalidInput):
        store.add_event(bad)
    assert store.outbox_count() == 0


def test_one_lease_holder_at_a_time_until_it_expires(make_store: Callable[[], SqlStore]) -> None:
    first, second = make_store(), make_store()
    first.upgrade()

    assert first.take_lease("relay", "a", 30)
    assert first.take_lease("relay", "a", 30)  # renewed
    assert not second.take_lease("relay", "b", 30)
    first.drop_lease("relay", "a")
    assert second.take_lease("relay", "b", 0.0)
    # An expired lease goes to whoever asks next.
    assert first.take_lease("relay", "a", 30)
    assert not second.take_lease("relay", "b", 30)


def test_an_idempotency_key_is_reserved_once_then_answers_what_was_recorded(store: SqlStore) -> None:
    long_ago = utcnow() - timedelta(days=1)

    assert store.idempotency_reserve("k1", "f1", long_ago) is None
    running = store.idempotency_reserve("k1", "f1", long_ago)
    assert running is not None and running.status is None and running.fingerprint == "f1"

    store.idempotency_record("k1", 201, [("content-type", "application/json"), ("etag", '"v1"')], b'{"id": 1}')
    done = store.idempotency_reserve("k1", "f2", long_ago)

    assert done is not None
    assert (done.fingerprint, done.status, done.body) == ("f1", 201, b'{"id": 1}')
    assert done.headers == [("content-type", "application/json"), ("etag", '"v1"')]


def test_a_released_or_expired_key_can_be_reserved_again(store: SqlStore) -> None:
    long_ago = utcnow() - timedelta(days=1)
    assert store.idempotency_reserve("k1", "f1", long_ago) is None
    store.idempotency_release("k1")
    assert store.idempotency_reserve("k1", "f2", long_ago) is None
    store.idempotency_record("k1", 201, [], b"")

    assert store.idempotency_reserve("k1", "f3", utcnow() + timedelta(seconds=1)) is None
    assert store.idempotency_prune(utcnow() + timedelta(seconds=1)) == 1
