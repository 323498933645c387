"""CMDB hooks: the vocabulary of configuration items and relationships."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.hooks import hookspec

if TYPE_CHECKING:
    from dcsim.cmdb.mapping import InventoryGroupRegistry, MappingRegistry
    from dcsim.registry import CmdbTypeRegistry


@hookspec
def dcsim_cmdb_register_types(registry: CmdbTypeRegistry) -> None:
    """Add configuration-item types and relationship types to the CMDB vocabulary.

    When: once, while the instance is built. Core registers the CI types vm, host,
    cluster, network, storage, application and datacenter, and the relationship types
    runs_on, member_of, connected_to, depends_on and hosted_in; a vendor package adds
    the CI types of its own kinds.

    Args:
        registry: call ``registry.add_ci_type(name, description)`` and
            ``registry.add_relationship_type(name, description, inverse)``.

    Returns: nothing. Calling rule: every implementation is called.
    """


@hookspec
def dcsim_cmdb_register_mappings(registry: MappingRegistry) -> None:
    """Map kinds of simulated objects onto CIs and relationships (what CMDB sync makes true).

    When: each time the CMDB starts, before its first sync. Core maps datacenter,
    cluster, chassis, blade, host, network, datastore and vm.

    Args:
        registry: ``registry.add(cls, mapper)``: ``mapper(world, obj)`` returns
            ``(CiSpec, [RelationshipSpec])`` for an object of class ``cls`` (CI type,
            name, attributes, tags; relationships by simulated ids), kinds mapped in
            registration order. ``registry.amend(cls, fn)``: ``fn(world, obj, spec,
            relationships)`` adds attributes, tags or relationships to the CI of another
            plugin's (or core's) kind. ``registry.add_sync_events(patterns, related=fn)``:
            event types (glob patterns) that change CIs; ``related(event)`` returns more
            ``(kind, id)`` pairs to sync than the event's subject.

    Returns: nothing. Calling rule: every implementation is called.
    """


@hookspec
def dcsim_cmdb_register_inventory_groups(registry: InventoryGroupRegistry) -> None:
    """Add groups to the Ansible dynamic inventory (``GET /cmdb/inventory``).

    When: each time the CMDB starts. Core groups every node's CI by platform (the group
    is named after the ``platform`` tag), guest OS, env, cluster, project and chassis.

    Args:
        registry: ``registry.add(rule)``: ``rule(ci)`` returns the names of the groups
            the node of CI ``ci`` belongs to (lower-cased, other characters than letters,
            digits and ``_`` made ``_``). ``registry.name_platform(platform, group)``
            names the group of a platform other than after its tag.

    Returns: nothing. Calling rule: every implementation is called.
    """
