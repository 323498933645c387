"""The CMDB's registration hooks: core calls each when the CMDB starts."""

from __future__ import annotations

import attrs

from dcsim import hookimpl
from dcsim.cmdb.model import CiSpec, RelationshipSpec
from dcsim.sim.model import Blade, Chassis

#: The vendor packages installed next to core in the development venv.
VENDOR_PLUGINS = ("ucs", "openstack", "vmware")


@attrs.define(kw_only=True)
class Pdu:
    """A rack PDU of a test plugin."""

    id: str
    name: str
    feeds: list[str] = attrs.field(factory=list)


class PduPlugin:
    @hookimpl
    def dcsim_sim_register_kinds(self, registry):
        registry.add("pdu", Pdu)

    @hookimpl
    def dcsim_sim_seed_topology(self, topology, settings):
        feeds = [topology.world.get(Blade, name).id for name in ("c01s01", "c01s02")]
        topology.add(Pdu(id=topology.id("pdu", "pdu-01"), name="pdu-01", feeds=feeds))

    @hookimpl
    def dcsim_cmdb_register_types(self, registry):
        registry.add_ci_type("pdu", "a rack power distribution unit")
        registry.add_relationship_type("feeds", "a PDU feeds a server", "fed_by")

    @hookimpl
    def dcsim_cmdb_register_mappings(self, registry):
        def map_pdu(world, pdu):
            spec = CiSpec(type="pdu", name=pdu.name, source_id=pdu.id, attributes={"outlets": len(pdu.feeds)},
                          tags={"platform": "power"})  # fmt: skip
            return spec, [RelationshipSpec(type="feeds", source_id=pdu.id, target_id=feed) for feed in pdu.feeds]

        def amend_chassis(world, chassis, spec, relationships):
            spec.attributes["powered_by"] = "pdu-01"

        registry.add(Pdu, map_pdu)
        registry.amend(Chassis, amend_chassis)


def test_dcsim_cmdb_register_mappings(make_client):
    client = make_client(PduPlugin())
    pdus = client.get("/cmdb/cis?type=pdu").json()["items"]
    assert [(ci["name"], ci["attributes"], ci["tags"]) for ci in pdus] == [
        ("pdu-01", {"outlets": 2}, {"platform": "power"})
    ]
    impact = client.get(f"/cmdb/cis/{pdus[0]['id']}/impact").json()
    assert {"c01s01", "c01s02"} <= {ci["name"] for ci in impact["upstream"]}
    chassis = client.get("/cmdb/cis?type=cluster&q=chassis-01").json()["items"][0]
    assert chassis["attributes"]["powered_by"] == "pdu-01"


class LabGroups:
    @hookimpl
    def dcsim_cmdb_register_inventory_groups(self, registry):
        registry.name_platform("baremetal", "metal")
        registry.add(lambda ci: ["lab_ssh"] if ci.attributes.get("ansible_port", 0) > 22005 else [])


def test_dcsim_cmdb_register_inventory_groups(make_client):
    client = make_client(LabGroups(), disable_plugins=VENDOR_PLUGINS)
    inventory = client.get("/cmdb/ansible/inventory").json()
    assert inventory["metal"]["hosts"] == ["sim-bm-c01s01", "sim-bm-c01s02", "sim-bm-c01s03"]
    assert "baremetal" not in inventory
    assert inventory["lab_ssh"]["hosts"] == [
        "sim-bm-c01s01", "sim-bm-c01s02", "sim-bm-c01s03", "sim-os-instance-003"
    ]  # fmt: skip
