"""Patch state across two instances on one PostgreSQL: runs visible through both, and a
due schedule starting one run (SPEC-018, "What fires once")."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from conftest import postgres_schema

from dcsim.app import DcSim
from dcsim.patch.service import NAMESPACE, PatchService


@pytest.fixture
async def pair(make_dcsim: Callable[..., DcSim], tmp_path: Path) -> AsyncIterator[tuple[DcSim, DcSim]]:
    """Instances A and B on one database, as two processes (each its own store object)."""
    with postgres_schema() as url:
        a = make_dcsim(database_url=url, data_dir=tmp_path / "a")
        await a.start()
        b = make_dcsim(database_url=url, data_dir=tmp_path / "b")
        await b.start()
        try:
            yield a, b
        finally:
            await asyncio.gather(a.close(), b.close())


def _patch(instance: DcSim) -> PatchService:
    return instance.services.get(PatchService)


async def test_a_due_schedule_starts_one_run_across_instances(pair: tuple[DcSim, DcSim]) -> None:
    a, b = pair
    policy = next(iter(_patch(a).policies))

    # Both instances' timers fall due at once.
    await asyncio.gather(_patch(a)._scheduled_run(policy), _patch(b)._scheduled_run(policy))

    stored = [d.value for d in await asyncio.to_thread(a.store.list, NAMESPACE, "run/")]
    assert [(r["policy"], r["requested_by"]) for r in stored] == [(policy, "schedule")]


async def test_a_run_started_through_one_instance_is_visible_through_the_other(pair: tuple[DcSim, DcSim]) -> None:
    a, b = pair
    policy = next(iter(_patch(a).policies))

    run = await _patch(a).start_run(policy, "api")

    async def seen() -> None:
        while run.id not in _patch(b).runs:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(seen(), 2.0)
    assert _patch(b).run(run.id).policy == policy
