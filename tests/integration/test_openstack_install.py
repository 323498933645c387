"""Acceptance 5 of dcsim-openstack: installed alone next to core (a fresh venv, from its
source folder as a user installs it), the plugin loads and Keystone's catalog answers;
uninstalled, the OpenStack APIs are gone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from support import REPO, Server, Venv

AUTH = {"auth": {
    "identity": {"methods": ["password"],
                 "password": {"user": {"name": "demo", "domain": {"name": "Default"}, "password": "password"}}},
    "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}},
}}  # fmt: skip


def test_openstack_installed_alone_next_to_core_answers_and_uninstalled_is_gone(
    make_venv: Callable[..., Venv], serve: Callable[..., Server], tmp_path: Path
) -> None:
    venv = make_venv("openstack-alone", REPO / "dcsim-core", REPO / "dcsim-openstack")
    plugins = venv.plugins(tmp_path)
    assert plugins["openstack"]["status"] == "loaded", plugins["openstack"]
    assert plugins["openstack"]["distribution"] == "dcsim-openstack"
    assert not {"ucs", "vmware", "ansible"} & set(plugins)

    server = serve(venv)
    assert server.get("/identity").status_code == 300
    issued = httpx.post(f"{server.url}/identity/v3/auth/tokens", json=AUTH, timeout=30)
    assert issued.status_code == 201, issued.text
    catalog = {entry["type"]: entry["endpoints"] for entry in issued.json()["token"]["catalog"]}
    assert {"identity", "compute", "network", "block-storage", "image"} <= set(catalog)
    assert catalog["compute"][0]["url"] == f"{server.url}/compute/v2.1"
    token = {"X-Auth-Token": issued.headers["X-Subject-Token"]}
    flavors = httpx.get(f"{server.url}/compute/v2.1/flavors", headers=token, timeout=30)
    assert "m1.small" in {f["name"] for f in flavors.json()["flavors"]}, flavors.text
    images = httpx.get(f"{server.url}/image/v2/images", headers=token, timeout=30)
    assert {"ubuntu-22.04", "rhel-9"} <= {i["name"] for i in images.json()["images"]}, images.text
    server.stop()

    venv.uninstall("dcsim-openstack")
    plugins = venv.plugins(tmp_path)
    assert "openstack" not in plugins and plugins["sim"]["status"] == "loaded"
    server = serve(venv)
    gone = httpx.post(f"{server.url}/identity/v3/auth/tokens", json=AUTH, timeout=30)
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert server.get("/compute/v2.1/flavors").status_code == 404
