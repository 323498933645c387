"""Neutron through openstacksdk over a real ``dcsim serve``: the seed's networks, networks
and subnets, ports, routers with interfaces and a gateway, security groups and rules,
floating IPs, filters and fields, deletes, errors in Neutron's format, the reader role."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import openstack
import openstack.connection
import openstack.exceptions
import pytest

from dcsim.testing import ServerProcess, run_server

NET = "/network/v2.0"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server on the default seed and the virtual node backend, for the module."""
    os.environ["no_proxy"] = "127.0.0.1,localhost"
    with run_server(tmp_path_factory.mktemp("neutron") / "server") as running:
        yield running


def connect(server: ServerProcess, user: str) -> openstack.connection.Connection:
    """An openstacksdk connection as a seed user, scoped to project demo."""
    return openstack.connect(
        auth_url=f"{server.url}/identity/v3", username=user, password="password", project_name="demo",
        user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
    )  # fmt: skip


@pytest.fixture(scope="module")
def conn(server: ServerProcess) -> openstack.connection.Connection:
    """A connection as ``demo`` (role member of demo)."""
    return connect(server, "demo")


@pytest.fixture(scope="module")
def admin(server: ServerProcess) -> openstack.connection.Connection:
    """A connection as ``admin`` (role admin)."""
    return connect(server, "admin")


