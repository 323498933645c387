"""The store contract, run against SQLite and a real PostgreSQL (see ``conftest.py``)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dcsim.errors import ConfigError, Conflict, InvalidInput, NotFound, Unavailable
from dcsim.model import Role
from dcsim.settings import Settings
from dcsim.store.engine import normalize_url
from dcsim.store.sql import SqlStore
from dcsim.store.tables import tokens_table

NS = "things"
REVISIONS = ["0001", "0002", "0003"]


def run_in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads started together; return results or exceptions."""
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as error:  # handed back to the test to assert on
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


# Migrations


def test_upgrade_on_empty_database_applies_every_revision_once(empty_store: SqlStore) -> None:
    assert empty_store.current_revision() is None
    lines: list[str] = []

    assert empty_store.upgrade(lines.append) == REVISIONS
    assert len(lines) == len(REVISIONS) and all(rev in line for rev, line in zip(REVISIONS, lines, strict=True))
    assert empty_store.current_revision() == REVISIONS[-1]
    assert empty_store.upgrade(lines.append) == []
    assert len(lines) == len(REVISIONS)


def test_concurrent_upgrades_apply_each_revision_once(make_store: Callable[[], SqlStore]) -> None:
    stores = [make_store() for _ in range(3)]

    results = run_in_threads(len(stores), lambda index: stores[index].upgrade())

    assert sorted(results, key=len) == [[], [], REVISIONS]
    assert stores[0].current_revision() == REVISIONS[-1]


# Documents: reading and writing


def test_put_creates_at_version_one_and_get_returns_it(store: SqlStore) -> None:
    written = store.put(NS, "a", {"n": 1})

    assert (written.namespace, written.key, written.value, written.version) == (NS, "a", {"n": 1}, 1)
    assert written.updated_at.tzinfo == UTC
    assert store.get(NS, "a") == written
    assert store.find(NS, "a") == written


def test_versions_grow_by_one_per_write(store: SqlStore) -> None:
    versions = [store.put(NS, "a", {"n": n}).version for n in range(4)]

    assert versions == [1, 2, 3, 4]
    assert store.get(NS, "a").value == {"n": 3}
    assert store.get(NS, "a").version == 4


def test_put_many_upserts_in_one_call(store: SqlStore) -> None:
    store.put(NS, "b", {"n": 0})

    assert store.put_many(NS, {"a": {"n": 1}, "b": {"n": 2}, "c": {"n": 3}}) == 3

    assert [(d.key, d.value, d.version) for d in store.list(NS)] == [
        ("a", {"n": 1}, 1), ("b", {"n": 2}, 2), ("c", {"n": 3}, 1)
    ]  # fmt: skip
    assert store.put_many(NS, {}) == 0


def test_put_many_inside_a_transaction_commits_with_it(store: SqlStore) -> None:
    with pytest.raises(RuntimeError), store.transaction() as session:
        session.put_many(NS, {f"k{i:04d}": {"i": i} for i in range(2500)})
        assert session.count(NS) == 2500
        raise RuntimeError("roll back")
    assert store.count(NS) == 0
    with store.transaction() as session:
        session.put_many(NS, {f"k{i:04d}": {"i": i} for i in range(2500)})
    assert store.count(NS) == 2500 and store.get(NS, "k2499").value == {"i": 2499}


@pytest.mark.parametrize(
    "values", [{"ok": {"n": 1}, "bad": [1, 2]}, {"ok": {"n": 1}, "": {"n": 2}}, {"ok": {"n": 1}, "x": {"f": {1, 2}}}]
)
def test_put_many_refuses_the_whole_batch(store: SqlStore, values: dict) -> None:
    with pytest.raises(InvalidInput):
        store.put_many(NS, values)
    assert store.find(NS, "ok") is None


def test_missing_document_is_not_found(store: SqlStore) -> None:
    assert store.find(NS, "missing") is None
    with pytest.raises(NotFound):
        store.get(NS, "missing")
    with pytest.raises(NotFound):
        store.delete(NS, "missing")
    with pytest.raises(NotFound):
        store.delete(NS, "missing", expected_version=1)


