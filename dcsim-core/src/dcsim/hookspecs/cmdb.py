"""CMDB hooks: the vocabulary of configuration items and relationships."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.hooks import hookspec

if TYPE_CHECKING:
    from dcsim.registry import CmdbTypeRegistry


@hookspec
def dcsim_cmdb_register_types(registry: CmdbTypeRegistry) -> None:
    """Add configuration-item types and relationship types to the CMDB vocabulary.

    When: once, while the instance is built. Core registers the CI types vm, host,
    cluster, network, storage, service_profile, application and datacenter, and the
    relationship types runs_on, member_of, connected_to, depends_on and hosted_in.

    Args:
        registry: call ``registry.add_ci_type(name, description)`` and
            ``registry.add_relationship_type(name, description, inverse)``.

    Returns: nothing. Calling rule: every implementation is called.
    """
