"""RouteRegistry.add_error_format: a vendor API answers every error under its prefix in
its own format, the host's own errors (no such route, wrong method, body refused) too."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Request, Response, get, post
from litestar.exceptions import HTTPException

from dcsim import hookimpl
from dcsim.errors import ConfigError, NotFound
from dcsim.registry import RouteRegistry


def vendor_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    status = exc.status_code if isinstance(exc, HTTPException) else getattr(exc, "status", 500)
    return Response({"vendorFault": {"code": status, "path": request.url.path}}, status_code=status)


@get("/vendor/v1/things/{name:str}", opt={"public": True}, sync_to_thread=False)
def thing(name: str) -> dict[str, str]:
    if name == "missing":
        raise NotFound("no such thing")
    if name == "boom":
        raise RuntimeError("unexpected")
    return {"name": name}


@post("/vendor/v1/things", opt={"public": True}, sync_to_thread=False)
def create_thing(data: dict[str, int]) -> dict[str, int]:
    return data


class VendorPlugin:
    @hookimpl
    def dcsim_register_routes(self, registry: RouteRegistry) -> None:
        registry.add(thing)
        registry.add(create_thing)
        registry.add_error_format("/vendor", vendor_error)


def test_errors_under_the_prefix_answer_in_the_vendors_format(make_client):
    client = make_client(VendorPlugin(), role=None)
    assert client.get("/vendor/v1/things/a").json() == {"name": "a"}
    for method, path, status in (
        ("GET", "/vendor/v1/things/missing", 404),  # raised by the handler
        ("GET", "/vendor/v1/things/boom", 500),  # unexpected
        ("GET", "/vendor/v1/nothing/here", 404),  # no such route
        ("GET", "/vendor", 404),  # the prefix itself
        ("DELETE", "/vendor/v1/things/a", 405),  # wrong method
    ):
        answer = client.request(method, path)
        assert answer.status_code == status, (method, path)
        assert answer.json() == {"vendorFault": {"code": status, "path": path}}
    refused = client.post("/vendor/v1/things", content=b"{not json", headers={"Content-Type": "application/json"})
    assert refused.status_code == 400 and "vendorFault" in refused.json()


def test_errors_elsewhere_stay_problem_documents(make_client):
    client = make_client(VendorPlugin(), role=None)
    for path in ("/vendorx/v1", "/nothing", "/sim/state"):
        answer = client.get(path)
        assert answer.headers["content-type"].startswith("application/problem+json"), path
        assert "vendorFault" not in answer.json()


def test_a_prefix_must_be_a_path(make_client):
    registry = RouteRegistry()
    for prefix in ("vendor", "/vendor/"):
        with pytest.raises(ConfigError):
            registry.add_error_format(prefix, vendor_error)


def test_a_failed_plugin_leaves_no_error_format():
    registry = RouteRegistry()
    mark = registry.checkpoint()
    registry.add(thing)
    registry.add_error_format("/vendor", vendor_error)
    registry.rollback(mark)
    assert (registry.handlers, registry.error_formats) == ([], {})
