"""Fixtures for the ITSM tests: a controllable clock, a shared client, CI and event helpers."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dcsim import testing
from dcsim.app import DcSim
from dcsim.convert import to_json
from dcsim.plugins import load_plugins
from dcsim.settings import load_settings
from dcsim.testing import DcsimClient
from dcsim.web.app import create_app


class FakeClock:
    """A clock the test moves by hand; the ITSM service reads it through ``itsm.clock``."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(scope="session")
def shared_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DcsimClient]:
    """One started app for the ITSM tests that need only fresh records, not a fresh
    instance (the workflow tables alone have over a hundred cases)."""
    # One token makes every request of the session: well beyond the default rate limit.
    environ = {"DCSIM_RATE_LIMIT": "1000000/minute"}
    settings = load_settings(
        environ=environ, data_dir=tmp_path_factory.mktemp("itsm") / "dcsim", create_admin_token=False
    )
    sim = DcSim(settings, load_plugins(settings, ()))
    client = DcsimClient(create_app(sim), raise_server_exceptions=False)
    client.sim = sim
    with client:
        client.headers["Authorization"] = f"Bearer {client.token('admin')}"
        yield client


@pytest.fixture
def clock(shared_client: DcsimClient) -> Iterator[FakeClock]:
    """A fake clock installed in the shared instance's ITSM service for one test."""
    itsm = shared_client.sim.services["itsm"]
    real, itsm.clock = itsm.clock, FakeClock()
    yield itsm.clock
    itsm.clock = real


def ci_id(client: DcsimClient, name: str) -> str:
    """The id of the active CI called ``name``."""
    items = client.get(f"/cmdb/cis?q={name}").json()["items"]
    return next(ci["id"] for ci in items if ci["name"] == name)


def events(client: DcsimClient, prefix: str) -> list[dict[str, Any]]:
    """Every retained bus event whose type starts with ``prefix``, oldest first, as JSON."""
    client.call(client.sim.relay.drain)  # events reach the bus through the outbox relay
    retained = client.call(client.sim.bus.recent, 1_000_000)
    return [to_json(event) for _, event in retained if event.type.startswith(prefix)]


#: Poll a check until it answers something truthy (in-process effects come quickly).
eventually = functools.partial(testing.eventually, timeout=5.0, interval=0.02)
