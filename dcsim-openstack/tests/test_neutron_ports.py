"""Ports as Nova sees them (``dcsim_openstack.network.ports``): a server's NICs are its
ports, one truth for addresses; allocate, claim and release through the engine."""

from __future__ import annotations

import time

import pytest

from dcsim.sim.model import Network, Project, Vm
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.network.ports import allocate_port, auto_network, claim_port, release_ports, server_addresses

NET = "/network/v2.0"


def _neutron(client, token):
    def call(method: str, path: str, body=None):
        answer = client.request(method, NET + path, json=body, headers={"X-Auth-Token": token})
        return answer.status_code, answer.json() if answer.content else None

    return call


def test_nova_allocates_claims_and_releases_ports(os_client, keystone_token):
    neutron = _neutron(os_client, keystone_token("demo"))
    sim = os_client.sim.sim
    private, project = sim.world.get(Network, "private-net"), sim.world.get(Project, "demo")
    assert auto_network(sim.world, project.id).id == private.id
    status, created = neutron("POST", "/ports", {"port": {"network_id": private.id, "name": "handed-to-nova"}})
    assert status == 201
    handed = created["port"]

    async def boot():
        async with sim.transaction() as change:
            made = allocate_port(
                sim.world, change, network=private.id, project_id=project.id, server_id="srv-1", zone="nova"
            )
            claimed = claim_port(
                sim.world, change, port=handed["id"], project_id=project.id, server_id="srv-1", zone="nova"
            )
        return made, claimed

    made, claimed = os_client.call(boot)
    assert made.mac.startswith("fa:16:3e:") and made.network_id == private.id and made.ip.startswith("10.0.0.")
    assert (claimed.mac, claimed.ip) == (handed["mac_address"], handed["fixed_ips"][0]["ip_address"])
    _, body = neutron("GET", "/ports?device_id=srv-1")
    ports = {p["mac_address"]: p for p in body["ports"]}
    assert set(ports) == {made.mac, claimed.mac}
    assert {p["device_owner"] for p in ports.values()} == {"compute:nova"}
    assert ports[made.mac]["fixed_ips"][0]["ip_address"] == made.ip
    [default] = neutron("GET", "/security-groups?name=default")[1]["security_groups"]
    assert ports[made.mac]["security_groups"] == [default["id"]]

    async def claim_again():
        async with sim.transaction() as change:
            claim_port(sim.world, change, port=handed["id"], project_id=project.id, server_id="srv-2", zone="nova")

    with pytest.raises(OpenStackError) as refused:
        os_client.call(claim_again)
    assert (refused.value.status, refused.value.title) == (409, "PortInUse")

    async def delete_server():
        async with sim.transaction() as change:
            release_ports(sim.world, change, "srv-1")

    os_client.call(delete_server)
    assert neutron("GET", f"/ports/{ports[made.mac]['id']}")[0] == 404  # made for the server: gone
    status, kept = neutron("GET", f"/ports/{handed['id']}")
    assert status == 200 and (kept["port"]["device_id"], kept["port"]["status"]) == ("", "DOWN")


def test_a_vm_made_through_sim_is_a_port_and_deleting_the_port_takes_its_nic(os_client, keystone_token):
    neutron = _neutron(os_client, keystone_token("admin"))
    created = os_client.post(
        "/sim/vms", json={"name": "neutron-sim-vm", "cluster": "nova", "network": "private-net"},
        headers=os_client.auth_headers("admin"),
    )  # fmt: skip
    assert created.status_code == 201, created.text
    vm = created.json()
    [nic] = vm["nics"]
    _, body = neutron("GET", f"/ports?device_id={vm['id']}")
    [port] = body["ports"]
    assert (port["mac_address"], port["fixed_ips"][0]["ip_address"]) == (nic["mac"], nic["ip"])
    # Its address is in use for Neutron too: asking for it is a conflict.
    status, answer = neutron(
        "POST", "/ports", {"port": {"network_id": nic["network_id"], "fixed_ips": [{"ip_address": nic["ip"]}]}}
    )
    assert (status, answer["NeutronError"]["type"]) == (409, "IpAddressAlreadyAllocated")
    assert neutron("DELETE", f"/ports/{port['id']}")[0] == 204
    after = os_client.get(f"/sim/vms/{vm['id']}", headers=os_client.auth_headers("admin")).json()
    assert after["nics"] == []


