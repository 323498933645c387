"""dcsim.open: the same services as the server, in-process, with state that persists."""

from __future__ import annotations

import stat

import dcsim
from dcsim.model import Role
from dcsim.settings import load_settings


async def test_open_start_publish_close(tmp_path):
    sim = dcsim.open(settings=_settings(tmp_path))
    async with sim:
        assert sim.started
        checks = await sim.readiness()
        assert all(check.ok for check in checks), checks
        await sim.relay.drain()  # the outbox relay publishes it
        started = [event for _, event in await sim.bus.recent(1000) if event.type == "dcsim.started"]
        assert len(started) == 1
        assert started[0].data["store"] == "sqlalchemy" and "sim" in started[0].data["plugins"]
    assert not sim.started


async def test_first_start_writes_a_private_admin_token(tmp_path):
    settings = _settings(tmp_path, create_admin_token=True)
    async with dcsim.open(settings=settings) as sim:
        path = settings.admin_token_path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        secret = path.read_text().strip()
        assert sim.new_admin_token == secret
        token = sim.store.verify_token(secret)
        assert token is not None and token.role is Role.ADMIN
    # A second start keeps the existing token and writes nothing new.
    async with dcsim.open(settings=settings) as again:
        assert again.new_admin_token is None
        assert path.read_text().strip() == secret


def test_data_survives_a_server_restart(make_client):
    first = make_client()
    created = first.post("/tokens", json={"role": "operator", "name": "kept"}).json()
    first.__exit__(None, None, None)  # stop the first server
    second = make_client(role=None)
    response = second.get("/plugins", headers={"Authorization": f"Bearer {created['secret']}"})
    assert response.status_code == 200


def _settings(tmp_path, **overrides):
    return load_settings(environ={}, data_dir=tmp_path / "dc", **{"create_admin_token": False, **overrides})


async def test_the_same_instance_restarts_with_its_metrics(tmp_path):
    from prometheus_client import generate_latest

    sim = dcsim.open(settings=_settings(tmp_path))
    for _ in range(2):
        async with sim:
            text = generate_latest(sim.metrics).decode()
            assert text.count("# TYPE dcsim_vm_cpu_usage gauge") == 1
    assert sim.sim.collector is None
