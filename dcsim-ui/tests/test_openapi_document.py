"""The document the UI's types are generated from: dc-sim's own API (core, dcsim-ucs's REST
API, dcsim-ansible's), whatever else is installed, and no vendor-format route."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dcsim_ui import openapi_document as module
from dcsim_ui.openapi_document import MissingDistributionError, openapi_document


def test_document_has_dcsim_style_apis_and_no_vendor_format_api() -> None:
    paths = openapi_document()["paths"]
    for path in (
        "/sim/vms",
        "/sim/hosts",
        "/itsm/incidents",
        "/cmdb/cis",
        "/events",
        "/patch/compliance",
        "/drift/events",
        "/ucs/api/v1/blades",
        "/ucs/api/v1/service-profiles/{name}/power",
        "/ansible/run",
        "/ansible/runs/{run_id}/events",
    ):
        assert path in paths, path
    # Other packages may be installed next to it (dcsim-vmware, dcsim-openstack, the hello
    # example) and answer in the vendors' formats; /nuova is dcsim-ucs's but speaks UCS
    # Manager's XML.
    vendor = ("/vcenter", "/nuova", "/hello", "/identity", "/compute", "/image", "/network", "/volume")
    assert not [p for p in paths if p.startswith(vendor)]
    # Every described operation answers dc-sim's JSON (or nothing), never a vendor format.
    for path, item in paths.items():
        if not path.startswith(("/ucs", "/ansible")):
            continue
        for operation in item.values():
            for answer in operation["responses"].values():
                assert set(answer.get("content", {})) <= {"application/json", "application/problem+json"}, path


def test_a_described_package_that_is_missing_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # A smaller document would make the committed types look stale for the wrong reason.
    monkeypatch.setattr(module, "DESCRIBED_DISTRIBUTIONS", module.DESCRIBED_DISTRIBUTIONS | {"dcsim-nowhere"})
    with pytest.raises(MissingDistributionError, match="install dcsim-nowhere first"):
        openapi_document()


def _print_document(env: dict[str, str]) -> str:
    command = [sys.executable, "-m", "dcsim_ui.openapi_document"]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout


def test_module_prints_the_same_document_whatever_the_dcsim_environment() -> None:
    # The staleness check of schema.d.ts relies on this: same code, same document. (Two
    # processes: the examples in the document are drawn from a generator seeded per process.)
    plain = _print_document({"PATH": "/usr/bin:/bin"})
    assert "/sim/vms" in json.loads(plain)["paths"]
    assert _print_document({"PATH": "/usr/bin:/bin", "DCSIM_LOG_LEVEL": "debug", "DCSIM_NO_SUCH": "x"}) == plain
