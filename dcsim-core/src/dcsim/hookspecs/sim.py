"""Simulation hooks: what plugins add to the simulated estate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.hooks import hookspec

if TYPE_CHECKING:
    from dcsim.registry import LoadProfileRegistry
    from dcsim.settings import Settings
    from dcsim.sim.faults import FaultRegistry
    from dcsim.sim.kinds import KindRegistry
    from dcsim.sim.labels import NodeLabelRegistry
    from dcsim.sim.topology import Topology


@hookspec
def dcsim_sim_register_kinds(registry: KindRegistry) -> None:
    """Add kinds of simulated objects (a vendor's own concepts) to the world.

    When: each time the simulation starts, before the world is loaded from the store
    (and by ``dcsim seed``), so the world can hold, save and load the plugin's objects.
    Core's kinds (datacenter, cluster, host, network, datastore, vm, chassis, blade,
    project, flavor, image, subnet, volume) are in the registry already.

    Args:
        registry: call ``registry.add(name, cls, namespace="sim", description="")``
            with an attrs class that has ``id`` and ``name`` fields; its JSON shape
            (``GET /sim/state``, the store) is what ``dcsim.convert.converter`` makes of
            it. ``registry.add_platform(name, mac_prefix="xx:xx:xx")`` gives NICs of VMs
            created on clusters of that platform MACs under that prefix.

    Returns: nothing. Calling rule: every implementation is called.
    """


@hookspec
def dcsim_sim_register_fault_kinds(registry: FaultRegistry) -> None:
    """Add kinds of faults that ``POST /sim/inject/<name>`` injects.

    When: each time the simulation starts. Core registers ``host-failure`` (a host, or
    a physical server and the host on it, with HA restarts), ``network-partition`` and
    ``disk-full``; ``GET /sim/inject/kinds`` lists every kind with its parameters.

    Args:
        registry: call ``registry.add(name, description=..., params={param: meaning},
            inject=fn, undo=fn, types={param: type})``; a parameter is text unless
            ``types`` gives another type (``int``, ``float``, an ``Annotated`` type with
            ``msgspec.Meta`` bounds), and ``POST /sim/inject/<name>`` refuses a parameter
            not in ``params``, or of another type, with a 422 naming it (no coercion).
            ``inject(sim, fault, params, change)`` runs under the
            engine's lock: it checks (raising ``InvalidInput`` or ``Conflict`` refuses
            the fault, nothing is saved), changes world objects and records them, their
            node steps and events in ``change`` (``dcsim.sim.events.Change``), and fills
            ``fault.targets``, ``.effects`` and ``.restore``. ``undo(sim, fault, change)``
            puts back what the fault broke. ``dcsim.sim.core_faults.fail_blade`` and
            ``fail_host`` give the cascade server > host > VMs with HA restarts.

    Returns: nothing. Calling rule: every implementation is called.
    """


@hookspec
def dcsim_sim_register_node_labels(registry: NodeLabelRegistry) -> None:
    """Add labels to the nodes of VMs and physical servers (the ``sim.<vendor>.*`` labels).

    When: each time the simulation starts; the providers are then called whenever a
    node is made or follows its owner (start-up, creation, a ``Change.drive``). Core
    gives every node ``sim.platform``, ``sim.type``, ``sim.id``, ``sim.name``,
    ``sim.guest_os``, ``sim.vcpu``, ``sim.memory_mb``, ``sim.power_state``, ``sim.env``,
    ``sim.ansible_user`` and ``sim.ssh_port``.

    Args:
        registry: call ``registry.add(provider)``: ``provider(world, owner)`` returns
            the labels to add or override for the node of ``owner`` (a ``Vm``, a
            ``Blade`` or a plugin's kind with a ``node``), ``{}`` when it has none.
            ``registry.add_power_context(context)``: ``context(world, owner)`` returns
            fields for the ``<kind>.power_changed`` event published when a server's
            node is found powered on or off outside dc-sim.

    Returns: nothing. Calling rule: every implementation is called, in plugin order;
    later labels override earlier ones, and the labels stored on the node come last.
    """


@hookspec
def dcsim_sim_seed_topology(topology: Topology, settings: Settings) -> None:
    """Add objects to the estate an empty store is seeded with.

    When: once, on the first start of an instance whose store holds no simulated
    objects (and by ``dcsim seed`` after it generated an estate, with
    ``settings.sim_topology == "generated"``), before anything is saved. Core's
    implementation builds the default 9-node estate when ``settings.sim_topology`` is
    ``"default"`` and runs first (``tryfirst``), so a plugin can attach to its objects
    (a vendor view takes core's chassis and servers into its own objects).

    Args:
        topology: call its builders (``topology.datacenter(...)``, ``.cluster``,
            ``.host``, ``.network``, ``.vm``, ``.chassis``, ``.blade`` ...) or
            ``topology.add(obj)`` with an object of a registered kind; ``topology.id(kind, name)`` gives stable ids
            and ``topology.world`` finds what is there already.
        settings: the effective settings (``sim_seed``, ``sim_topology``).

    Returns: nothing. Calling rule: every implementation is called.
    """


@hookspec
def dcsim_sim_register_load_profiles(registry: LoadProfileRegistry) -> None:
    """Add load profiles that simulated metrics can follow for a VM.

    When: once, while the instance is built. Core registers ``idle``, ``normal``,
    ``stressed`` and ``spiking``; a plugin may add more (a name may be added once).

    Args:
        registry: call ``registry.add(LoadProfile(name=..., cpu=..., memory=..., io=...,
            spike_chance=...))``; fractions are of the VM's size, from 0 to 1.

    Returns: nothing. Calling rule: every implementation is called.
    """
