"""pyvmomi plumbing shared by the reconciler and the watcher: connect, wait for a
task, read many objects' properties in one call."""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

#: How long a vCenter task may run before the caller gives up.
TASK_TIMEOUT = 60.0


def connect(url: str, username: str, password: str) -> vim.ServiceInstance:
    """A logged-in service instance for the SDK ``url`` (TLS without verification:
    the simulator's certificate is self-signed)."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    context = ssl._create_unverified_context() if secure else None
    return SmartConnect(
        host=parts.hostname,
        port=parts.port or (443 if secure else 80),
        user=username,
        pwd=password,
        protocol=parts.scheme,
        sslContext=context,
        connectionPoolTimeout=-1,
    )


def disconnect(si: vim.ServiceInstance) -> None:
    """Log out, ignoring a vCenter that is already gone."""
    with contextlib.suppress(Exception):
        Disconnect(si)


def wait(task: vim.Task, timeout: float = TASK_TIMEOUT) -> Any:
    """The result of ``task`` once it ends; its fault raised if it failed."""
    deadline = time.monotonic() + timeout
    while True:
        info = task.info
        if info.state == vim.TaskInfo.State.success:
            return info.result
        if info.state == vim.TaskInfo.State.error:
            raise info.error
        if time.monotonic() > deadline:
            raise TimeoutError(f"vCenter task {info.descriptionId} still {info.state} after {timeout}s")
        time.sleep(0.02)


def collect(si: vim.ServiceInstance, kind: type, paths: list[str]) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Every object of ``kind`` with the properties ``paths``, by managed object id,
    in one RetrievePropertiesEx (a container view over the root folder)."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
    try:
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[
                vmodl.query.PropertyCollector.ObjectSpec(
                    obj=view,
                    skip=True,
                    selectSet=[
                        vmodl.query.PropertyCollector.TraversalSpec(
                            name="view", path="view", skip=False, type=vim.view.ContainerView
                        )
                    ],
                )
            ],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(type=kind, pathSet=paths)],
        )
        found: dict[str, tuple[Any, dict[str, Any]]] = {}
        result = content.propertyCollector.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions())
        while result is not None:
            for item in result.objects:
                found[item.obj._moId] = (item.obj, {p.name: p.val for p in item.propSet})
            if not result.token:
                break
            result = content.propertyCollector.ContinueRetrievePropertiesEx(result.token)
        return found
    finally:
        view.Destroy()


class Echoes:
    """Writes dc-sim made to vCenter that the watcher will see come back: each is
    consumed once, so a change dc-sim caused is never applied to the simulation again."""

    def __init__(self, ttl: float = 30.0) -> None:
        self._lock = threading.Lock()
        self._expected: dict[tuple[str, str, str], float] = {}
        self.ttl = ttl

    def expect(self, moid: str, field: str, value: object) -> None:
        """Remember that ``moid``'s ``field`` was set to ``value`` by dc-sim."""
        with self._lock:
            self._expected[(moid, field, str(value))] = time.monotonic() + self.ttl

    def consume(self, moid: str, field: str, value: object) -> bool:
        """True (once) if this update is dc-sim's own write coming back."""
        now = time.monotonic()
        with self._lock:
            for key in [k for k, until in self._expected.items() if until < now]:
                del self._expected[key]
            return self._expected.pop((moid, field, str(value)), None) is not None


__all__ = ["Echoes", "collect", "connect", "disconnect", "wait"]
