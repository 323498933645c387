"""Rate limits per token, per role and per client address, counted in memory (memory bus)."""

from __future__ import annotations

import asyncio

import pytest

from dcsim.errors import ConfigError
from dcsim.web.app import create_app
from dcsim.web.ratelimit import MemoryCounters, Rate

PROBLEM = "application/problem+json"


def test_a_token_over_its_limit_gets_429_with_retry_after(make_client):
    client = make_client(role=None, rate_limit="3/minute")
    first, second = client.auth_headers("viewer"), client.auth_headers("viewer")
    assert [client.get("/plugins", headers=first).status_code for _ in range(3)] == [200, 200, 200]

    refused = client.get("/plugins", headers=first)
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-limit"] == "3"
    assert refused.headers["ratelimit-remaining"] == "0"
    problem = refused.json()
    assert problem["status"] == 429 and problem["code"] == "rate_limited" and "3/minute" in problem["detail"]
    # The budget is the token's: another token of the same client is not limited.
    assert client.get("/plugins", headers=second).status_code == 200


def test_refused_requests_of_the_wrong_role_still_count(make_client):
    client = make_client(role=None, rate_limit="2/minute")
    viewer = client.auth_headers("viewer")
    assert client.get("/tokens", headers=viewer).status_code == 403
    assert client.get("/tokens", headers=viewer).status_code == 403
    assert client.get("/plugins", headers=viewer).status_code == 429


def test_per_role_limits_override_the_default(make_client):
    client = make_client(role=None, rate_limit="2/minute", rate_limit_roles=("admin=5/minute", "operator=off"))
    viewer, admin, operator = (client.auth_headers(role) for role in ("viewer", "admin", "operator"))
    assert [client.get("/plugins", headers=viewer).status_code for _ in range(3)] == [200, 200, 429]
    assert [client.get("/plugins", headers=admin).status_code for _ in range(6)] == [200] * 5 + [429]
    assert {client.get("/plugins", headers=operator).status_code for _ in range(10)} == {200}


def test_open_routes_and_failed_sign_ins_count_per_address(make_client):
    client = make_client(role=None, rate_limit_anonymous="4/minute")
    assert client.get("/healthz").status_code == 200
    assert client.get("/plugins").status_code == 401
    assert client.get("/plugins", headers={"Authorization": "Bearer dcsim_wrong"}).status_code == 401
    assert client.get("/metrics").status_code == 200
    refused = client.get("/healthz")
    assert refused.status_code == 429 and "retry-after" in refused.headers
    assert client.get("/plugins").status_code == 429
    # A valid token has its own budget, not the address's.
    assert client.get("/plugins", headers=client.auth_headers("viewer")).status_code == 200


def test_limits_can_be_switched_off(make_client):
    client = make_client(rate_limit="off", rate_limit_anonymous="off")
    assert {client.get("/plugins").status_code for _ in range(50)} == {200}
    assert {client.get("/healthz").status_code for _ in range(50)} == {200}


def test_the_default_limit_is_per_minute():
    assert str(Rate.parse("600/minute", "rate_limit")) == "600/minute"
    assert Rate.parse("10/seconds", "rate_limit") == Rate(10, 1)
    assert Rate.parse("Off", "rate_limit") is None


@pytest.mark.parametrize("text", ["600", "0/minute", "-1/minute", "ten/minute", "5/fortnight", "5/"])
def test_a_malformed_rate_is_a_config_error(make_dcsim, text):
    with pytest.raises(ConfigError, match="rate_limit=") as caught:
        create_app(make_dcsim(rate_limit=text))
    assert caught.value.extra["setting"] == "rate_limit"


@pytest.mark.parametrize("entry", ["root=5/minute", "admin", "admin=5/fortnight"])
def test_a_malformed_role_override_is_a_config_error(make_dcsim, entry):
    with pytest.raises(ConfigError, match="rate_limit_roles"):
        create_app(make_dcsim(rate_limit_roles=(entry,)))


def test_a_window_ends_and_the_count_starts_again():
    now = [1000.0]
    counters = MemoryCounters(clock=lambda: now[0])
    assert asyncio.run(counters.hit("k", 60)) == (1, 60.0)
    now[0] += 59
    assert asyncio.run(counters.hit("k", 60)) == (2, 1.0)
    now[0] += 1
    assert asyncio.run(counters.hit("k", 60)) == (1, 60.0)
    assert asyncio.run(counters.hit("other", 60)) == (1, 60.0)
