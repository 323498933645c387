"""Fixtures of dcsim-openstack's tests: an in-process client and Keystone tokens for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

PASSWORDS = {"admin": "password", "demo": "password", "reader": "password"}


def password_auth(user: str, password: str | None = None, project: str | None = "demo") -> dict[str, Any]:
    """A ``POST /v3/auth/tokens`` body for ``user`` (scoped to ``project`` unless None)."""
    auth: dict[str, Any] = {
        "identity": {
            "methods": ["password"],
            "password": {
                "user": {"name": user, "domain": {"name": "Default"}, "password": password or PASSWORDS[user]}
            },
        }
    }
    if project:
        auth["scope"] = {"project": {"name": project, "domain": {"id": "default"}}}
    return {"auth": auth}


@pytest.fixture
def os_client(make_client):
    """A test client of an instance with every installed plugin, and no dc-sim token."""
    return make_client(role=None)


@pytest.fixture
def keystone_token(os_client) -> Callable[..., str]:
    """``keystone_token(user)``: a project-scoped token of a seed user."""

    def issue(user: str = "admin", project: str | None = "demo") -> str:
        answer = os_client.post("/identity/v3/auth/tokens", json=password_auth(user, project=project))
        assert answer.status_code == 201, answer.text
        return str(answer.headers["X-Subject-Token"])

    return issue