def test_namespaces_are_separate(store: SqlStore) -> None:
    store.put("one", "k", {"from": "one"})
    store.put("two", "k", {"from": "two"})

    assert store.get("one", "k").value == {"from": "one"}
    assert store.get("two", "k").value == {"from": "two"}
    assert store.count("one") == 1


def test_delete_removes_the_document(store: SqlStore) -> None:
    store.put(NS, "a", {})
    store.delete(NS, "a")

    assert store.find(NS, "a") is None
    assert store.put(NS, "a", {}).version == 1


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"nested": {"list": [1, 2.5, -3, True, False, None, "x"], "empty": {}, "deep": [[[{"a": [1]}]]]}},
        {"unicode": "Grüße, 東京, emoji 🚀, rtl שלום", "ключ": "значение"},
        {"big_int": 2**53, "negative": -(2**31), "float": 1e-300, "quote": "\"'\\", "newline": "a\nb"},
    ],
    ids=["empty", "nested", "unicode", "scalars"],
)
def test_values_round_trip_as_json(store: SqlStore, value: dict[str, Any]) -> None:
    assert store.put(NS, "doc", value).value == value
    assert store.get(NS, "doc").value == value


def test_large_document_round_trips(store: SqlStore) -> None:
    value = {"items": [{"id": index, "name": f"vm-{index:05d}", "tags": ["a" * 40] * 3} for index in range(5000)]}

    store.put(NS, "large", value)

    assert store.get(NS, "large").value == value


@pytest.mark.parametrize("value", [{"x": object()}, {"x": float("nan")}, ["not", "an", "object"]])
def test_values_that_are_not_json_objects_are_refused(store: SqlStore, value: Any) -> None:
    with pytest.raises(InvalidInput):
        store.put(NS, "bad", value)
    assert store.find(NS, "bad") is None


@pytest.mark.parametrize(("namespace", "key"), [("", "k"), (NS, ""), ("n" * 129, "k"), (NS, "k" * 513)])
def test_empty_or_overlong_names_are_refused(store: SqlStore, namespace: str, key: str) -> None:
    with pytest.raises(InvalidInput):
        store.put(namespace, key, {})


# Documents: listing


def test_list_orders_by_key_in_code_point_order(store: SqlStore) -> None:
    keys = ["b", "a", "B", "ä", "a/1", "a-1", "10", "9", "Z"]
    for key in keys:
        store.put(NS, key, {"key": key})

    assert [doc.key for doc in store.list(NS)] == sorted(keys)
    assert store.count(NS) == len(keys)


def test_list_filters_by_prefix_literally_and_case_sensitively(store: SqlStore) -> None:
    for key in ["vm/1", "vm/2", "vm/10", "VM/3", "vmware", "v%/4", "v_/5", "host/1"]:
        store.put(NS, key, {})

    assert [doc.key for doc in store.list(NS, prefix="vm/")] == ["vm/1", "vm/10", "vm/2"]
    assert store.count(NS, prefix="vm/") == 3
    assert [doc.key for doc in store.list(NS, prefix="v%")] == ["v%/4"]
    assert [doc.key for doc in store.list(NS, prefix="v_")] == ["v_/5"]
    assert store.list(NS, prefix="nothing") == []
    assert store.count(NS, prefix="nothing") == 0


def test_list_prefix_ending_in_the_highest_code_point(store: SqlStore) -> None:
    top = chr(0x10FFFF)
    for key in ["a", "a" + top, "a" + top + "x", "b"]:
        store.put(NS, key, {})

    assert [doc.key for doc in store.list(NS, prefix="a" + top)] == ["a" + top, "a" + top + "x"]