def test_ports_of_a_vm_destroyed_through_sim_are_released(os_client, keystone_token):
    neutron = _neutron(os_client, keystone_token("admin"))
    admin = os_client.auth_headers("admin")
    vm = os_client.post("/sim/vms", json={"name": "neutron-gone-vm", "cluster": "nova"}, headers=admin).json()
    private = os_client.sim.sim.world.get(Network, "private-net")
    status, body = neutron(
        "POST", "/ports", {"port": {"network_id": private.id, "device_id": vm["id"], "device_owner": "compute:nova"}}
    )
    assert status == 201
    port_id = body["port"]["id"]
    assert os_client.delete(f"/sim/vms/{vm['id']}", headers=admin).status_code in (200, 204)
    deadline = time.monotonic() + 15
    while neutron("GET", f"/ports/{port_id}")[1]["port"]["device_id"] and time.monotonic() < deadline:
        time.sleep(0.2)
    port = neutron("GET", f"/ports/{port_id}")[1]["port"]
    assert (port["device_id"], port["device_owner"]) == ("", "")


def test_neutrons_objects_survive_a_restart(make_client):
    from conftest import password_auth

    def neutron_of(client):
        answer = client.post("/identity/v3/auth/tokens", json=password_auth("demo"))
        return _neutron(client, answer.headers["X-Subject-Token"])

    first = make_client(role=None)
    neutron = neutron_of(first)
    network = neutron("POST", "/networks", {"network": {"name": "kept-net"}})[1]["network"]
    subnet = neutron("POST", "/subnets", {"subnet": {"network_id": network["id"], "cidr": "192.168.99.0/24",
                                                     "allocation_pools": [{"start": "192.168.99.5", "end": "192.168.99.9"}]}})[1]["subnet"]  # fmt: skip
    port = neutron("POST", "/ports", {"port": {"network_id": network["id"], "name": "kept"}})[1]["port"]
    group = neutron("POST", "/security-groups", {"security_group": {"name": "kept-sg"}})[1]["security_group"]
    public = neutron("GET", "/networks?name=public")[1]["networks"][0]
    floating = neutron("POST", "/floatingips", {"floatingip": {"floating_network_id": public["id"]}})[1]["floatingip"]

    # A second instance on the same data directory loads the world from the store.
    again = neutron_of(make_client(role=None))
    assert again("GET", f"/networks/{network['id']}")[1]["network"]["subnets"] == [subnet["id"]]
    assert again("GET", f"/subnets/{subnet['id']}")[1]["subnet"]["allocation_pools"] == subnet["allocation_pools"]
    assert again("GET", f"/ports/{port['id']}")[1]["port"] == port
    assert again("GET", f"/security-groups/{group['id']}")[1]["security_group"] == group
    assert again("GET", f"/floatingips/{floating['id']}")[1]["floatingip"] == floating


def test_server_addresses_show_a_floating_ip_of_its_port(os_client, keystone_token):
    neutron = _neutron(os_client, keystone_token("demo"))
    world = os_client.sim.sim.world
    vm = world.get(Vm, "instance-001")
    [port] = neutron("GET", f"/ports?device_id={vm.id}")[1]["ports"]
    public = neutron("GET", "/networks?router:external=true")[1]["networks"][0]
    status, body = neutron(
        "POST", "/floatingips", {"floatingip": {"floating_network_id": public["id"], "port_id": port["id"]}}
    )
    assert status == 201, body
    floating = body["floatingip"]
    [nic] = vm.nics
    assert server_addresses(world, vm) == {
        "private-net": [
            {"version": 4, "addr": nic.ip, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": nic.mac},
            {"version": 4, "addr": floating["floating_ip_address"], "OS-EXT-IPS:type": "floating",
             "OS-EXT-IPS-MAC:mac_addr": nic.mac},
        ]
    }  # fmt: skip
    neutron("PUT", f"/floatingips/{floating['id']}", {"floatingip": {"port_id": None}})
    assert [a["OS-EXT-IPS:type"] for a in server_addresses(world, vm)["private-net"]] == ["fixed"]


def test_networks_made_and_deleted_through_neutron_follow_in_the_cmdb(os_client, keystone_token):
    neutron = _neutron(os_client, keystone_token("demo"))
    admin = os_client.auth_headers("admin")

    def cmdb_networks() -> dict[str, str]:
        items = os_client.get("/cmdb/cis?type=network&status=all&limit=500", headers=admin).json()["items"]
        return {ci["name"]: ci["status"] for ci in items}

    def wait_for(predicate) -> dict[str, str]:
        deadline = time.monotonic() + 15
        while not predicate(found := cmdb_networks()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return found

    network = neutron("POST", "/networks", {"network": {"name": "cmdb-net"}})[1]["network"]
    assert wait_for(lambda found: "cmdb-net" in found)["cmdb-net"] == "active"
    assert neutron("DELETE", f"/networks/{network['id']}")[0] == 204
    assert wait_for(lambda found: found.get("cmdb-net") == "decommissioned")["cmdb-net"] == "decommissioned"
