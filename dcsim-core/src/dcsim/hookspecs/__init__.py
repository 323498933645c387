"""Hook specifications, one module per area of dc-sim.

Every hook is prefixed ``dcsim_``. Registration hooks receive a registry and call its
``add`` method; query hooks stop at the first non-None result; notification hooks
return nothing. ``docs/plugin-hooks.md`` is generated from these docstrings
(``python -m dcsim.docs``) and a test keeps the two in step.

The contract is enforced when a plugin loads and whenever its hooks are called:

- an ``async def`` hook (``dcsim_startup``, ``dcsim_shutdown``, ``dcsim_readiness``)
  takes ``async def`` implementations and every other hook plain ``def`` ones; a
  mismatch fails the plugin at load, naming the hook;
- registration hooks (``dcsim_register_*``, ``dcsim_<area>_register_*``) are called one
  implementation at a time: one that raises fails its plugin (listed with the error,
  its other hooks no longer called, what it added rolled back) and the others go on;
- every call goes through pluggy, so ``@hookimpl(wrapper=True)`` works on every hook;
  on an async hook the wrapper's ``yield`` gives the list of the implementations'
  coroutines (in call order), which the caller awaits one after the other;
- a first-result hook's answer is checked: one outside the documented values raises
  ``PluginContractError`` naming the plugin, the hook and the value (a 500 problem).

Strict mode (``--strict``) makes every plugin failure fatal.
"""

from __future__ import annotations

from types import ModuleType

from dcsim.hookspecs import bus, cmdb, drift, itsm, lifecycle, patch, sim, web

#: The hookspec modules in the order the docs present them.
MODULES: tuple[ModuleType, ...] = (lifecycle, web, bus, sim, cmdb, itsm, patch, drift)

__all__ = ["MODULES"]
