"""Drivers: exactly one implementation chosen by name per namespace, through stevedore.

Namespaces (entry-point groups), the setting that names the driver, and core's drivers:

=================  =================  ==========================================
namespace          setting            drivers shipped by core
=================  =================  ==========================================
``dcsim.bus``      ``bus_driver``     ``memory`` (default), ``redis``
``dcsim.store``    ``store_driver``   ``sqlalchemy`` (SQLite by default, PostgreSQL)
``dcsim.cmdb``     ``cmdb_backend``   (added with the CMDB: ``builtin``, ``netbox``)
``dcsim.nodes``    ``node_backend``   (added with the simulation: ``virtual``, ``docker``)
=================  =================  ==========================================

A third party adds a driver by shipping an entry point in one of these groups.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

import stevedore
from stevedore.exception import NoMatches

from dcsim.errors import ConfigError
from dcsim.model import DriverInfo
from dcsim.settings import Settings

NAMESPACES: dict[str, str] = {
    "dcsim.bus": "bus_driver",
    "dcsim.store": "store_driver",
    "dcsim.cmdb": "cmdb_backend",
    "dcsim.nodes": "node_backend",
}


def driver_class(namespace: str, name: str) -> Any:
    """Load the driver class ``name`` from ``namespace``; unknown names raise ConfigError."""
    try:
        manager: stevedore.DriverManager[Any] = stevedore.DriverManager(
            namespace=namespace, name=name, invoke_on_load=False
        )
    except NoMatches as exc:
        available = ", ".join(sorted(available_drivers(namespace))) or "none installed"
        raise ConfigError(f"no driver {name!r} in {namespace} (available: {available})") from exc
    return manager.driver


def load_driver(namespace: str, settings: Settings) -> Any:
    """Construct the driver that ``settings`` names for ``namespace`` with the settings."""
    name = getattr(settings, NAMESPACES[namespace])
    return driver_class(namespace, name)(settings)


def _entry_points(namespace: str) -> list[importlib.metadata.EntryPoint]:
    # Listing reads entry points only, so a driver that fails to import is still listed.
    unique = {ep.name: ep for ep in importlib.metadata.entry_points(group=namespace)}
    return [unique[name] for name in sorted(unique)]


def available_drivers(namespace: str) -> list[str]:
    """Names of the drivers installed in ``namespace``, without importing them."""
    return [ep.name for ep in _entry_points(namespace)]


def list_drivers(settings: Settings) -> list[DriverInfo]:
    """Every installed driver in every namespace, marking the ones configuration selects."""
    infos = []
    for namespace, setting in NAMESPACES.items():
        selected = getattr(settings, setting)
        for ep in _entry_points(namespace):
            infos.append(
                DriverInfo(
                    namespace=namespace,
                    name=ep.name,
                    target=ep.value,
                    distribution=ep.dist.name if ep.dist else None,
                    version=ep.dist.version if ep.dist else None,
                    selected=ep.name == selected,
                )
            )
    return infos
