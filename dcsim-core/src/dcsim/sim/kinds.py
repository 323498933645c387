"""The kinds of simulated objects: core's, and those plugins register.

A kind is a name (used in store keys, ``GET /sim/state``, CMDB sync and event
subjects), an attrs class, and the store namespace its objects live in. Its JSON shape
is what the one converter (``dcsim.convert.converter``) makes of the class; a plugin that
needs another shape registers cattrs hooks on that converter for its class.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import attrs

from dcsim.errors import ConfigError
from dcsim.sim.model import CORE_KINDS

if TYPE_CHECKING:
    from dcsim.plugins import PluginHost

#: The store namespace of simulated objects unless a kind names another; keys are ``<kind>/<id>``.
NAMESPACE = "sim"
#: The MAC prefix of NICs on a platform no plugin gave one (a locally administered OUI).
DEFAULT_MAC_PREFIX = "02:00:00"


@attrs.frozen
class Kind:
    """A kind of simulated object."""

    name: str
    cls: type
    namespace: str = NAMESPACE
    description: str = ""
    #: False for a kind whose objects may share a name (cloud APIs allow it); the
    #: world then finds them by name only when one object has it.
    unique_names: bool = True


class KindRegistry:
    """Kinds of simulated objects and the MAC prefix of each platform's NICs.

    Handed to ``dcsim_sim_register_kinds``; core's kinds are in it from the start.
    """

    def __init__(self) -> None:
        self._kinds: dict[str, Kind] = {}
        self._of: dict[type, str] = {}
        self._mac_prefixes: dict[str, str] = {}
        self.add_all(CORE_KINDS)

    def add(
        self,
        name: str,
        cls: type,
        *,
        namespace: str = NAMESPACE,
        description: str | None = None,
        unique_names: bool = True,
    ) -> None:
        """Register the attrs class ``cls`` as kind ``name``, stored in ``namespace``
        (described by the first line of its docstring unless ``description`` is given);
        ``unique_names=False`` lets two objects of the kind have the same name.

        Raises:
            ConfigError: the name or the class is registered already, or ``cls`` is not
                an attrs class with ``id`` and ``name`` fields.
        """
        if name in self._kinds:
            raise ConfigError(f"kind {name!r} is registered twice")
        if cls in self._of:
            raise ConfigError(f"class {cls.__qualname__} is registered already, as kind {self._of[cls]!r}")
        if not attrs.has(cls) or not {"id", "name"} <= {f.name for f in attrs.fields(cls)}:
            raise ConfigError(f"kind {name!r}: {cls.__qualname__} must be an attrs class with 'id' and 'name'")
        if description is None:
            description = next(iter((cls.__doc__ or "").strip().splitlines()), "")
        self._kinds[name] = Kind(name, cls, namespace, description, unique_names)
        self._of[cls] = name

    def add_all(self, kinds: Mapping[str, type], *, namespace: str = NAMESPACE, unique_names: bool = True) -> None:
        """Register every ``name: cls`` of ``kinds`` (see :meth:`add`)."""
        for name, cls in kinds.items():
            self.add(name, cls, namespace=namespace, unique_names=unique_names)

    def add_platform(self, name: str, *, mac_prefix: str) -> None:
        """Give NICs of VMs created on ``name`` clusters MACs under ``mac_prefix`` (``xx:xx:xx``)."""
        if name in self._mac_prefixes:
            raise ConfigError(f"platform {name!r} is registered twice")
        self._mac_prefixes[name] = mac_prefix.lower()

    def checkpoint(self) -> object:
        """What the registry holds now (``PluginHost.register_each`` forgets a failed plugin's additions)."""
        return (list(self._kinds), list(self._mac_prefixes))

    def rollback(self, checkpoint: object) -> None:
        """Forget whatever was added since ``checkpoint``."""
        assert isinstance(checkpoint, tuple)
        kinds, platforms = checkpoint
        for name in [n for n in self._kinds if n not in kinds]:
            del self._of[self._kinds.pop(name).cls]
        for platform in [p for p in self._mac_prefixes if p not in platforms]:
            del self._mac_prefixes[platform]

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __iter__(self) -> Iterator[Kind]:
        return iter(list(self._kinds.values()))

    def get(self, name: str) -> Kind:
        """The kind called ``name``; KeyError if none is."""
        return self._kinds[name]

    def name_of(self, cls: type) -> str:
        """The kind name of class ``cls``; KeyError if it is not a registered kind."""
        return self._of[cls]

    def classes(self) -> set[type]:
        """The class of every kind."""
        return set(self._of)

    def namespaces(self) -> list[str]:
        """Every store namespace kinds live in."""
        return sorted({kind.namespace for kind in self._kinds.values()})

    def mac(self, platform: str, seed: str) -> str:
        """A MAC address derived from ``seed`` under the prefix of ``platform``."""
        digest = hashlib.sha256(seed.encode()).digest()
        return self._mac_prefixes.get(platform, DEFAULT_MAC_PREFIX) + "".join(f":{b:02x}" for b in digest[:3])


def collect_kinds(plugins: PluginHost) -> KindRegistry:
    """Core's kinds plus every kind ``plugins`` register."""
    registry = KindRegistry()
    plugins.register_each("dcsim_sim_register_kinds", registry=registry)
    return registry


__all__ = ["DEFAULT_MAC_PREFIX", "NAMESPACE", "Kind", "KindRegistry", "collect_kinds"]
