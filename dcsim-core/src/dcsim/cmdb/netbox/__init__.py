"""The ``netbox`` CMDB backend: configuration items in a real NetBox, through pynetbox.

Configured with ``cmdb_backend = "netbox"``, ``netbox_url`` and ``netbox_token`` (installed
with ``pip install dcsim-core[netbox]``). Each CI is one NetBox object, chosen by CI type:
datacenter -> Site, cluster -> Cluster, host -> Device, vm -> VirtualMachine, network ->
VLAN (with a Prefix for its CIDR), or a Prefix when it has a CIDR and no VLAN id; CI types
NetBox has no model for become Tenants in a tenant group per type. Custom fields make
every object answerable as a CI; CI tags are NetBox tags named ``key:value``;
relationships NetBox can hold itself are its own fields. SPEC-007's NetBox section says why.

Modules: :mod:`.objects` (how CIs sit in NetBox, reading objects back), :mod:`.client`
(the connection and its error mapping), :mod:`.schema` (what dc-sim bootstraps in
NetBox), :mod:`.writer` (CI -> NetBox object), :mod:`.backend` (the backend and its index).
"""

from dcsim.cmdb.netbox.backend import NetboxCmdb

__all__ = ["NetboxCmdb"]
