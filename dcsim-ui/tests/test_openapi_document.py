"""The document the UI's types are generated from: core's own API, whatever else is installed."""

from __future__ import annotations

import json
import subprocess
import sys

from dcsim_ui.openapi_document import openapi_document


def test_document_has_core_api_and_no_vendor_api() -> None:
    paths = openapi_document()["paths"]
    for path in (
        "/sim/vms",
        "/sim/hosts",
        "/itsm/incidents",
        "/cmdb/cis",
        "/events",
        "/patch/compliance",
        "/drift/events",
    ):
        assert path in paths, path
    # Vendor packages may be installed next to it; their APIs speak the vendors' formats.
    assert not [p for p in paths if p.startswith(("/vcenter", "/ucs", "/nuova", "/ansible", "/hello"))]


def _print_document(env: dict[str, str]) -> str:
    command = [sys.executable, "-m", "dcsim_ui.openapi_document"]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout


def test_module_prints_the_same_document_whatever_the_dcsim_environment() -> None:
    # The staleness check of schema.d.ts relies on this: same code, same document.
    plain = _print_document({"PATH": "/usr/bin:/bin"})
    assert "/sim/vms" in json.loads(plain)["paths"]
    assert _print_document({"PATH": "/usr/bin:/bin", "DCSIM_LOG_LEVEL": "debug", "DCSIM_NO_SUCH": "x"}) == plain
