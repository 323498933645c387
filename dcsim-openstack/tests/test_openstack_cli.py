"""Acceptance 2: the ``openstack`` CLI (python-openstackclient) with a ``clouds.yaml``
against a real ``dcsim serve``: each command succeeds and prints what it made."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dcsim.testing import ServerProcess, run_server

OPENSTACK = shutil.which("openstack", path=str(Path(sys.executable).parent)) or shutil.which("openstack")
pytestmark = pytest.mark.skipif(OPENSTACK is None, reason="python-openstackclient is not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server on the default seed, for the module."""
    with run_server(tmp_path_factory.mktemp("cli") / "server") as running:
        yield running


@pytest.fixture(scope="module")
def openstack(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    """``openstack(*args)``: the CLI as user demo through a clouds.yaml; its JSON output."""
    home = tmp_path_factory.mktemp("cli-home")
    clouds = home / "clouds.yaml"
    clouds.write_text(
        "clouds:\n"
        "  dcsim:\n"
        "    auth:\n"
        f"      auth_url: {server.url}/identity\n"
        "      username: demo\n"
        "      password: password\n"
        "      project_name: demo\n"
        "      user_domain_name: Default\n"
        "      project_domain_name: Default\n"
        "    region_name: RegionOne\n"
        "    identity_api_version: 3\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env |= {"OS_CLIENT_CONFIG_FILE": str(clouds), "OS_CLOUD": "dcsim", "HOME": str(home),
            "no_proxy": "127.0.0.1,localhost"}  # fmt: skip

    def run(*args: str, output: bool = True) -> Any:
        assert OPENSTACK is not None
        command = [OPENSTACK, *args, *(["-f", "json"] if output else [])]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"openstack {' '.join(args)}: {done.stderr}"
        return json.loads(done.stdout) if output else done.stdout

    return run


def test_token_issue(openstack, server):
    token = openstack("token", "issue")
    assert token["id"] and token["project_id"] and token["user_id"]
    assert token["expires"]


def test_flavor_image_and_server_lists(openstack):
    assert {"m1.tiny", "m1.small", "m1.medium", "m1.large"} <= {f["Name"] for f in openstack("flavor", "list")}
    assert {"ubuntu-22.04", "rhel-9"} <= {i["Name"] for i in openstack("image", "list")}
    servers = {s["Name"]: s for s in openstack("server", "list")}
    assert {"instance-001", "instance-002", "instance-003"} <= set(servers)
    assert servers["instance-001"]["Status"] == "ACTIVE"
    assert servers["instance-001"]["Flavor"] == "m1.small"


def test_create_network_subnet_router_rule_server_volume(openstack):
    network = openstack("network", "create", "cli-net")
    assert network["name"] == "cli-net" and network["id"]
    subnet = openstack("subnet", "create", "--network", "cli-net", "--subnet-range", "192.168.77.0/24", "cli-subnet")
    assert (subnet["name"], subnet["cidr"], subnet["network_id"]) == ("cli-subnet", "192.168.77.0/24", network["id"])
    router = openstack("router", "create", "cli-router")
    assert router["name"] == "cli-router"
    openstack("router", "add", "subnet", "cli-router", "cli-subnet", output=False)
    assert openstack("port", "list", "--router", "cli-router")[0]["Fixed IP Addresses"]
    group = openstack("security", "group", "create", "cli-web")
    rule = openstack("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "8080", group["id"])
    assert (rule["port_range_min"], rule["port_range_max"], rule["security_group_id"]) == (8080, 8080, group["id"])
    created = openstack("server", "create", "--flavor", "m1.tiny", "--image", "ubuntu-22.04", "--network", "cli-net",
                        "--wait", "cli-server")  # fmt: skip
    assert created["name"] == "cli-server" and created["status"] == "ACTIVE"
    assert "192.168.77." in json.dumps(created["addresses"])
    openstack("server", "stop", "cli-server", output=False)
    # The stop is asynchronous in Nova: the CLI returns before the server is SHUTOFF.
    deadline = time.monotonic() + 60
    while (status := openstack("server", "show", "cli-server")["status"]) != "SHUTOFF":
        assert time.monotonic() < deadline, status
        time.sleep(1)
    volume = openstack("volume", "create", "--size", "1", "cli-volume")
    assert (volume["name"], volume["size"]) == ("cli-volume", 1)