def test_list_pages_with_limit_and_offset(store: SqlStore) -> None:
    keys = [f"k{index:02d}" for index in range(10)]
    for key in reversed(keys):
        store.put(NS, key, {})

    assert [doc.key for doc in store.list(NS, limit=3)] == keys[:3]
    assert [doc.key for doc in store.list(NS, limit=3, offset=3)] == keys[3:6]
    assert [doc.key for doc in store.list(NS, offset=8)] == keys[8:]
    assert [doc.key for doc in store.list(NS, limit=5, offset=9)] == keys[9:]
    assert store.list(NS, limit=0) == []
    assert store.count(NS) == 10


@pytest.mark.parametrize(("limit", "offset"), [(-1, 0), (None, -1)])
def test_negative_limit_or_offset_is_refused(store: SqlStore, limit: int | None, offset: int) -> None:
    with pytest.raises(InvalidInput):
        store.list(NS, limit=limit, offset=offset)


# Documents: optimistic versions


def test_expected_version_zero_creates_only_if_absent(store: SqlStore) -> None:
    assert store.put(NS, "a", {"first": True}, expected_version=0).version == 1

    with pytest.raises(Conflict):
        store.put(NS, "a", {"second": True}, expected_version=0)
    assert store.get(NS, "a").value == {"first": True}


def test_matching_expected_version_writes(store: SqlStore) -> None:
    store.put(NS, "a", {"n": 1})

    assert store.put(NS, "a", {"n": 2}, expected_version=1).version == 2


def test_wrong_expected_version_conflicts(store: SqlStore) -> None:
    store.put(NS, "a", {"n": 1})
    store.put(NS, "a", {"n": 2})

    for wrong in (1, 3):
        with pytest.raises(Conflict):
            store.put(NS, "a", {"n": 99}, expected_version=wrong)
    with pytest.raises(Conflict):
        store.put(NS, "missing", {}, expected_version=1)
    assert store.get(NS, "a").value == {"n": 2}
    assert store.find(NS, "missing") is None


def test_delete_with_wrong_version_conflicts(store: SqlStore) -> None:
    store.put(NS, "a", {})
    store.put(NS, "a", {})

    with pytest.raises(Conflict):
        store.delete(NS, "a", expected_version=1)
    assert store.get(NS, "a").version == 2
    store.delete(NS, "a", expected_version=2)
    assert store.find(NS, "a") is None


# Transactions


def test_transaction_commits_every_write(store: SqlStore) -> None:
    with store.transaction() as session:
        session.put(NS, "a", {"n": 1})
        session.put(NS, "b", {"n": 2})
        assert session.get(NS, "a").value == {"n": 1}
        assert session.count(NS) == 2

    assert [doc.key for doc in store.list(NS)] == ["a", "b"]


def test_transaction_writes_nothing_when_the_block_raises(store: SqlStore) -> None:
    store.put(NS, "kept", {"n": 1})

    with pytest.raises(RuntimeError, match="boom"), store.transaction() as session:
        session.put(NS, "new", {})
        session.put(NS, "kept", {"n": 2})
        session.delete(NS, "kept")
        raise RuntimeError("boom")

    assert store.find(NS, "new") is None
    assert store.get(NS, "kept").value == {"n": 1}
    assert store.get(NS, "kept").version == 1


def test_transaction_goes_on_after_a_conflict(store: SqlStore) -> None:
    store.put(NS, "taken", {})

    with store.transaction() as session:
        with pytest.raises(Conflict):
            session.put(NS, "taken", {}, expected_version=0)
        session.put(NS, "after", {})

    assert store.find(NS, "after") is not None


def test_writes_are_invisible_to_others_until_commit(make_store: Callable[[], SqlStore], store: SqlStore) -> None:
    other = make_store()

    with store.transaction() as session:
        session.put(NS, "a", {})
        assert other.find(NS, "a") is None

    assert other.find(NS, "a") is not None


# Several stores on one database (several app processes)


def test_two_stores_see_each_others_writes(make_store: Callable[[], SqlStore], store: SqlStore) -> None:
    other = make_store()

    store.put(NS, "a", {"by": "first"})
    assert other.get(NS, "a").value == {"by": "first"}
    other.put(NS, "a", {"by": "second"}, expected_version=1)
    assert store.get(NS, "a").value == {"by": "second"}
    assert store.get(NS, "a").version == 2


