"""The installed `hello` plugin: registered, serving its route, declaring and publishing its event.

The fixtures ``make_client`` and ``dcsim_client`` come from dc-sim's pytest plugin
(``dcsim.testing``), which pytest loads by itself once dcsim-core is installed.
"""

from __future__ import annotations

import time
from importlib.metadata import entry_points
from typing import Any

from dcsim import hookimpl
from dcsim.model import Event
from dcsim.registry import SubscriberRegistry
from dcsim.testing import DcsimClient


class Recorder:
    """A test-only plugin that subscribes to ``hello.*`` events and keeps them."""

    name = "recorder"

    def __init__(self) -> None:
        self.events: list[Event] = []

    @hookimpl
    def dcsim_register_subscribers(self, registry: SubscriberRegistry) -> None:
        async def keep(_: Any, event: Event) -> None:
            self.events.append(event)

        registry.add("hello-recorder", keep, types=("hello.*",))


def test_entry_point_is_registered_and_imports() -> None:
    (ep,) = [ep for ep in entry_points(group="dcsim") if ep.name == "hello"]
    assert ep.value == "dcsim_hello.plugin"
    module = ep.load()
    assert callable(module.dcsim_register_routes)
    assert callable(module.dcsim_register_event_types)


def test_plugins_lists_hello_as_loaded(dcsim_client: DcsimClient) -> None:
    plugins = {p["name"]: p for p in dcsim_client.get("/plugins").json()["plugins"]}
    assert plugins["hello"]["status"] == "loaded"
    assert set(plugins["hello"]["hooks"]) == {"dcsim_register_routes", "dcsim_register_event_types"}


def test_dcsim_register_routes(dcsim_client: DcsimClient) -> None:
    response = dcsim_client.get("/hello")
    assert response.status_code == 200
    assert response.json() == {"hello": "world", "plugin": "dcsim-hello"}


def test_hello_needs_a_token(make_client: Any) -> None:
    assert make_client(role=None).get("/hello").status_code == 401


def test_dcsim_register_event_types(make_client: Any) -> None:
    recorder = Recorder()
    client = make_client(recorder, role="operator")
    assert "hello.said" in client.sim.event_types

    response = client.post("/hello", json={"to": "ops"})
    assert response.status_code == 201, response.text
    assert response.json()["hello"] == "ops"
    deadline = time.monotonic() + 10
    while not recorder.events and time.monotonic() < deadline:
        time.sleep(0.05)
    (event,) = recorder.events
    assert event.type == "hello.said"
    assert event.source == "dcsim-hello"
    assert event.subject == "ops"
    assert event.data == {"to": "ops"}
    assert event.id == response.json()["event"]


def test_saying_hello_needs_an_operator(make_client: Any) -> None:
    assert make_client(role="viewer").post("/hello", json={"to": "ops"}).status_code == 403


def test_saying_hello_validates_the_body(make_client: Any) -> None:
    response = make_client(role="operator").post("/hello", json={"to": 5})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "to", "message": "Expected `str`, got `int`"}]
