"""Injected faults: the record of each, and the registry of fault kinds.

Every fault is kept after it is cleared, so that detection (drift, alerts, incidents)
can later be scored against what was really injected. A fault kind is an inject/undo
pair registered through ``dcsim_sim_register_fault_kinds``; core registers
``host-failure`` (a host, or a physical server and the host on it), ``network-partition``
and ``disk-full`` (``dcsim.sim.core_faults``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from dcsim.errors import ConfigError, InvalidInput
from dcsim.model import new_id, utcnow

if TYPE_CHECKING:
    from dcsim.sim.engine import Simulation
    from dcsim.sim.events import Change


@attrs.frozen
class Target:
    """An object a fault touched."""

    kind: str
    id: str
    name: str


@attrs.define(kw_only=True)
class Fault:
    """One injected fault and its record; ``kind`` names a registered fault kind."""

    id: str
    kind: str
    targets: list[Target]
    params: dict[str, Any]
    injected_at: datetime
    expires_at: datetime | None = None
    cleared_at: datetime | None = None
    cleared_by: str | None = None
    #: What the fault did, in order: one line per state change, for scoring and audits.
    effects: list[str] = attrs.field(factory=list)
    #: Values to put back when the fault is cleared (kind-specific).
    restore: dict[str, Any] = attrs.field(factory=dict)

    @property
    def active(self) -> bool:
        """True until the fault is cleared."""
        return self.cleared_at is None

    def touches(self, object_id: str) -> bool:
        """True when ``object_id`` is one of the fault's targets."""
        return any(target.id == object_id for target in self.targets)


def new_fault(kind: str, params: dict[str, Any]) -> Fault:
    """A fresh, active fault record of ``kind`` with ``params``, injected now."""
    return Fault(id=new_id(), kind=kind, targets=[], params=dict(params), injected_at=utcnow())


#: ``inject(sim, fault, params, change)``: check, break the objects, record targets,
#: effects and ``restore`` on ``fault``, and put what changed and the events in ``change``.
#: Raise an ``InvalidInput`` or ``Conflict`` to refuse (nothing is saved).
Inject = Callable[["Simulation", Fault, dict[str, Any], "Change"], None]
#: ``undo(sim, fault, change)``: put back what ``fault`` broke, into ``change``.
Undo = Callable[["Simulation", Fault, "Change"], None]


@attrs.frozen
class FaultType:
    """A kind of fault: its name (``POST /sim/inject/<name>``), parameters and inject/undo pair."""

    name: str
    description: str
    params: dict[str, str]
    inject: Inject
    undo: Undo

    def describe(self) -> dict[str, Any]:
        """The kind as ``GET /sim/inject/kinds`` lists it."""
        return {"name": self.name, "description": self.description, "params": dict(self.params)}


class FaultRegistry:
    """Fault kinds by name; handed to ``dcsim_sim_register_fault_kinds``."""

    def __init__(self) -> None:
        self._types: dict[str, FaultType] = {}

    def add(self, name: str, *, description: str, params: dict[str, str], inject: Inject, undo: Undo) -> None:
        """Register fault kind ``name``: ``params`` maps each parameter to its meaning."""
        if name in self._types:
            raise ConfigError(f"fault kind {name!r} is registered twice")
        self._types[name] = FaultType(name, description, dict(params), inject, undo)

    def checkpoint(self) -> object:
        """What the registry holds now (``PluginHost.register_each`` forgets a failed plugin's additions)."""
        return list(self._types)

    def rollback(self, checkpoint: object) -> None:
        """Forget whatever was added since ``checkpoint``."""
        assert isinstance(checkpoint, list)
        for name in [n for n in self._types if n not in checkpoint]:
            del self._types[name]

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[FaultType]:
        return iter(list(self._types.values()))

    def get(self, name: str) -> FaultType:
        """The kind ``name``; InvalidInput naming the known kinds otherwise."""
        found = self._types.get(name)
        if found is None:
            raise InvalidInput(f"unknown fault kind {name!r}; known: {', '.join(self._types)}")
        return found


def required(params: dict[str, Any], name: str) -> str:
    """The non-empty string parameter ``name``; InvalidInput when it is missing."""
    value = params.get(name)
    if not value or not isinstance(value, str):
        raise InvalidInput(f"give {name!r}")
    return value


__all__ = ["Fault", "FaultRegistry", "FaultType", "Inject", "Target", "Undo", "new_fault", "required"]