def test_writer_with_a_stale_version_gets_conflict(make_store: Callable[[], SqlStore], store: SqlStore) -> None:
    other = make_store()
    seen = store.put(NS, "a", {"n": 1})

    other.put(NS, "a", {"n": 2}, expected_version=seen.version)
    with pytest.raises(Conflict):
        store.put(NS, "a", {"n": 3}, expected_version=seen.version)
    assert store.get(NS, "a").value == {"n": 2}


def test_racing_writers_one_wins_and_the_other_gets_conflict(
    make_store: Callable[[], SqlStore], store: SqlStore
) -> None:
    other = make_store()
    store.put(NS, "a", {"n": 1})
    theirs: dict[str, str] = {}

    def race() -> None:
        try:
            other.put(NS, "a", {"n": 2}, expected_version=1)
            theirs["outcome"] = "won"
        except Conflict:
            theirs["outcome"] = "conflict"

    racer = threading.Thread(target=race)
    try:
        with store.transaction() as session:
            seen = session.get(NS, "a")
            racer.start()
            # PostgreSQL lets the other writer commit meanwhile; SQLite's writers queue
            # behind this transaction (BEGIN IMMEDIATE), so it is still waiting.
            racer.join(timeout=1.0)
            session.put(NS, "a", {"n": 3}, expected_version=seen.version)
        mine = "won"
    except Conflict:
        mine = "conflict"
    racer.join()

    assert sorted([mine, theirs["outcome"]]) == ["conflict", "won"]
    assert store.get(NS, "a").value == ({"n": 3} if mine == "won" else {"n": 2})


def test_concurrent_creates_admit_one_winner(make_store: Callable[[], SqlStore], store: SqlStore) -> None:
    stores = [store] + [make_store() for _ in range(3)]

    results = run_in_threads(len(stores), lambda index: stores[index].put(NS, "a", {"by": index}, expected_version=0))

    assert sum(not isinstance(result, Exception) for result in results) == 1
    assert all(isinstance(result, Conflict) for result in results if isinstance(result, Exception))


def test_concurrent_read_modify_write_loses_no_update(make_store: Callable[[], SqlStore], store: SqlStore) -> None:
    stores = [store] + [make_store() for _ in range(3)]
    increments = 10
    store.put(NS, "counter", {"n": 0})

    def increment(index: int) -> int:
        conflicts = 0
        for _ in range(increments):
            while True:
                current = stores[index].get(NS, "counter")
                try:
                    stores[index].put(NS, "counter", {"n": current.value["n"] + 1}, expected_version=current.version)
                    break
                except Conflict:
                    conflicts += 1
        return conflicts

    results = run_in_threads(len(stores), increment)

    assert not [result for result in results if isinstance(result, Exception)]
    final = store.get(NS, "counter")
    assert final.value == {"n": len(stores) * increments}
    assert final.version == len(stores) * increments + 1


# Tokens


@pytest.mark.parametrize("role", list(Role))
def test_created_token_verifies_with_its_role(store: SqlStore, role: Role) -> None:
    token, secret = store.create_token("ci", role)

    assert secret.startswith("dcsim_") and len(secret) > 40
    assert (token.name, token.role, token.revoked) == ("ci", role, False)
    assert store.verify_token(secret) == token


def test_wrong_secret_verifies_to_none(store: SqlStore) -> None:
    _, secret = store.create_token("ci", Role.ADMIN)

    assert store.verify_token(secret + "x") is None
    assert store.verify_token(secret[:-1]) is None
    assert store.verify_token("") is None


def test_secrets_are_unique(store: SqlStore) -> None:
    secrets = {store.create_token(f"t{index}", Role.VIEWER)[1] for index in range(20)}

    assert len(secrets) == 20


