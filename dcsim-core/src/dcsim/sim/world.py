"""The world: every simulated object, indexed, and its round trip through the store."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from dcsim.convert import converter
from dcsim.errors import Conflict, NotFound
from dcsim.sim.model import KIND_OF, KINDS, Blade, Cluster, Host, Vm
from dcsim.store.base import DocumentSession

T = TypeVar("T")

#: The store namespace of simulated objects; keys are ``<kind>/<id>``.
NAMESPACE = "sim"


def kind_of(obj: object) -> str:
    """The kind name of a model object."""
    return KIND_OF[type(obj)]


class World:
    """All objects of the estate by kind and id, with the lookups the engine needs."""

    def __init__(self) -> None:
        self._objects: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
        self._names: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
        self._vms_by_host: dict[str, set[str]] = defaultdict(set)

    def __len__(self) -> int:
        return sum(len(objects) for objects in self._objects.values())

    def add(self, obj: Any) -> None:
        """Add a new object; a clash of id or of name within its kind is a Conflict."""
        kind = kind_of(obj)
        if obj.id in self._objects[kind]:
            raise Conflict(f"{kind} {obj.id} already exists")
        if obj.name in self._names[kind]:
            raise Conflict(f"a {kind} named {obj.name!r} already exists")
        self._objects[kind][obj.id] = obj
        self._names[kind][obj.name] = obj.id
        if isinstance(obj, Vm):
            self._vms_by_host[obj.host_id].add(obj.id)

    def remove(self, obj: Any) -> None:
        """Remove an object."""
        kind = kind_of(obj)
        del self._objects[kind][obj.id]
        del self._names[kind][obj.name]
        if isinstance(obj, Vm):
            self._vms_by_host[obj.host_id].discard(obj.id)

    def move_vm(self, vm: Vm, host_id: str) -> None:
        """Place ``vm`` on another host, keeping the index true."""
        self._vms_by_host[vm.host_id].discard(vm.id)
        vm.host_id = host_id
        self._vms_by_host[host_id].add(vm.id)

    def get(self, cls: type[T], ref: str) -> T:
        """The object of class ``cls`` with id or name ``ref``; NotFound otherwise."""
        kind = KIND_OF[cls]
        objects = self._objects[kind]
        found = objects.get(ref) or objects.get(self._names[kind].get(ref, ""))
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
        return list(self._objects[KIND_OF[cls]].values())

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
        """The hypervisor host running on ``blade``, if any."""
        return next((h for h in self.all(Host) if h.blade_id == blade.id), None)

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every object as JSON, by kind (the body of ``GET /sim/state``)."""
        return {
            kind: [converter.unstructure(obj) for obj in objects.values()] for kind, objects in self._objects.items()
        }

    # Persistence ----------------------------------------------------------------

    @staticmethod
    def key(obj: Any) -> str:
        """The store key of an object."""
        return f"{kind_of(obj)}/{obj.id}"

    def save(self, session: DocumentSession, objects: Iterable[Any] = (), removed: Iterable[Any] = ()) -> None:
        """Write ``objects`` and delete ``removed`` in ``session`` (one transaction)."""
        session.put_many(NAMESPACE, {self.key(obj): converter.unstructure(obj) for obj in objects})
        for obj in removed:
            session.delete(NAMESPACE, self.key(obj))

    def save_all(self, session: DocumentSession) -> None:
        """Write every object (one batch)."""
        self.save(session, [obj for _, objects in self.kinds() for obj in objects])

    @classmethod
    def load(cls, session: DocumentSession) -> World:
        """Read the world back from the store."""
        world = cls()
        # Parents before children does not matter: references are ids.
        for document in session.list(NAMESPACE):
            kind = document.key.split("/", 1)[0]
            world.add(converter.structure(document.value, KINDS[kind]))
        return world
