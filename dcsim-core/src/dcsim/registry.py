"""Registries handed to registration hooks; plugins call their ``add`` methods."""

from __future__ import annotations

import fnmatch
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from dcsim.errors import ConfigError, ServiceUnavailable

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.model import Event


T = TypeVar("T")


class _Named:
    """Items keyed by a unique name, kept in registration order."""

    kind = "item"

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}
        #: The plugin registering now (set by ``PluginHost.register_each``), and who added what.
        self.owner: str | None = None
        self.owners: dict[str, str] = {}

    def checkpoint(self) -> object:
        """What the registry holds now, for :meth:`rollback` (see ``PluginHost.register_each``)."""
        return list(self._items)

    def rollback(self, checkpoint: object) -> None:
        """Forget what was added since ``checkpoint``: a failed plugin leaves nothing half-added."""
        assert isinstance(checkpoint, list)
        for name in list(self._items):
            if name not in checkpoint:
                del self._items[name]
                self.owners.pop(name, None)

    def forget(self, owner: str) -> None:
        """Drop every item the plugin ``owner`` added (it failed after adding them)."""
        for name in [name for name, added_by in self.owners.items() if added_by == owner]:
            del self._items[name]
            del self.owners[name]

    def _add(self, name: str, item: Any) -> None:
        if name in self._items:
            raise ConfigError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = item
        if self.owner is not None:
            self.owners[name] = self.owner

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __getitem__(self, name: str) -> Any:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def values(self) -> list[Any]:
        return list(self._items.values())


class ServiceRegistry(_Named):
    """Services of an instance, each under a unique name, reached by their type.

    ``dcsim.services.get(Cmdb)`` returns the CMDB service or raises
    :class:`~dcsim.errors.ServiceUnavailable` naming what is missing (its plugin is
    disabled, failed or not installed); ``dcsim.services.find(Cmdb)`` returns None
    instead, for a module that degrades without it.
    """

    kind = "service"

    def add(self, name: str, service: Any) -> None:
        """Register ``service`` under ``name``."""
        self._add(name, service)

    def find(self, cls: type[T]) -> T | None:
        """The first registered service that is an instance of ``cls``, or None."""
        for service in self._items.values():
            if isinstance(service, cls):
                return service
        return None

    def get(self, cls: type[T]) -> T:
        """The first registered service that is an instance of ``cls``.

        Raises :class:`~dcsim.errors.ServiceUnavailable` when there is none.
        """
        service = self.find(cls)
        if service is None:
            raise ServiceUnavailable(
                f"no {cls.__name__} service: the plugin that provides it is disabled, failed or not"
                " installed (see GET /plugins)",
                service=cls.__name__,
            )
        return service


class RouteRegistry:
    """Litestar route handlers, controllers and routers contributed by plugins, and the
    error formats of the vendor APIs among them."""

    def __init__(self) -> None:
        self.handlers: list[Any] = []
        #: Path prefix -> the handler answering every error under it (:meth:`add_error_format`).
        self.error_formats: dict[str, Callable[[Any, Exception], Any]] = {}
        #: (glob, page) pairs answering a browser's navigations (:meth:`add_navigation_page`).
        self.navigation_pages: list[tuple[str, Callable[[], bytes | None]]] = []

    def add(self, handler: Any) -> None:
        """Add a route handler, ``Controller`` subclass or ``Router``."""
        self.handlers.append(handler)

    def add_all(self, handlers: Iterable[Any]) -> None:
        """Add each of ``handlers`` (a module's ``HANDLERS``, say)."""
        for handler in handlers:
            self.add(handler)

    def add_error_format(self, prefix: str, handler: Callable[[Any, Exception], Any]) -> None:
        """Answer every error of a request whose path is ``prefix`` or lies under it with
        ``handler(request, exc)`` (a Litestar ``Response``) instead of a problem document:
        a vendor API's own error format, for its routes' errors and for the host's own
        (no such route, method not allowed, body refused, rate limited, unexpected)."""
        if not prefix.startswith("/") or prefix.endswith("/"):
            raise ConfigError(f"error format prefix {prefix!r} must start with / and not end with one")
        self.error_formats[prefix] = handler

    def add_navigation_page(self, pattern: str, page: Callable[[], bytes | None]) -> None:
        """Answer a browser's page navigation (a GET or HEAD whose ``Accept`` names
        ``text/html``) to a path matching ``pattern`` (a glob: ``*`` matches across ``/``)
        with the HTML document ``page()`` returns, before routing; ``None`` declines and the
        request is routed as usual. API clients, which do not ask for HTML, always reach
        the routes: a web app's deep links can share their paths with an API
        (:mod:`dcsim.web.navigation`)."""
        if not pattern.startswith("/"):
            raise ConfigError(f"navigation page pattern {pattern!r} must start with /")
        self.navigation_pages.append((pattern, page))

    def checkpoint(self) -> object:
        """How many handlers, error formats and pages there are now, for :meth:`rollback`."""
        return len(self.handlers), list(self.error_formats), len(self.navigation_pages)

    def rollback(self, checkpoint: object) -> None:
        """Drop the handlers, error formats and pages added since ``checkpoint``."""
        assert isinstance(checkpoint, tuple)
        handlers, formats, pages = checkpoint
        del self.handlers[handlers:]
        del self.navigation_pages[pages:]
        for prefix in list(self.error_formats):
            if prefix not in formats:
                del self.error_formats[prefix]


