"""The world: every simulated object, indexed, and its round trip through the store."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import attrs
import structlog

from dcsim.convert import converter
from dcsim.errors import Conflict, NotFound
from dcsim.sim.kinds import NAMESPACE, KindRegistry
from dcsim.sim.model import Blade, Cluster, Host, Vm
from dcsim.store.base import DocumentSession

T = TypeVar("T")
log = structlog.get_logger(__name__)


class World:
    """All objects of the estate by kind and id, with the lookups the engine needs.

    Args:
        kinds: the kinds it may hold (core's alone when not given).
    """

    def __init__(self, kinds: KindRegistry | None = None) -> None:
        self.kinds_registry = kinds or KindRegistry()
        self._objects: dict[str, dict[str, Any]] = {kind.name: {} for kind in self.kinds_registry}
        self._names: dict[str, dict[str, str]] = {kind.name: {} for kind in self.kinds_registry}
        self._vms_by_host: dict[str, set[str]] = defaultdict(set)

    def kind_of(self, obj: object) -> str:
        """The kind name of a model object; KeyError for a class that is not a registered kind."""
        return self.kinds_registry.name_of(type(obj))

    def __len__(self) -> int:
        return sum(len(objects) for objects in self._objects.values())

    def add(self, obj: Any) -> None:
        """Add a new object; a clash of id or of name within its kind is a Conflict."""
        kind = self.kind_of(obj)
        if obj.id in self._objects[kind]:
            raise Conflict(f"{kind} {obj.id} already exists")
        unique = self.kinds_registry.get(kind).unique_names
        if unique and obj.name in self._names[kind]:
            raise Conflict(f"a {kind} named {obj.name!r} already exists")
        self._objects[kind][obj.id] = obj
        if unique:
            self._names[kind][obj.name] = obj.id
        if isinstance(obj, Vm):
            self._vms_by_host[obj.host_id].add(obj.id)

    def remove(self, obj: Any) -> None:
        """Remove an object."""
        kind = self.kind_of(obj)
        del self._objects[kind][obj.id]
        self._names[kind].pop(obj.name, None)
        if isinstance(obj, Vm):
            self._vms_by_host[obj.host_id].discard(obj.id)

    def upsert(self, obj: Any) -> Any:
        """Add ``obj``, or copy its fields into the object of its kind and id already held
        (which keeps its identity: references to it stay valid); returns the held object.
        How another process's write reaches this world (``dcsim.sim.sync``)."""
        kind = self.kind_of(obj)
        held = self._objects[kind].get(obj.id)
        if held is None:
            self.add(obj)
            return obj
        unique = self.kinds_registry.get(kind).unique_names
        if unique and obj.name != held.name:
            if self._names[kind].get(obj.name, obj.id) != obj.id:
                raise Conflict(f"a {kind} named {obj.name!r} already exists")
            self._names[kind].pop(held.name, None)
            self._names[kind][obj.name] = obj.id
        if isinstance(obj, Vm) and obj.host_id != held.host_id:
            self.move_vm(held, obj.host_id)
        if attrs.has(type(obj)):
            for field in attrs.fields(type(obj)):
                setattr(held, field.name, getattr(obj, field.name))
        else:
            vars(held).update(vars(obj))
        return held

    def discard(self, cls: type[Any], object_id: str) -> None:
        """Remove the object of class ``cls`` with id ``object_id`` if it is held."""
        held = self._objects[self.kinds_registry.name_of(cls)].get(object_id)
        if held is not None:
            self.remove(held)

    def move_vm(self, vm: Vm, host_id: str) -> None:
        """Place ``vm`` on another host, keeping the index true."""
        self._vms_by_host[vm.host_id].discard(vm.id)
        vm.host_id = host_id
        self._vms_by_host[host_id].add(vm.id)

    def get(self, cls: type[T], ref: str) -> T:
        """The object of class ``cls`` with id or name ``ref``; NotFound otherwise (also for a
        name that several objects of a kind registered with ``unique_names=False`` share)."""
        kind = self.kinds_registry.name_of(cls)
        objects = self._objects[kind]
        found = objects.get(ref) or objects.get(self._names[kind].get(ref, ""))
        if found is None and not self.kinds_registry.get(kind).unique_names:
            named = [obj for obj in objects.values() if obj.name == ref]
            found = named[0] if len(named) == 1 else None
        if found is None:
            raise NotFound(f"no {kind} {ref!r}", kind=kind, ref=ref)
        return found  # type: ignore[no-any-return]

    def find(self, cls: type[T], ref: str) -> T | None:
        """Like :meth:`get`, None when absent."""
        try:
            return self.get(cls, ref)
        except NotFound:
            return None

    def all(self, cls: type[T]) -> list[T]:
        """Every object of class ``cls``, in insertion order."""
        return list(self._objects[self.kinds_registry.name_of(cls)].values())

    def kinds(self) -> Iterator[tuple[str, list[Any]]]:
        """(kind, objects) for every kind."""
        for kind, objects in self._objects.items():
            yield kind, list(objects.values())

    def vms_on(self, host: Host) -> list[Vm]:
        """VMs placed on ``host``, by name."""
        vms = [self._objects["vm"][vm_id] for vm_id in self._vms_by_host.get(host.id, ())]
        return sorted(vms, key=lambda vm: vm.name)

    def hosts_in(self, cluster: Cluster) -> list[Host]:
        """Hosts of ``cluster``, by name."""
        return sorted((h for h in self.all(Host) if h.cluster_id == cluster.id), key=lambda h: h.name)

    def host_on_blade(self, blade: Blade) -> Host | None:
        """The hypervisor host running on the physical server ``blade``, if any."""
        return next((h for h in self.all(Host) if h.blade_id == blade.id), None)

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every object as JSON, by kind (the body of ``GET /sim/state``)."""
        return {
            kind: [converter.unstructure(obj) for obj in objects.values()] for kind, objects in self._objects.items()
        }

    # Persistence ----------------------------------------------------------------

    def key(self, obj: Any) -> str:
        """The store key of an object (in its kind's namespace)."""
        return f"{self.kind_of(obj)}/{obj.id}"

    def namespace(self, obj: Any) -> str:
        """The store namespace of an object's kind."""
        return self.kinds_registry.get(self.kind_of(obj)).namespace

    def save(self, session: DocumentSession, objects: Iterable[Any] = (), removed: Iterable[Any] = ()) -> None:
        """Write ``objects`` and delete ``removed`` in ``session`` (one transaction)."""
        by_namespace: dict[str, dict[str, Any]] = defaultdict(dict)
        for obj in objects:
            by_namespace[self.namespace(obj)][self.key(obj)] = converter.unstructure(obj)
        for namespace, documents in by_namespace.items():
            session.put_many(namespace, documents)
        for obj in removed:
            session.delete(self.namespace(obj), self.key(obj))

    def save_all(self, session: DocumentSession) -> None:
        """Write every object (one batch)."""
        self.save(session, [obj for _, objects in self.kinds() for obj in objects])

    @classmethod
    def load(cls, session: DocumentSession, kinds: KindRegistry | None = None) -> World:
        """Read the world back from the store.

        Objects of a kind no installed plugin registers (its package was uninstalled)
        stay in the store untouched and are left out of the world.
        """
        world = cls(kinds)
        skipped: dict[str, int] = defaultdict(int)
        # Parents before children does not matter: references are ids.
        for namespace in world.kinds_registry.namespaces():
            for document in session.list(namespace):
                name = document.key.split("/", 1)[0]
                if name not in world.kinds_registry or world.kinds_registry.get(name).namespace != namespace:
                    skipped[name] += 1
                    continue
                world.add(converter.structure(document.value, world.kinds_registry.get(name).cls))
        if skipped:
            log.warning("sim.unknown_kinds_skipped", kinds=dict(skipped))
        return world


__all__ = ["NAMESPACE", "World"]
