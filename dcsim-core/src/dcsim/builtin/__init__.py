"""Core's own features, each an internal plugin of core's hooks ("core is a plugin too").

One module per plugin, each its own entry point in the ``dcsim`` group of dcsim-core,
so each can be switched off alone with ``DCSIM_DISABLE_PLUGINS``:

- ``sim`` (:mod:`dcsim.builtin.sim`): the simulation engine, its routes, seed and metrics;
- ``cmdb`` (:mod:`dcsim.builtin.cmdb`): the CMDB, mirroring the simulation;
- ``itsm`` (:mod:`dcsim.builtin.itsm`): incidents, problems and changes, with their rules;
- ``patch`` (:mod:`dcsim.builtin.patch`): advisories, compliance, policies and patch runs;
- ``drift`` (:mod:`dcsim.builtin.drift`): the ``drift.detected`` event and value comparison;
- ``api`` (:mod:`dcsim.builtin.api`): events, tokens, metrics and ``/ws`` routes.

The framework itself (``dcsim.started``, ``/healthz``, ``/readyz``, ``/plugins``,
``/events/types``) is no plugin: it works with every one of these disabled.
"""

from __future__ import annotations

#: The distribution whose entry points these are.
CORE_DISTRIBUTION = "dcsim-core"

#: Core's plugins in registration order, before any other plugin. pluggy calls the
#: last registered first, so the ``tryfirst`` start-ups run sim, cmdb, itsm (each needs
#: the one before it) and shut-downs, reversed, itsm, cmdb, sim.
CORE_PLUGINS: tuple[str, ...] = ("api", "patch", "drift", "itsm", "cmdb", "sim")
