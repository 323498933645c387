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
import msgspec

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


def params_model(kind: str, params: dict[str, str], types: dict[str, Any]) -> type[msgspec.Struct]:
    """The Struct a request's parameters of ``kind`` must match: every parameter optional
    (the kind's inject says which it needs), of its type (text unless ``types`` says
    otherwise), and no other key."""
    fields = [(name, types.get(name, str) | msgspec.UnsetType, msgspec.UNSET) for name in params]
    return msgspec.defstruct(f"{kind}-params", fields, kw_only=True, forbid_unknown_fields=True)


@attrs.frozen
class FaultType:
    """A kind of fault: its name (``POST /sim/inject/<name>``), parameters and inject/undo pair.

    ``types`` gives a parameter's type when it is not text (``float``, an ``Annotated``
    type with ``msgspec.Meta`` bounds); ``model`` is the Struct a request's parameters
    are checked against (:func:`params_model`).
    """

    name: str
    description: str
    params: dict[str, str]
    inject: Inject
    undo: Undo
    types: dict[str, Any] = attrs.field(factory=dict)
    model: type[msgspec.Struct] = attrs.field(
        default=attrs.Factory(lambda self: params_model(self.name, self.params, self.types), takes_self=True)
    )

    def json_types(self) -> dict[str, str]:
        """Each parameter's JSON type (``string``, ``number``, ...), for ``GET /sim/inject/kinds``."""
        return {name: str(msgspec.json.schema(self.types.get(name, str)).get("type", "any")) for name in self.params}


class FaultRegistry:
    """Fault kinds by name; handed to ``dcsim_sim_register_fault_kinds``."""

    def __init__(self) -> None:
        self._types: dict[str, FaultType] = {}

    def add(
        self,
        name: str,
        *,
        description: str,
        params: dict[str, str],
        inject: Inject,
        undo: Undo,
        types: dict[str, Any] | None = None,
    ) -> None:
        """Register fault kind ``name``: ``params`` maps each parameter to its meaning,
        ``types`` a parameter to its type when it is not text (e.g. ``float``); a request
        naming another parameter, or giving one of another type, is refused (422)."""
        if name in self._types:
            raise ConfigError(f"fault kind {name!r} is registered twice")
        stray = sorted(set(types or {}) - set(params))
        if stray:
            raise ConfigError(f"fault kind {name!r}: types for undeclared parameters {', '.join(stray)}")
        try:
            self._types[name] = FaultType(name, description, dict(params), inject, undo, dict(types or {}))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"fault kind {name!r}: a parameter type msgspec cannot check: {exc}") from exc

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


__all__ = ["Fault", "FaultRegistry", "FaultType", "Inject", "Target", "Undo", "new_fault", "params_model", "required"]
