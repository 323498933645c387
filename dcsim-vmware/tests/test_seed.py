"""Acceptance 1: pyvmomi over HTTPS and HTTP sees the simulation's inventory, and reading
every property of a VM one by one (the ``Fetch`` path), unset ones included, raises nothing."""

from __future__ import annotations

from conftest import VCenter, connect
from pyVmomi import vim

from dcsim.sim.model import Cluster, Host, Vm


def test_inventory_is_the_worlds_over_https(vcenter: VCenter) -> None:
    content = vcenter.si.RetrieveContent()
    [dc] = content.rootFolder.childEntity
    assert dc.name == "dc-west"
    [cluster] = dc.hostFolder.childEntity
    assert cluster.name == "cluster-01"
    world_cluster = vcenter.world.get(Cluster, "cluster-01")
    assert cluster.configurationEx.dasConfig.enabled is world_cluster.ha_enabled
    assert cluster.configurationEx.drsConfig.enabled is True
    assert sorted(h.name for h in cluster.host) == ["esxi-01", "esxi-02"]
    assert [d.name for d in dc.datastore] == ["ds-01"]
    networks = {n.name: n for n in dc.network}
    standard = {
        n: v
        for n, v in networks.items()
        if isinstance(v, vim.Network) and not isinstance(v, vim.dvs.DistributedVirtualPortgroup)
    }
    assert {"VM Network", "VM Network 200"} <= set(standard)
    assert {p.name for p in cluster.resourcePool.resourcePool} >= {"cluster-01-prod", "cluster-01-staging"}
    switches = [n for n in dc.networkFolder.childEntity if isinstance(n, vim.DistributedVirtualSwitch)]
    assert [s.name for s in switches] == ["dc-west-dvs"]
    assert sorted(p.name for p in switches[0].portgroup if "uplink" not in p.name.lower()) == [
        "dc-west-dvs-vlan100", "dc-west-dvs-vlan200"
    ]  # fmt: skip
    for sim_vm in vcenter.world.all(Vm):
        if sim_vm.platform != "vmware":
            continue
        vm = vcenter.vm(sim_vm.name)
        assert vm.runtime.host.name == vcenter.world.get(Host, sim_vm.host_id).name
        assert (vm.config.hardware.numCPU, vm.config.hardware.memoryMB) == (sim_vm.cpu, sim_vm.memory_mb)
        assert vm.runtime.powerState == "poweredOn"
        assert vm.datastore[0].name == "ds-01"
        nic = next(d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualEthernetCard))
        assert nic.macAddress == sim_vm.nics[0].mac
        assert vm.guest.ipAddress == sim_vm.nics[0].ip
        assert vm.config.guestId == ("ubuntu64Guest" if sim_vm.tags["os"] == "ubuntu22" else "rhel9_64Guest")


def test_plain_http_and_every_property_one_by_one(vcenter: VCenter) -> None:
    si = connect(vcenter.service.urls["http"])
    vm = next(
        v
        for v in si.RetrieveContent().rootFolder.childEntity[0].vmFolder.childEntity
        if isinstance(v, vim.VirtualMachine)
    )
    assert vm.snapshot is None  # unset: vCenter answers nothing, not a fault
    assert vm.rootSnapshot == []
    for prop in vim.VirtualMachine._propInfo:
        getattr(vm, prop)  # each is one Fetch; none may raise
    assert vm.summary.config.name == vm.name


def test_readyz_says_where(vcenter: VCenter) -> None:
    answer = vcenter.client.get("/readyz")
    assert answer.status_code == 200, answer.text
    assert vcenter.service.urls["https"] in answer.text and vcenter.service.urls["http"] in answer.text
