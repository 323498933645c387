"""Hook specifications, one module per area of dc-sim.

Every hook is prefixed ``dcsim_``. Registration hooks receive a registry and call its
``add`` method; query hooks stop at the first non-None result; notification hooks
return nothing. ``docs/plugin-hooks.md`` is generated from these docstrings
(``python -m dcsim.docs``) and a test keeps the two in step.

The contract every hook follows (async-ness, isolation of registration hooks,
wrappers, checked first results) is in the ``lifecycle`` module's docstring.
"""

from __future__ import annotations

from types import ModuleType

from dcsim.hookspecs import bus, cmdb, drift, itsm, lifecycle, patch, sim, web

#: The hookspec modules in the order the docs present them.
MODULES: tuple[ModuleType, ...] = (lifecycle, web, bus, sim, cmdb, itsm, patch, drift)

__all__ = ["MODULES"]
