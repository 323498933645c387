"""Fixtures: a real ``dcsim serve`` with dcsim-ucs, and ucsmsdk handles logged in to it;
seed plugins (a spare blade, a second domain); the Ansible harness of the cisco.ucs tests.

ucsmsdk is the judge: every XML API test talks to the server through it (or posts raw
XML where the point is a request ucsmsdk would never send). Servers are started per
module: starting one takes a few seconds.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from ucsmsdk.ucshandle import UcsHandle

from dcsim import hookimpl, testing
from dcsim.sim.model import Chassis, Datacenter, GuestOs, Node, PowerState
from dcsim.testing import ServerProcess, run_server
from dcsim_ucs.seed import domain

ADMIN = ("admin", "password")
READ_ONLY = ("readonly", "readonly")
SPARE_NODE = "sim-ucs-blade-c01s05"
NEW_FIRMWARE = "4.3(2b)"


class SpareBlade:
    """A fifth blade in chassis-01, powered off, without a service profile, with a node."""

    @hookimpl
    def dcsim_sim_seed_topology(self, topology):
        chassis = topology.world.get(Chassis, "chassis-01")
        blade = topology.blade(
            "c01s05", chassis, 5, model="UCSB-B200-M5", cpu=4, memory_mb=16_384, firmware="4.2(3d)",
            node=Node(name=SPARE_NODE, guest_os=GuestOs.UBUNTU22, ssh_port=22010, env="prod"),
        )  # fmt: skip
        blade.power_state = PowerState.OFF


class SecondDomain:
    """ucs-domain-02 with chassis-02 and one free, powered-off blade c02s01."""

    @hookimpl
    def dcsim_sim_seed_topology(self, topology):
        west = topology.world.get(Datacenter, "dc-west")
        chassis = topology.chassis("chassis-02", west, platform="ucs", number=2, model="UCSB-5108-AC2")
        blade = topology.blade("c02s01", chassis, 1, model="UCSB-B200-M5", cpu=8, memory_mb=32_768,
                               firmware=NEW_FIRMWARE)  # fmt: skip
        blade.power_state = PowerState.OFF
        domain(topology, "ucs-domain-02", west, [chassis], firmware=NEW_FIRMWARE)


@pytest.fixture
def spare_blade() -> SpareBlade:
    """A plugin adding blade c01s05 (node ``sim-ucs-blade-c01s05``, off, no profile) to the seed."""
    return SpareBlade()


@pytest.fixture
def second_domain() -> SecondDomain:
    """A plugin adding ucs-domain-02 (chassis-02, blade c02s01) to the seed."""
    return SecondDomain()


@pytest.fixture(scope="module")
def ucs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server on the default seed and the virtual node backend, for the whole module."""
    with run_server(tmp_path_factory.mktemp("ucs") / "server") as server:
        yield server


@pytest.fixture(autouse=True, scope="session")
def _no_proxy() -> None:
    # urllib (under ucsmsdk) honours http_proxy; the server is on loopback.
    os.environ["no_proxy"] = "127.0.0.1,localhost"


def handle(server: ServerProcess, account: tuple[str, str] = ADMIN) -> UcsHandle:
    """A logged-in ucsmsdk handle on ``server``."""
    ucs = UcsHandle("127.0.0.1", account[0], account[1], port=server.port, secure=False)
    assert ucs.login() is True
    return ucs


@pytest.fixture
def ucs(ucs_server: ServerProcess) -> Iterator[UcsHandle]:
    """An admin ucsmsdk handle on the module's server; logged out afterwards."""
    ucs = handle(ucs_server)
    yield ucs
    ucs.logout()


def post_xml(server: ServerProcess, body: bytes | str) -> str:
    """POST a raw body to /nuova and return the response text (always HTTP 200)."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(f"{server.url}/nuova", data=data, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return str(response.read().decode())


def rest(server: ServerProcess, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call dc-sim's own API with the server's admin token; the decoded JSON answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{server.url}{path}", data=data, method=method)
    request.add_header("Authorization", f"Bearer {server.token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else None


#: Poll until truthy: the CMDB follows the world's events, it is not written in the request.
eventually = functools.partial(testing.eventually, timeout=10.0, interval=0.05)


# The Ansible harness shared by test_ansible.py and test_ansible_modules.py ----------

PLAYBOOKS = Path(__file__).parent / "playbooks"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


RECAP = re.compile(
    r"^ucsm\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)


@attrs.frozen
class PlaybookRun:
    """One ``ansible-playbook`` run: exit code, output and the host's PLAY RECAP counts."""

    returncode: int
    output: str
    recap: dict[str, int]

    def describe(self) -> str:
        return f"exit {self.returncode}, recap {self.recap}\n{self.output}"


@attrs.frozen
class Ansible:
    """Runs the test playbooks against one server, with ansible's state kept in ``home``."""

    server: ServerProcess
    home: Path

    def run(self, playbook: str, *args: str, password: str = "password") -> PlaybookRun:
        inventory = self.home / "inventory.ini"
        inventory.write_text(
            "[ucs]\n"
            "ucsm ansible_host=127.0.0.1 ansible_connection=local\n"
            "[ucs:vars]\n"
            f"ansible_python_interpreter={sys.executable}\n"
            "ucs_hostname=127.0.0.1\n"
            f"ucs_port={self.server.port}\n"
            "ucs_username=admin\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and not k.startswith("ANSIBLE_")}
        env |= {
            "no_proxy": "127.0.0.1,localhost",
            "ANSIBLE_HOME": str(self.home),
            "ANSIBLE_LOCAL_TEMP": str(self.home / "tmp"),
            "ANSIBLE_REMOTE_TEMP": str(self.home / "tmp"),
            "ANSIBLE_CONFIG": str(self.home / "ansible.cfg"),  # absent: no user or cwd config
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_HOST_KEY_CHECKING": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        }
        # The password goes in as an extra var (JSON, so any characters survive).
        command = [
            str(ANSIBLE_PLAYBOOK),
            "-i",
            str(inventory),
            "-e",
            json.dumps({"ucs_password": password}),
            *args,
            str(PLAYBOOKS / playbook),
        ]
        done = subprocess.run(command, env=env, cwd=self.home, capture_output=True, text=True, timeout=300)
        output = done.stdout + done.stderr
        match = RECAP.search(done.stdout)
        recap = {k: int(v) for k, v in match.groupdict().items()} if match else {}
        return PlaybookRun(returncode=done.returncode, output=output, recap=recap)


@pytest.fixture(scope="module")
def ansible(ucs_server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Ansible:
    """ansible-playbook against the module's server (conftest's ``ucs_server``)."""
    if not ANSIBLE_PLAYBOOK.exists():
        pytest.fail(f"{ANSIBLE_PLAYBOOK} is missing: install dcsim-ucs[test] (it brings ansible)")
    home = tmp_path_factory.mktemp("ansible-home")
    (home / "tmp").mkdir()
    return Ansible(server=ucs_server, home=home)


def assert_ok(run: PlaybookRun, *, ok: int, changed: int) -> None:
    assert run.returncode == 0, run.describe()
    assert run.recap == {"ok": ok, "changed": changed, "unreachable": 0, "failed": 0}, run.describe()
