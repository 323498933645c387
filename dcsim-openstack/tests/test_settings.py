"""The ``[plugins.openstack]`` table: accounts and token life, checked when loaded."""

from __future__ import annotations

import pytest

from dcsim.errors import ConfigError
from dcsim_openstack.settings import DEFAULT_USERS, load_openstack_settings


def test_defaults():
    settings = load_openstack_settings({})
    assert [f"{a.name}:{a.password}:{a.role}" for a in settings.accounts] == list(DEFAULT_USERS)
    assert settings.token_seconds == 3600
    assert "password" not in repr(settings.accounts[0])


def test_environment_strings():
    settings = load_openstack_settings({"users": "ops:p:w:d:admin, view:x:reader", "token_seconds": "60"})
    assert [(a.name, a.password, a.role) for a in settings.accounts] == [
        ("ops", "p:w:d", "admin"),
        ("view", "x", "reader"),
    ]
    assert settings.token_seconds == 60


@pytest.mark.parametrize(
    "table",
    [{"users": ["ops:pw:root"]}, {"users": ["ops::admin"]}, {"users": ["a:x:admin", "a:y:member"]},
     {"token_seconds": 0}, {"token_seconds": 2.5}, {"token_seconds": True}, {"colour": "blue"}],
)  # fmt: skip
def test_refused(table):
    with pytest.raises(ConfigError, match=r"plugins\.openstack"):
        load_openstack_settings(table)


def test_configured_password_replaces_the_stored_one(make_client, tmp_path):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "demo", "domain": {"id": "default"}, "password": "changed"}}}}}  # fmt: skip
    first = make_client(role=None, data_dir=tmp_path)
    assert first.post("/identity/v3/auth/tokens", json=body).status_code == 401
    second = make_client(role=None, data_dir=tmp_path, plugins={"openstack": {"users": ["demo:changed:member"]}})
    assert second.post("/identity/v3/auth/tokens", json=body).status_code == 201