@attrs.frozen
class EventType:
    """A documented event type: its name, schema version and the fields of its data."""

    type: str
    schemaversion: int
    description: str
    data: dict[str, str]


class EventTypeRegistry(_Named):
    """Every event type that may be published, with its documented schema."""

    kind = "event type"

    def add(self, type: str, *, description: str, schemaversion: int = 1, data: dict[str, str] | None = None) -> None:
        """Declare ``type``; ``data`` maps each field of the event's data to its meaning."""
        self._add(type, EventType(type, schemaversion, description, dict(data or {})))

    def add_catalogue(self, catalogue: Mapping[str, tuple[str, dict[str, str]]]) -> None:
        """Declare every type of ``catalogue``: type -> (description, data fields), schema version 1."""
        for type, (description, data) in catalogue.items():
            self.add(type, description=description, data=data)


Handler = Callable[["DcSim", "Event"], Awaitable[None]]


@attrs.frozen
class Subscriber:
    """A handler subscribed to event types (glob patterns) as a consumer group."""

    group: str
    handler: Handler
    types: tuple[str, ...] = ("*",)

    def wants(self, event_type: str) -> bool:
        """True when ``event_type`` matches one of the subscriber's patterns."""
        return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in self.types)


class CommandRegistry(_Named):
    """Sub-commands plugins add to the ``dcsim`` command line."""

    kind = "command"

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        super().__init__()
        self.reserved = frozenset(reserved)

    def add(self, command: Any) -> None:
        """Add ``command`` (a ``click.Command`` or ``click.Group``) as ``dcsim <its name>``."""
        if command.name in self.reserved:
            raise ConfigError(f"command {command.name!r} is one of core's own")
        self._add(command.name, command)

    def commands(self) -> dict[str, Any]:
        """The commands by name, in registration order."""
        return dict(self._items)


class SubscriberRegistry(_Named):
    """Consumer groups and their handlers."""

    kind = "consumer group"

    def add(self, group: str, handler: Handler, types: tuple[str, ...] | list[str] = ("*",)) -> None:
        """Subscribe ``handler`` to ``types`` as consumer group ``group``."""
        self._add(group, Subscriber(group, handler, tuple(types)))


@attrs.frozen
class LoadProfile:
    """How busy a simulated VM is: mean fractions of its size and a chance of spikes."""

    name: str
    cpu: float
    memory: float
    io: float
    spike_chance: float = 0.0
    description: str = ""


class LoadProfileRegistry(_Named):
    """Load profiles that simulated metrics follow."""

    kind = "load profile"

    def add(self, profile: LoadProfile) -> None:
        """Register ``profile`` under its name."""
        self._add(profile.name, profile)


@attrs.frozen
class CiType:
    """A kind of configuration item."""

    name: str
    description: str


@attrs.frozen
class RelationshipType:
    """A kind of relationship between configuration items, with its inverse reading."""

    name: str
    description: str
    inverse: str


class CmdbTypeRegistry:
    """CI types and relationship types known to the CMDB."""

    def __init__(self) -> None:
        self.ci_types = _TypedNames("CI type")
        self.relationship_types = _TypedNames("relationship type")

    def add_ci_type(self, name: str, description: str) -> None:
        """Declare a CI type."""
        self.ci_types._add(name, CiType(name, description))

    def add_relationship_type(self, name: str, description: str, inverse: str) -> None:
        """Declare a relationship type; ``inverse`` names it read from the other end."""
        self.relationship_types._add(name, RelationshipType(name, description, inverse))

    def checkpoint(self) -> object:
        """Both vocabularies as they are now, for :meth:`rollback`."""
        return (self.ci_types.checkpoint(), self.relationship_types.checkpoint())

    def rollback(self, checkpoint: object) -> None:
        """Forget the types added since ``checkpoint``."""
        assert isinstance(checkpoint, tuple)
        self.ci_types.rollback(checkpoint[0])
        self.relationship_types.rollback(checkpoint[1])


class _TypedNames(_Named):
    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
