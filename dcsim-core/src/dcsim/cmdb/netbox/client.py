"""The NetBox connection: a pynetbox API with timeouts, called in a worker thread, its
failures mapped onto dc-sim's errors.

pynetbox is untyped and blocking: it is imported lazily (``pip install
'dcsim-core[netbox]'``), typed ``Any`` and called through :meth:`NetboxClient.run`.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from dcsim.cmdb.netbox.objects import DEVICE, MODELS, VM
from dcsim.errors import ConfigError, Conflict, DcsimError, InvalidInput, NotFound, Unavailable

T = TypeVar("T")

#: Seconds to connect to NetBox and to wait for an answer.
TIMEOUT = (5.0, 60.0)
PAGE_SIZE = 1000
#: Fields left out of listings: rendering devices' and VMs' config contexts is NetBox's slowest part.
LIST_EXCLUDE = {DEVICE: "config_context", VM: "config_context"}


class NetboxClient:
    """One NetBox's API (``api``, set by :meth:`connect`) and the calls dc-sim makes."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self._token = token
        self.api: Any = None
        self._pynetbox: Any = None
        self._requests: Any = None

    def connect(self) -> None:
        """Make a new API client, closing the one it replaces (the caller makes sure no
        call is using it)."""
        try:
            self._pynetbox = importlib.import_module("pynetbox")
        except ImportError as exc:
            raise ConfigError("the netbox CMDB backend needs pynetbox: pip install 'dcsim-core[netbox]'") from exc
        self._requests = importlib.import_module("requests")
        api = self._pynetbox.api(self.url, token=self._token)
        # requests has no session-wide timeout, and a NetBox that hangs must not hang dc-sim.
        api.http_session.request = functools.partial(api.http_session.request, timeout=TIMEOUT)
        self.close()
        self.api = api

    def close(self) -> None:
        """Close the API client's HTTP session, if any."""
        if self.api is not None:
            self.api.http_session.close()
            self.api = None

    @property
    def connected(self) -> bool:
        """True once :meth:`connect` made a client."""
        return self.api is not None

    async def ping(self) -> None:
        """Unavailable unless NetBox answers its status endpoint."""
        if self.api is None:
            raise Unavailable(f"NetBox at {self.url} is not connected yet")
        await self.run(self.api.status)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Call ``fn(*args)`` (blocking NetBox calls) in a worker thread, errors mapped."""
        return await asyncio.to_thread(self.call, fn, *args)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Call NetBox; its failures become dc-sim errors.

        Unreachable, a 5xx, or a refused token (it needs fixing in NetBox, and dc-sim
        keeps retrying meanwhile) is Unavailable; a 400 is the caller's InvalidInput, or
        a Conflict when NetBox says something of the name already exists.
        """
        try:
            return fn(*args)
        except self._pynetbox.RequestError as exc:
            raise self.error(exc.req.status_code, error_message(exc.error)) from exc
        except self._pynetbox.ContentError as exc:
            raise Unavailable(f"NetBox at {self.url} did not answer JSON: {exc}") from exc
        except self._requests.RequestException as exc:
            raise Unavailable(f"NetBox at {self.url} is unreachable: {exc}") from exc

    def error(self, status: int, message: str) -> DcsimError:
        """The dc-sim error of a NetBox answer with HTTP ``status``."""
        if status >= 500 or status in (401, 403):
            return Unavailable(f"NetBox at {self.url} answered {status}: {message}")
        if status == 404:
            return NotFound(f"NetBox: {message}")
        if status == 409 or "already exists" in message or "must be unique" in message:
            return Conflict(f"NetBox: {message}")
        return InvalidInput(f"NetBox: {message}")

    def endpoint(self, model: str) -> Any:
        """The pynetbox endpoint of object type ``model`` (``dcim.device``)."""
        return getattr(getattr(self.api, MODELS[model].app), MODELS[model].endpoint)

    def list_managed(self, model: str, ci_types: list[str]) -> list[dict[str, Any]]:
        """Every object of ``model`` that is a CI of one of ``ci_types``."""
        extra = {"exclude": LIST_EXCLUDE[model]} if model in LIST_EXCLUDE else {}
        found = self.endpoint(model).filter(cf_dcsim_ci_type=ci_types, limit=PAGE_SIZE, **extra)
        return [dict(item) for item in found]

    def object_changes(self, model: str, netbox_id: int) -> list[dict[str, Any]]:
        """The change log of one object, oldest first."""
        found = self.api.core.object_changes.filter(
            changed_object_type=model, changed_object_id=netbox_id, limit=PAGE_SIZE
        )
        return sorted((dict(change) for change in found), key=lambda change: (change["time"], change["id"]))


def error_message(error: Any) -> str:
    """NetBox's validation errors ({field: [messages]}) as one line."""
    try:
        parsed = json.loads(error) if isinstance(error, str) else error
    except ValueError:
        return str(error)
    if isinstance(parsed, dict):
        parts = []
        for field, messages in parsed.items():
            text = "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
            parts.append(text if field in ("__all__", "detail", "non_field_errors") else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(parsed, list):
        return "; ".join(error_message(item) for item in parsed)
    return str(parsed)