def test_secret_is_not_stored_in_plain_text(store: SqlStore) -> None:
    _, secret = store.create_token("ci", Role.OPERATOR)
    random_part = secret.removeprefix("dcsim_")

    with store.engine.connect() as connection:
        rows = connection.execute(select(tokens_table)).all()

    stored = " ".join(str(value) for row in rows for value in row)
    assert len(rows) == 1
    assert random_part not in stored
    assert random_part[:16] not in stored


def test_revoked_token_no_longer_verifies(store: SqlStore) -> None:
    token, secret = store.create_token("ci", Role.ADMIN)
    _, other_secret = store.create_token("other", Role.ADMIN)

    store.revoke_token(token.id)

    assert store.verify_token(secret) is None
    assert store.verify_token(other_secret) is not None
    assert [(listed.name, listed.revoked) for listed in store.list_tokens()] == [("ci", True), ("other", False)]


def test_revoking_an_unknown_token_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        store.revoke_token("no-such-token")


def test_list_tokens_oldest_first(store: SqlStore) -> None:
    names = [f"token-{index}" for index in range(5)]
    created = [store.create_token(name, Role.VIEWER)[0] for name in names]

    listed = store.list_tokens()

    assert [token.name for token in listed] == names
    assert listed == created


# Restart and availability


def test_data_survives_closing_and_reopening(make_store: Callable[[], SqlStore], store: SqlStore) -> None:
    document = store.put(NS, "a", {"kept": True})
    token, secret = store.create_token("ci", Role.OPERATOR)
    store.close()

    reopened = make_store()

    assert reopened.current_revision() == REVISIONS[-1]
    assert reopened.upgrade() == []
    assert reopened.get(NS, "a") == document
    assert reopened.verify_token(secret) == token
    assert store.get(NS, "a") == document, "a closed store reconnects when used again"


def test_ping_answers_on_a_working_database(store: SqlStore) -> None:
    store.ping()


def closed_port() -> int:
    """A loopback port that nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_unreachable_postgres_is_unavailable_without_the_password(tmp_path: Path, scheme: str) -> None:
    password = "s3cret-Pa55word"
    url = f"{scheme}://dcsim:{password}@127.0.0.1:{closed_port()}/dcsim"
    store = SqlStore(Settings(data_dir=tmp_path, database_url=url))

    for call in (store.ping, store.upgrade, lambda: store.get(NS, "a"), store.list_tokens):
        with pytest.raises(Unavailable) as caught:
            call()
        assert password not in str(caught.value)
        assert password not in caught.value.detail
        assert "dcsim:***@127.0.0.1" in str(caught.value)
    store.close()


def test_unopenable_sqlite_file_is_unavailable(tmp_path: Path) -> None:
    directory = tmp_path / "a-directory"
    directory.mkdir()
    store = SqlStore(Settings(data_dir=tmp_path, database_url=f"sqlite:///{directory}"))

    with pytest.raises(Unavailable):
        store.ping()
    store.close()


def test_sqlite_directory_that_cannot_be_created_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")

    with pytest.raises(Unavailable):
        SqlStore(Settings(data_dir=tmp_path, database_url=f"sqlite:///{blocker / 'sub' / 'db.sqlite3'}"))


# Database URLs


@pytest.mark.parametrize(
    "raw", ["postgres://u:p@db/dcsim", "postgresql://u:p@db/dcsim", "postgresql+psycopg://u:p@db/dcsim"]
)
def test_postgres_urls_use_psycopg(raw: str) -> None:
    url = normalize_url(raw)

    assert url.drivername == "postgresql+psycopg"
    assert (url.username, url.password, url.host, url.database) == ("u", "p", "db", "dcsim")


def test_default_database_is_a_sqlite_file_in_the_data_directory(tmp_path: Path) -> None:
    store = SqlStore(Settings(data_dir=tmp_path / "data"))
    store.upgrade()
    store.close()

    assert (tmp_path / "data" / "dcsim.sqlite3").is_file()


@pytest.mark.parametrize("raw", ["mysql://u:p@db/dcsim", "not a url"])
def test_unsupported_or_malformed_urls_are_config_errors(raw: str) -> None:
    with pytest.raises(ConfigError):
        normalize_url(raw)
