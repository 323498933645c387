"""Neutron v2.0 over dc-sim's world: networks, subnets, ports, routers, security groups
and floating IPs, served under ``/network/v2.0``.

Core's ``Network`` and ``Subnet`` are the networks and subnets; what only Neutron has
(a network's project, ``router:external``, a subnet's allocation pools ...) and
Neutron's own objects (ports, floating IPs) are kinds of this package
(:mod:`dcsim_openstack.network.model`). A server's NICs (core's ``Vm.nics``) are its
ports: the world keeps one truth for addresses.
"""