def raw(
    server: ServerProcess, conn: openstack.connection.Connection, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    """A request with the connection's token: status and decoded body."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{server.url}{path}", data=data, method=method)
    request.add_header("X-Auth-Token", conn.auth_token)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        text = exc.read()
        return exc.code, json.loads(text) if text else None


def test_version_document_and_the_seeds_networks(server, conn):
    with urllib.request.urlopen(f"{server.url}/network/", timeout=30) as response:
        assert json.loads(response.read())["versions"][0]["id"] == "v2.0"
    networks = {n.name: n for n in conn.network.networks()}
    assert {"private-net", "public"} <= set(networks)
    assert networks["public"].is_router_external and not networks["private-net"].is_router_external
    subnet = conn.network.find_subnet("private-subnet")
    assert (subnet.cidr, subnet.gateway_ip, subnet.is_dhcp_enabled) == ("10.0.0.0/24", "10.0.0.1", True)
    assert subnet.allocation_pools == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    router = conn.network.find_router("router1")
    assert router.external_gateway_info["network_id"] == networks["public"].id
    interface = next(conn.network.ports(device_id=router.id, device_owner="network:router_interface"))
    assert interface.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "10.0.0.1"}]
    group = conn.network.find_security_group("default", project_id=router.project_id)
    assert any(r["port_range_min"] == 22 for r in group.security_group_rules)


def test_a_servers_nics_are_its_ports(conn):
    server = next(s for s in conn.compute.servers() if s.name == "instance-001")
    [port] = conn.network.ports(device_id=server.id)
    assert port.device_owner == "compute:nova" and port.mac_address.startswith("fa:16:3e:")
    address = server.addresses["private-net"][0]["addr"]
    assert port.fixed_ips[0]["ip_address"] == address
    assert conn.network.get_port(port.id).id == port.id  # a stable id


def test_network_subnet_port_and_deletes(conn):
    network = conn.network.create_network(name="neutron-test-net", description="for tests")
    assert (network.status, network.is_admin_state_up, network.mtu) == ("ACTIVE", True, 1450)
    subnet = conn.network.create_subnet(
        network_id=network.id, name="neutron-test-subnet", ip_version=4, cidr="192.168.50.0/24",
        allocation_pools=[{"start": "192.168.50.100", "end": "192.168.50.102"}], is_dhcp_enabled=False,
        dns_nameservers=["192.0.2.53"],
    )  # fmt: skip
    assert (subnet.gateway_ip, subnet.is_dhcp_enabled) == ("192.168.50.1", False)
    assert conn.network.get_network(network.id).subnet_ids == [subnet.id]

    first = conn.network.create_port(network_id=network.id, name="p1")
    assert first.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "192.168.50.100"}]
    assert first.mac_address.startswith("fa:16:3e:") and first.status == "DOWN"
    chosen = conn.network.create_port(network_id=network.id, fixed_ips=[{"ip_address": "192.168.50.102"}])
    assert chosen.fixed_ips[0]["ip_address"] == "192.168.50.102"
    with pytest.raises(openstack.exceptions.ConflictException, match="already allocated"):
        conn.network.create_port(network_id=network.id, fixed_ips=[{"ip_address": "192.168.50.102"}])
    third = conn.network.create_port(network_id=network.id)
    assert third.fixed_ips[0]["ip_address"] == "192.168.50.101"
    with pytest.raises(openstack.exceptions.ConflictException, match="No more IP addresses"):
        conn.network.create_port(network_id=network.id)

    renamed = conn.network.update_port(first, name="p1-renamed", description="x")
    assert (renamed.name, renamed.description) == ("p1-renamed", "x")
    with pytest.raises(openstack.exceptions.ConflictException, match="ports still in use"):
        conn.network.delete_network(network)
    with pytest.raises(openstack.exceptions.ConflictException, match="IP allocation from this subnet"):
        conn.network.delete_subnet(subnet)
    for port in (first, chosen, third):
        conn.network.delete_port(port)
    conn.network.delete_network(network)  # takes its subnet with it
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.network.get_subnet(subnet.id)
    assert conn.network.find_network("neutron-test-net") is None


def test_subnet_cidr_gateway_and_pools_are_checked(server, conn):
    network = conn.network.create_network(name="neutron-cidr-net")
    try:
        bad = [
            {"cidr": "10.9.0.1/24"},  # host bits set
            {"cidr": "not-a-cidr"},
            {"cidr": "10.9.0.0/24", "ip_version": 6},
            {"cidr": "10.9.0.0/24", "gateway_ip": "10.8.0.1"},
            {"cidr": "10.9.0.0/24", "allocation_pools": [{"start": "10.9.1.1", "end": "10.9.1.5"}]},
        ]
        for extra in bad:
            status, body = raw(server, conn, "POST", f"{NET}/subnets", {"subnet": {"network_id": network.id, **extra}})
            assert status == 400, (extra, body)
            assert set(body["NeutronError"]) == {"type", "message", "detail"}
        ok = conn.network.create_subnet(
            network_id=network.id, ip_version=4, cidr="10.9.0.0/24", gateway_ip="10.9.0.254"
        )
        assert ok.allocation_pools == [{"start": "10.9.0.1", "end": "10.9.0.253"}]
        status, body = raw(
            server, conn, "POST", f"{NET}/subnets", {"subnet": {"network_id": network.id, "cidr": "10.9.0.128/25"}}
        )
        assert status == 400 and "overlaps" in body["NeutronError"]["message"]
        status, body = raw(server, conn, "POST", f"{NET}/subnets", {"subnet": {"network_id": network.id, "cidr": "10.10.0.0/24",
                                                                                 "bogus": 1}})  # fmt: skip
        assert status == 400 and "Unrecognized attribute(s) 'bogus'" in body["NeutronError"]["message"]
        v6 = conn.network.create_subnet(network_id=network.id, ip_version=6, cidr="fd00:9::/64")
        assert (v6.gateway_ip, v6.allocation_pools[0]["start"]) == ("fd00:9::1", "fd00:9::2")
        port = conn.network.create_port(network_id=network.id, fixed_ips=[{"subnet_id": v6.id}])
        assert port.fixed_ips == [{"subnet_id": v6.id, "ip_address": "fd00:9::2"}]
        conn.network.delete_port(port)
    finally:
        conn.network.delete_network(network)


def test_router_with_an_interface_and_a_gateway(conn):
    public = conn.network.find_network("public")
    network = conn.network.create_network(name="neutron-router-net")
    subnet = conn.network.create_subnet(network_id=network.id, ip_version=4, cidr="192.168.60.0/24")
    router = conn.network.create_router(name="neutron-router", external_gateway_info={"network_id": public.id})
    gateway_ips = router.external_gateway_info["external_fixed_ips"]
    assert gateway_ips and gateway_ips[0]["ip_address"].startswith("172.24.4.")
    info = conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    assert (info["subnet_id"], info["network_id"]) == (subnet.id, network.id)
    port = conn.network.get_port(info["port_id"])
    assert (port.device_id, port.device_owner) == (router.id, "network:router_interface")
    assert port.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "192.168.60.1"}]
    with pytest.raises(openstack.exceptions.BadRequestException, match="already has a port"):
        conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    with pytest.raises(openstack.exceptions.ConflictException, match="still has ports"):
        conn.network.delete_router(router)
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.network.delete_port(port)  # a router's port goes with its interface
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.network.get_port(info["port_id"])
    cleared = conn.network.update_router(router, external_gateway_info=None, name="neutron-router-2")
    assert cleared.external_gateway_info is None and cleared.name == "neutron-router-2"
    with pytest.raises(openstack.exceptions.BadRequestException, match="not an external network"):
        conn.network.update_router(router, external_gateway_info={"network_id": network.id})
    conn.network.delete_router(router)
    conn.network.delete_network(network)


def test_security_group_with_rules(conn):
    group = conn.network.create_security_group(name="neutron-web", description="web servers")
    assert {(r["direction"], r["ethertype"]) for r in group.security_group_rules} == {
        ("egress", "IPv4"),
        ("egress", "IPv6"),
    }
    rule = conn.network.create_security_group_rule(
        security_group_id=group.id, direction="ingress", protocol="tcp", port_range_min=443, port_range_max=443,
        remote_ip_prefix="192.0.2.0/24", ethertype="IPv4",
    )  # fmt: skip
    assert (rule.protocol, rule.port_range_min, rule.port_range_max, rule.remote_ip_prefix) == (
        "tcp",
        443,
        443,
        "192.0.2.0/24",
    )
    assert rule.id in {r["id"] for r in conn.network.get_security_group(group.id).security_group_rules}
    with pytest.raises(openstack.exceptions.ConflictException, match="already exists"):
        conn.network.create_security_group_rule(
            security_group_id=group.id, direction="ingress", protocol="tcp", port_range_min=443, port_range_max=443,
            remote_ip_prefix="192.0.2.0/24", ethertype="IPv4",
        )  # fmt: skip
    for bad in ({"direction": "sideways"}, {"direction": "ingress", "protocol": "tcp", "port_range_min": 90, "port_range_max": 80},
                {"direction": "ingress", "port_range_min": 22}, {"direction": "ingress", "remote_ip_prefix": "::/0"}):  # fmt: skip
        with pytest.raises(openstack.exceptions.BadRequestException):
            conn.network.create_security_group_rule(security_group_id=group.id, **bad)
    assert [r.id for r in conn.network.security_group_rules(security_group_id=group.id, direction="ingress")] == [
        rule.id
    ]
    conn.network.delete_security_group_rule(rule)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.network.get_security_group_rule(rule.id)
    default = conn.network.find_security_group("default", project_id=group.project_id)
    with pytest.raises(openstack.exceptions.ConflictException, match="default security group"):
        conn.network.delete_security_group(default)
    conn.network.delete_security_group(group)
    assert conn.network.find_security_group("neutron-web") is None


def test_floating_ip_associated_with_a_port(conn):
    public, private = conn.network.find_network("public"), conn.network.find_network("private-net")
    port = conn.network.create_port(network_id=private.id, name="neutron-fip-port")
    floating = conn.network.create_ip(floating_network_id=public.id)
    assert floating.floating_ip_address.startswith("172.24.4.") and floating.status == "DOWN"
    associated = conn.network.update_ip(floating, port_id=port.id)
    assert associated.fixed_ip_address == port.fixed_ips[0]["ip_address"]
    assert associated.router_id == conn.network.find_router("router1").id and associated.status == "ACTIVE"
    assert [f.id for f in conn.network.ips(port_id=port.id)] == [floating.id]
    conn.network.delete_port(port)  # disassociates
    assert conn.network.get_ip(floating.id).port_id is None
    # No router joins this network to public: unreachable.
    lonely = conn.network.create_network(name="neutron-lonely")
    conn.network.create_subnet(network_id=lonely.id, ip_version=4, cidr="192.168.70.0/24")
    stray = conn.network.create_port(network_id=lonely.id)
    with pytest.raises(openstack.exceptions.NotFoundException, match="not reachable"):
        conn.network.update_ip(floating, port_id=stray.id)
    with pytest.raises(openstack.exceptions.BadRequestException, match="external network"):
        conn.network.create_ip(floating_network_id=private.id)
    conn.network.delete_ip(floating)
    conn.network.delete_port(stray)
    conn.network.delete_network(lonely)


def test_filters_and_fields(server, conn):
    assert [n.name for n in conn.network.networks(is_router_external=True)] == ["public"]
    assert [n.name for n in conn.network.networks(name="private-net")] == ["private-net"]
    status, body = raw(server, conn, "GET", f"{NET}/networks?fields=id&fields=name&name=public")
    assert status == 200 and [set(n) for n in body["networks"]] == [{"id", "name"}]
    status, body = raw(server, conn, "GET", f"{NET}/ports?fixed_ips=ip_address%3D10.0.0.1&fields=device_owner")
    assert body["ports"] == [{"device_owner": "network:router_interface"}]
    status, body = raw(server, conn, "GET", f"{NET}/subnets?no_such_attribute=1")
    assert status == 400 and body["NeutronError"]["message"] == "[no_such_attribute] is invalid attribute for filtering"
    status, body = raw(server, conn, "GET", f"{NET}/networks?sort_key=name&sort_dir=desc&limit=1")
    assert [n["name"] for n in body["networks"]] == ["public"] and body["networks_links"][0]["rel"] == "next"
    status, body = raw(server, conn, "GET", f"{NET}/routers/{conn.network.find_router('router1').id}?fields=name")
    assert body == {"router": {"name": "router1"}}


def test_errors_are_neutrons(server, conn):
    status, body = raw(server, conn, "GET", f"{NET}/networks/no-such-network")
    assert (status, body["NeutronError"]["type"]) == (404, "NetworkNotFound")
    status, body = raw(server, conn, "DELETE", f"{NET}/ports/no-such-port")
    assert (status, body["NeutronError"]["type"]) == (404, "PortNotFound")
    private = conn.network.find_network("private-net")  # seed instances' ports are on it
    status, body = raw(server, conn, "DELETE", f"{NET}/networks/{private.id}")
    assert (status, body["NeutronError"]["type"]) == (409, "NetworkInUse")
    status, body = raw(server, conn, "POST", f"{NET}/networks", {"network": {"name": 5}})
    assert status == 400 and "NeutronError" in body
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.network.get_router("no-such-router")


def test_reader_cannot_change_anything(server, conn):
    reader = connect(server, "reader")
    assert {n.name for n in reader.network.networks()} >= {"private-net", "public"}
    with pytest.raises(openstack.exceptions.ForbiddenException):
        reader.network.create_network(name="neutron-reader-net")
    private = conn.network.find_network("private-net")
    for method, path, body in (
        ("POST", "/ports", {"port": {"network_id": private.id}}),
        ("PUT", f"/networks/{private.id}", {"network": {"name": "renamed"}}),
        ("POST", "/security-groups", {"security_group": {"name": "x"}}),
        ("POST", "/routers", {"router": {"name": "x"}}),
    ):
        status, answer = raw(server, reader, method, NET + path, body)
        assert status == 403 and "NeutronError" in answer, (path, answer)
    assert conn.network.find_network("neutron-reader-net") is None


def test_members_see_their_project_and_shared_or_external_networks(admin, conn):
    project = admin.identity.create_project(name="neutron-other", domain_id="default")
    try:
        hidden = admin.network.create_network(name="neutron-other-net", project_id=project.id)
        shared = admin.network.create_network(name="neutron-shared-net", project_id=project.id, is_shared=True)
        names = {n.name for n in conn.network.networks()}
        assert "neutron-shared-net" in names and "neutron-other-net" not in names
        with pytest.raises(openstack.exceptions.NotFoundException):
            conn.network.get_network(hidden.id)
        with pytest.raises(openstack.exceptions.ForbiddenException):
            conn.network.create_network(name="neutron-mine", project_id=project.id)
        # A project's default security group is made when the project first needs one.
        assert list(admin.network.security_groups(project_id=project.id)) == []
        admin.network.create_subnet(network_id=hidden.id, ip_version=4, cidr="192.168.80.0/24", project_id=project.id)
        port = admin.network.create_port(network_id=hidden.id, project_id=project.id)
        [default] = admin.network.security_groups(project_id=project.id, name="default")
        assert port.security_group_ids == [default.id]
        admin.network.delete_port(port)
        admin.network.delete_network(hidden)
        admin.network.delete_network(shared)
        admin.network.delete_security_group(default)  # an admin may
    finally:
        admin.identity.delete_project(project)


def test_a_server_booted_through_nova_gets_its_ports_from_neutron(conn):
    private = conn.network.find_network("private-net")
    handed = conn.network.create_port(network_id=private.id, name="neutron-handed")
    image, flavor = conn.image.find_image("ubuntu-22.04"), conn.compute.find_flavor("m1.tiny")
    server = conn.compute.create_server(
        name="neutron-booted", image_id=image.id, flavor_id=flavor.id,
        networks=[{"uuid": private.id}, {"port": handed.id}],
    )  # fmt: skip
    server = conn.compute.wait_for_server(server, wait=60)
    ports = {p.id: p for p in conn.network.ports(device_id=server.id)}
    assert handed.id in ports and len(ports) == 2
    assert {p.device_owner for p in ports.values()} == {"compute:nova"}
    addresses = {a["addr"] for a in server.addresses["private-net"]}
    assert addresses == {p.fixed_ips[0]["ip_address"] for p in ports.values()}
    [made] = [p for p in ports.values() if p.id != handed.id]
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.network.get_port(made.id)
    kept = conn.network.get_port(handed.id)
    assert (kept.device_id, kept.status) == ("", "DOWN")
    conn.network.delete_port(kept)
