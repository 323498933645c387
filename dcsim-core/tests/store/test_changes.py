"""The change log and the change feed: one process's writes reach another's indexes."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import text

from dcsim.store.changelog import ChangePosition
from dcsim.store.changes import ChangeFeed, Update
from dcsim.store.sql import SqlStore


def _pair(make_store: Callable[[], SqlStore]) -> tuple[SqlStore, SqlStore]:
    """Two stores on one database, as two processes have; both record changes."""
    first, second = make_store(), make_store()
    first.upgrade()
    for store in (first, second):
        store.record_changes = True
    return first, second


async def test_a_write_through_another_store_reaches_the_follower(make_store: Callable[[], SqlStore]) -> None:
    reader, writer = _pair(make_store)
    feed = ChangeFeed(reader)
    seen: list[Update] = []
    feed.follow(["itsm.incident"], seen.extend)
    await feed.start()
    try:
        writer.put("itsm.incident", "INC1", {"title": "disk full"})
        writer.put("other.namespace", "x", {"a": 1})
        with writer.transaction() as session:
            session.put_many("itsm.incident", {"INC2": {"title": "a"}, "INC3": {"title": "b"}})
        writer.delete("itsm.incident", "INC3")

        assert await feed.catch_up() == 3
    finally:
        await feed.stop()

    current = {u.key: (u.document.value if u.document else None) for u in seen}
    assert current == {"INC1": {"title": "disk full"}, "INC2": {"title": "a"}, "INC3": None}
    assert all(u.namespace == "itsm.incident" for u in seen)


async def test_own_writes_are_skipped_unless_asked_for(make_store: Callable[[], SqlStore]) -> None:
    store, _ = _pair(make_store)
    feed = ChangeFeed(store)
    others: list[Update] = []
    everything: list[Update] = []
    feed.follow(["ns"], others.extend)
    feed.follow(["ns"], everything.extend, own_writes=True)
    await feed.start()
    store.put("ns", "k", {"v": 1})

    await feed.catch_up()

    assert others == []
    assert [u.key for u in everything] == ["k"]


async def test_a_rolled_back_write_is_not_announced(make_store: Callable[[], SqlStore]) -> None:
    reader, writer = _pair(make_store)
    feed = ChangeFeed(reader)
    seen: list[Update] = []
    feed.follow(["ns"], seen.extend)
    await feed.start()
    try:
        with writer.transaction() as session:
            session.put("ns", "gone", {"v": 1})
            raise RuntimeError("abandon")
    except RuntimeError:
        pass
    writer.put("ns", "kept", {"v": 1})

    await feed.catch_up()

    assert [u.key for u in seen] == ["kept"]


async def test_a_transaction_that_commits_late_is_not_skipped(make_store: Callable[[], SqlStore]) -> None:
    """A slow transaction's change is read after it commits, although a later-started
    transaction committed and was read first (PostgreSQL hands out ids at insert)."""
    reader, writer = _pair(make_store)
    slow = make_store()
    slow.record_changes = True
    feed = ChangeFeed(reader)
    seen: list[str] = []
    feed.follow(["ns"], lambda updates: seen.extend(u.key for u in updates))
    await feed.start()
    inside, release = threading.Event(), threading.Event()

    def slow_write() -> None:
        with slow.transaction() as session:
            session.put("ns", "slow", {"v": 1})
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=slow_write)
    thread.start()
    assert await asyncio.to_thread(inside.wait, 10)
    # On SQLite the slow transaction holds the write lock, so this write waits for it.
    fast = asyncio.create_task(asyncio.to_thread(writer.put, "ns", "fast", {"v": 1}))
    await asyncio.sleep(0.3)
    await feed.catch_up()
    release.set()
    await fast
    await asyncio.to_thread(thread.join)

    await feed.catch_up()

    assert sorted(seen) == ["fast", "slow"]


async def test_the_feed_runs_in_the_background_within_the_bound(make_store: Callable[[], SqlStore]) -> None:
    reader, writer = _pair(make_store)
    feed = ChangeFeed(reader, interval=0.05)
    arrived = asyncio.Event()
    feed.follow(["ns"], lambda updates: arrived.set())
    await feed.start()
    try:
        await asyncio.to_thread(writer.put, "ns", "k", {"v": 1})
        await asyncio.wait_for(arrived.wait(), 2)
    finally:
        await feed.stop()


async def test_a_store_that_is_not_shared_records_nothing(make_store: Callable[[], SqlStore], backend: str) -> None:
    store = make_store()
    store.upgrade()
    assert store.record_changes is (backend == "postgresql")
    store.record_changes = False
    feed = ChangeFeed(store)
    feed.follow(["ns"], lambda updates: None)
    await feed.start()
    store.put("ns", "k", {"v": 1})

    assert not feed.active
    assert await feed.catch_up() == 0
    store.record_changes = True
    assert store.changes_read(ChangePosition(0))[0] == []


# PostgreSQL only: SQLite has one writer at a time, so an open write transaction blocks every other.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_long_transaction_elsewhere_delays_nothing(make_store: Callable[[], SqlStore]) -> None:
    """An unrelated transaction that stays open (holding PostgreSQL's oldest running
    transaction id back) does not hold back changes committed after it began."""
    reader, writer = _pair(make_store)
    feed = ChangeFeed(reader)
    seen: list[str] = []
    feed.follow(["ns"], lambda updates: seen.extend(u.key for u in updates))
    await feed.start()
    idle = make_store()
    with idle.engine.connect() as connection, connection.begin():
        connection.execute(text("SELECT pg_current_xact_id()"))  # holds a transaction id, open
        writer.put("ns", "first", {"v": 1})
        await feed.catch_up()
        assert seen == ["first"]
        writer.put("ns", "second", {"v": 1})
        await feed.catch_up()
        assert seen == ["first", "second"]

    await feed.catch_up()

    assert seen == ["first", "second"]  # each once
