"""Hook implementations of the `hello` plugin, and nothing else.

The entry point `hello = "dcsim_hello.plugin"` in the group `dcsim` names this module;
dc-sim registers it with pluggy and calls the functions marked ``@hookimpl`` whose names
match its hookspecs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from dcsim import hookimpl
from dcsim.web.contracts import Model, Name, responses

if TYPE_CHECKING:
    # Only for type checkers: the host app resolves ``DcSim`` in handler signatures.
    from dcsim.app import DcSim
    from dcsim.registry import EventTypeRegistry, RouteRegistry

SOURCE = "dcsim-hello"


class Greeting(Model):
    """The body of ``POST /hello``."""

    to: Name = "world"


class Hello(msgspec.Struct, omit_defaults=True):
    """What ``/hello`` answers."""

    hello: str
    plugin: str
    event: str | None = None


@get("/hello", tags=["hello"], responses=responses())
async def hello() -> Hello:
    """Say hello. Like every read of dc-sim's own API, it needs a viewer token."""
    return Hello(hello="world", plugin=SOURCE)


@post("/hello", tags=["hello"], responses=responses(503, body=True))
async def say_hello(data: JSONBody[Greeting], dcsim: NamedDependency[DcSim]) -> Hello:
    """Say hello to someone and tell the bus (event ``hello.said``); needs an operator token."""
    event = await dcsim.publish("hello.said", {"to": data.to}, source=SOURCE, subject=data.to)
    return Hello(hello=data.to, plugin=SOURCE, event=event.id)


@hookimpl
def dcsim_register_routes(registry: RouteRegistry) -> None:
    registry.add(hello)
    registry.add(say_hello)


@hookimpl
def dcsim_register_event_types(registry: EventTypeRegistry) -> None:
    registry.add(
        "hello.said",
        description="someone was greeted through POST /hello",
        schemaversion=1,
        data={"to": "who was greeted"},
    )
