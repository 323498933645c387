"""The engine with the virtual node backend: nodes follow the world, edits become events."""

from __future__ import annotations

from dcsim.sim.model import PowerState

# Core's own seed: its bare-metal servers' nodes are sim-bm-* (dcsim-ucs renames them).
SEED_NODES = [
    "sim-bm-c01s01", "sim-bm-c01s02", "sim-bm-c01s03", "sim-os-instance-001", "sim-os-instance-002",
    "sim-os-instance-003", "sim-vmw-vm-001", "sim-vmw-vm-002", "sim-vmw-vm-003",
]  # fmt: skip


async def test_seed_nodes_exist_and_follow_power(make_dcsim, recorder):
    async with make_dcsim(recorder) as dc:
        nodes = dc.sim.nodes
        assert sorted(await nodes.list_nodes()) == SEED_NODES
        assert 'ID="rhel"' in await nodes.read_file("sim-vmw-vm-001", "/etc/os-release")
        assert "ID=ubuntu" in await nodes.read_file("sim-bm-c01s02", "/etc/os-release")
        assert (await nodes.packages("sim-os-instance-001"))["openssh-server"].startswith("1:8.9p1")
        await dc.sim.power("vm-002", "off")
        assert await nodes.power_state("sim-vmw-vm-002") is PowerState.OFF
        await dc.sim.power("vm-002", "on")
        assert await nodes.power_state("sim-vmw-vm-002") is PowerState.ON


async def test_editing_sshd_config_emits_node_file_changed(make_dcsim, recorder):
    async with make_dcsim(recorder) as dc:
        path = dc.settings.data_dir / "nodes" / "sim-vmw-vm-001" / "root" / "etc" / "ssh" / "sshd_config"
        text = path.read_text()
        assert "PermitRootLogin prohibit-password\n" in text
        path.write_text(text.replace("PermitRootLogin prohibit-password", "PermitRootLogin yes"))
        await recorder.wait_for(lambda events: any(e.type == "node.file_changed" for e in events), timeout=2)
        event = next(e for e in recorder.events if e.type == "node.file_changed")
        vm = dc.sim.vm("vm-001")
        assert event.data["node"] == "sim-vmw-vm-001"
        assert event.data["path"] == "/etc/ssh/sshd_config"
        assert event.data["owner"] == f"vm/{vm.id}"
        diff = event.data["diff"].splitlines()
        assert diff[:2] == ["--- a/etc/ssh/sshd_config", "+++ b/etc/ssh/sshd_config"]
        assert "-PermitRootLogin prohibit-password" in diff and "+PermitRootLogin yes" in diff
        assert event.subject == "node/sim-vmw-vm-001"
