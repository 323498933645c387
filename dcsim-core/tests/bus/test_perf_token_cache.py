"""Tokens verified from memory (issue #18, dcsim.auth.tokens): the store is asked once per
token and age bound, and a revoked token is refused by every process within that bound.

The two-process test runs two real ``dcsim serve`` processes on one PostgreSQL store and
one Redis bus, as a deployment with two replicas does.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_server import RedisServer, free_port

from dcsim.auth.tokens import MAX_STALE_SECONDS, TokenCache
from dcsim.model import Role, Token
from dcsim.settings import Settings
from dcsim.store.sql import SqlStore
from dcsim.testing import postgres_schema, required_database_url

# Time for one request on a busy 2-core machine, on top of the bound.
REQUEST_SLACK_SECONDS = 2.0


class CountingStore(SqlStore):
    """A real SQLite store that counts how often a token is looked up."""

    lookups = 0

    def verify_token(self, secret: str) -> Token | None:
        self.lookups += 1
        return super().verify_token(secret)


@pytest.fixture
def counting_store(tmp_path: Path) -> Iterator[CountingStore]:
    store = CountingStore(Settings(data_dir=tmp_path))
    store.upgrade()
    yield store
    store.close()


async def test_a_verified_token_is_served_from_memory_until_the_bound(counting_store: CountingStore) -> None:
    _, secret = counting_store.create_token("reader", Role.VIEWER)
    cache = TokenCache(counting_store, max_age_seconds=0.5)
    for _ in range(100):
        token = await cache.verify(secret)
        assert token is not None and token.name == "reader"
    assert counting_store.lookups == 1
    time.sleep(0.6)
    assert await cache.verify(secret) is not None
    assert counting_store.lookups == 2


async def test_unknown_secrets_are_not_cached_and_new_tokens_work_at_once(counting_store: CountingStore) -> None:
    cache = TokenCache(counting_store)
    assert await cache.verify("dcsim_unknown") is None
    assert await cache.verify("dcsim_unknown") is None
    assert counting_store.lookups == 2
    _, secret = counting_store.create_token("new", Role.ADMIN)
    assert (await cache.verify(secret)) is not None


async def test_forget_drops_a_revoked_token_at_once(counting_store: CountingStore) -> None:
    token, secret = counting_store.create_token("gone", Role.VIEWER)
    cache = TokenCache(counting_store, max_age_seconds=3600)
    assert await cache.verify(secret) is not None
    counting_store.revoke_token(token.id)
    assert await cache.verify(secret) is not None  # still within the (long) bound
    cache.forget(token.id)
    assert await cache.verify(secret) is None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty schema of the test PostgreSQL; skip (fail on CI) without one."""
    with postgres_schema(required_database_url("the two-process test"), "dcsim_test") as url:
        yield url


class Served:
    """A ``dcsim serve`` process of the test, stopped by its PID."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        data_dir.mkdir()
        self.log = (data_dir / "serve.log").open("wb")
        dcsim = str(Path(sys.executable).with_name("dcsim"))
        self.process = subprocess.Popen(
            [dcsim, "--data-dir", str(data_dir), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def status(self, method: str, path: str, secret: str, body: object = None) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
            connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"dcsim serve exited with {self.process.returncode}"
            try:
                if self.status("GET", "/healthz", "-")[0] == 200:
                    return
            except OSError:
                pass  # not listening yet
            time.sleep(0.1)
        raise AssertionError("dcsim serve did not answer /healthz")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)
        self.log.close()


@pytest.fixture
def two_processes(tmp_path: Path, postgres_url: str, redis_server: RedisServer) -> Iterator[tuple[Served, Served]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DCSIM_")} | {
        "DCSIM_DATABASE_URL": postgres_url,
        "DCSIM_BUS_DRIVER": "redis",
        "DCSIM_REDIS_URL": redis_server.url,
        "DCSIM_BUS_STREAM": f"test:{uuid.uuid4().hex}",
        "DCSIM_RATE_LIMIT": "off",
        "DCSIM_LOG_LEVEL": "WARNING",
    }
    first = Served(tmp_path / "a", env)
    servers = [first]
    try:
        # One after the other: the first migrates the shared database.
        first.wait_healthy()
        second = Served(tmp_path / "b", env)
        servers.append(second)
        second.wait_healthy()
        yield first, second
    finally:
        for server in servers:
            server.stop()


def test_a_revoked_token_is_refused_by_every_process_within_the_bound(
    two_processes: tuple[Served, Served], postgres_url: str, tmp_path: Path
) -> None:
    first, second = two_processes
    store = SqlStore(Settings(data_dir=tmp_path, database_url=postgres_url))
    try:
        _, admin = store.create_token("test-admin", Role.ADMIN)
    finally:
        store.close()
    status, body = first.status("POST", "/tokens", admin, {"name": "doomed", "role": "admin"})
    assert status == 201, body
    doomed = json.loads(body)
    # A new token works at once in both processes, and is now cached by both.
    for server in (first, second):
        for _ in range(3):
            assert server.status("GET", "/tokens?limit=1", doomed["secret"])[0] == 200

    status, body = first.status("DELETE", f"/tokens/{doomed['id']}", admin)
    assert status == 204, body
    revoked_at = time.monotonic()
    refused_after = {}
    while len(refused_after) < 2 and time.monotonic() - revoked_at < MAX_STALE_SECONDS + REQUEST_SLACK_SECONDS:
        for name, server in (("first", first), ("second", second)):
            if name not in refused_after and server.status("GET", "/tokens?limit=1", doomed["secret"])[0] == 401:
                refused_after[name] = time.monotonic() - revoked_at
        time.sleep(0.05)
    assert sorted(refused_after) == ["first", "second"], f"still accepted after the bound: {refused_after}"
    # The admin token of the same store is unaffected.
    assert second.status("GET", "/tokens?limit=1", admin)[0] == 200
