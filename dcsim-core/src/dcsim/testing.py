"""pytest plugin for dc-sim and its plugin authors (registered as ``pytest11: dcsim``).

Fixtures:

``dcsim_settings``
    Settings for a throw-away embedded instance in the test's temporary directory.
``make_dcsim``
    ``make_dcsim(*plugins, **settings) -> DcSim``: an instance (not started) with the
    installed plugins plus ``plugins``; closed after the test.
``make_client``
    ``make_client(*plugins, role="admin", **settings) -> DcsimClient``: a started
    host app behind Litestar's ``TestClient``, sending a bearer token of ``role``
    (``None`` for no token).
``dcsim_client``
    ``make_client()`` with the installed plugins and an admin token.
``stored_objects(data_dir)``
    The simulated objects a data directory's store holds, by kind.
``recorder``
    An :class:`EventRecorder`: pass it to ``make_dcsim`` / ``make_client`` as a plugin
    and it collects every bus event of the instance, in order (``.events``,
    ``.types(prefix)``, ``await .wait_for(predicate)``).
``PluginPackageContract``
    A base class of tests every plugin package subclasses (entry point, version in
    lockstep, listed as loaded by ``dcsim plugins``).
``dcsim_server``
    A real ``dcsim serve`` process on a free loopback port with a temporary data
    directory: ``.url``, ``.port``, ``.token`` (admin), ``.data_dir``; stopped after
    the test. ``run_server(data_dir, env=...)`` does the same as a context manager, for
    fixtures of a wider scope.

Helpers: ``eventually(probe, timeout, interval)`` polls until a truthy answer;
``stop_process(process, timeout)`` stops a started process (SIGTERM, then SIGKILL);
``required_database_url(purpose)`` reads ``DCSIM_TEST_DATABASE_URL`` (skip locally, fail
under ``CI``); ``postgres_database(url, prefix)`` and ``postgres_schema(url, prefix)`` are
context managers giving the URL of a throw-away database or schema.

Example::

    from dcsim import hookimpl
    from litestar import get


    class HelloPlugin:
        @hookimpl
        def dcsim_register_routes(self, registry):
            registry.add(get("/hello", sync_to_thread=False)(lambda: {"hello": "world"}))


    def test_hello(make_client):
        client = make_client(HelloPlugin())
        assert client.get("/hello").json() == {"hello": "world"}
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from importlib.metadata import EntryPoint, entry_points, version
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest
from litestar.testing import TestClient

from dcsim.app import DcSim
from dcsim.hooks import hookimpl
from dcsim.model import Event, Role
from dcsim.settings import Settings, load_settings


class DcsimClient(TestClient):  # type: ignore[type-arg]
    """Litestar's test client for a dc-sim app, knowing its instance."""

    sim: DcSim

    def __init__(self, app: Any, base_url: str = "http://127.0.0.1", **kwargs: Any) -> None:
        # A loopback name: by default the host app answers only those (allowed_hosts).
        super().__init__(app, base_url=base_url, **kwargs)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` (a coroutine function) on the app's event loop."""
        return self.blocking_portal.call(fn, *args)

    def token(self, role: str | Role) -> str:
        """Create a token of ``role`` in the instance's store and return its secret."""
        _, secret = self.sim.store.create_token(f"test-{Role(role).value}", Role(role))
        return secret

    def auth_headers(self, role: str | Role | None) -> dict[str, str]:
        """Headers authenticating as a fresh token of ``role`` (no header for None)."""
        return {} if role is None else {"Authorization": f"Bearer {self.token(role)}"}


@pytest.fixture
def dcsim_settings(tmp_path: Path) -> Settings:
    """Settings for an embedded instance in a temporary data directory."""
    # Environment variables must not leak a developer's config into tests.
    return load_settings(environ={}, data_dir=tmp_path / "dcsim", create_admin_token=False)


@pytest.fixture
def make_dcsim(dcsim_settings: Settings) -> Iterator[Callable[..., DcSim]]:
    """Factory of instances built from the installed plugins plus extra ones."""
    from dcsim.plugins import load_plugins

    def factory(*plugins: object, **overrides: Any) -> DcSim:
        settings = attrs.evolve(dcsim_settings, **overrides)
        return DcSim(settings, load_plugins(settings, plugins))

    yield factory


@pytest.fixture
def make_client(make_dcsim: Callable[..., DcSim]) -> Iterator[Callable[..., DcsimClient]]:
    """Factory of started test clients; each is closed (and its instance) after the test."""
    from dcsim.web.app import create_app

    with ExitStack() as stack:

        def factory(*plugins: object, role: str | None = "admin", **overrides: Any) -> DcsimClient:
            sim = make_dcsim(*plugins, **overrides)
            client = DcsimClient(create_app(sim), raise_server_exceptions=False)
            client.sim = sim
            stack.enter_context(client)
            if role is not None:
                client.headers["Authorization"] = f"Bearer {client.token(role)}"
            return client

        yield factory


def stored_objects(data_dir: Path, namespace: str = "sim") -> dict[str, list[dict[str, Any]]]:
    """The simulated objects the store of ``data_dir`` holds in ``namespace``, by kind
    (what ``dcsim seed`` wrote, say)."""
    import dcsim

    store = dcsim.open(settings=load_settings(environ={}, data_dir=data_dir)).store
    try:
        kinds: dict[str, list[dict[str, Any]]] = {}
        for document in store.list(namespace):
            kinds.setdefault(document.key.split("/")[0], []).append(document.value)
        return kinds
    finally:
        store.close()


class EventRecorder:
    """A plugin that collects every bus event of an instance, in order, through a consumer group."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    @hookimpl
    def dcsim_register_subscribers(self, registry: Any) -> None:
        async def record(dcsim: DcSim, event: Event) -> None:
            self.events.append(event)

        registry.add("test-recorder", record)

    def types(self, prefix: str = "") -> list[str]:
        """The types of the events so far that start with ``prefix``."""
        return [e.type for e in self.events if e.type.startswith(prefix)]

    async def wait_for(self, predicate: Callable[[list[Event]], Any], timeout: float = 5.0) -> None:
        """Return once ``predicate(events)`` is true; AssertionError after ``timeout`` seconds."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate(self.events):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; events so far: {[e.type for e in self.events]}")
            await asyncio.sleep(0.02)


@pytest.fixture
def recorder() -> EventRecorder:
    """An :class:`EventRecorder` to pass to ``make_dcsim`` or ``make_client`` as a plugin."""
    return EventRecorder()


@pytest.fixture
def dcsim_client(make_client: Callable[..., DcsimClient]) -> DcsimClient:
    """A started app with the installed plugins, authenticated as admin."""
    return make_client()


@attrs.frozen
class ServerProcess:
    """A running ``dcsim serve``."""

    url: str
    port: int
    token: str
    data_dir: Path
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def run_server(
    data_dir: Path, env: dict[str, str] | None = None, log_path: Path | None = None
) -> Iterator[ServerProcess]:
    """Run ``dcsim serve`` in a subprocess on a free port until the block ends (stopped by PID).

    ``env`` adds ``DCSIM_*`` settings (the caller's own ``DCSIM_*`` variables are not
    passed on); the server's output goes to ``log_path`` (default ``<data_dir>.log``).
    """
    port = _free_port()
    log_path = log_path or data_dir.with_name(data_dir.name + ".log")
    log = log_path.open("wb")
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("DCSIM_")}
    child_env |= {"DCSIM_DATA_DIR": str(data_dir), "DCSIM_PORT": str(port)} | (env or {})
    command = [sys.executable, "-c", "from dcsim.cli import main; main()", "serve"]
    process = subprocess.Popen(command, env=child_env, stdout=log, stderr=subprocess.STDOUT)
    tls = bool(child_env.get("DCSIM_TLS_CERTFILE"))
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    context = None
    if tls:
        # A test server's certificate is its own: checked by the tests that care, not here.
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2, context=context) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dcsim serve did not come up:\n{log_path.read_text()}")
            time.sleep(0.2)
        token = (data_dir / "admin-token").read_text().strip()
        yield ServerProcess(url=url, port=port, token=token, data_dir=data_dir, process=process)
    finally:
        stop_process(process)
        log.close()


def stop_process(process: subprocess.Popen[Any], timeout: float = 15.0) -> int:
    """Stop a started process by its PID and return its exit code.

    SIGTERM first, so that it can shut down cleanly; SIGKILL if it is still running
    ``timeout`` seconds later. A process that has already exited is left alone.
    """
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    return process.returncode


@pytest.fixture
def dcsim_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """``dcsim serve`` in a subprocess, with its admin token; stopped by PID afterwards."""
    with run_server(tmp_path / "server", log_path=tmp_path / "server.log") as server:
        yield server


class PluginPackageContract:
    """What every installable dc-sim plugin package must pass; subclass it in the package.

    Set ``NAME`` (the entry-point name), ``MODULE`` (the module it names) and
    ``DISTRIBUTION`` (the package's name on PyPI)::

        class TestHelloPackage(PluginPackageContract):
            NAME, MODULE, DISTRIBUTION = "hello", "dcsim_hello.plugin", "dcsim-hello"
    """

    NAME: ClassVar[str]
    MODULE: ClassVar[str]
    DISTRIBUTION: ClassVar[str]

    def _entry_point(self) -> EntryPoint:
        found = [ep for ep in entry_points(group="dcsim") if ep.name == self.NAME]
        assert len(found) == 1, f"expected one 'dcsim' entry point named {self.NAME!r}, found {found}"
        return found[0]

    def test_entry_point_is_registered_and_imports(self) -> None:
        ep = self._entry_point()
        assert ep.value == self.MODULE
        assert ep.dist is not None
        assert _normalise(ep.dist.name) == self.DISTRIBUTION
        module = ep.load()
        assert module is importlib.import_module(self.MODULE)
        assert module.__doc__, "a plugin module says what it is"

    def test_version_is_the_distribution_version(self) -> None:
        package = importlib.import_module(self.MODULE.split(".")[0])
        assert package.__version__ == version(self.DISTRIBUTION)
        assert version(self.DISTRIBUTION) == version("dcsim-core"), "versions move in lockstep"

    def test_dcsim_plugins_lists_it_as_loaded(self, tmp_path: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DCSIM_")}
        env["DCSIM_DATA_DIR"] = str(tmp_path)
        command = [sys.executable, "-c", "from dcsim.cli import main; main()", "plugins", "--json"]
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        plugins = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
        assert self.NAME in plugins, sorted(plugins)
        listed = plugins[self.NAME]
        assert (listed["status"], listed["module"]) == ("loaded", self.MODULE), listed
        assert _normalise(listed["distribution"]) == self.DISTRIBUTION
        assert listed["version"] == version(self.DISTRIBUTION)


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-")


DATABASE_URL_VARIABLE = "DCSIM_TEST_DATABASE_URL"


def eventually(probe: Callable[[], Any], timeout: float = 10.0, interval: float = 0.1, what: str = "") -> Any:
    """Call ``probe`` until it answers something truthy and return that answer.

    For effects that arrive later (over the event bus, in another process). After
    ``timeout`` seconds raise ``AssertionError`` naming ``what`` and the last answer.
    """
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'probe'} not true after {timeout} s: last answer {answer!r}")
        time.sleep(interval)


def required_database_url(purpose: str) -> str:
    """The PostgreSQL URL in ``DCSIM_TEST_DATABASE_URL``.

    Without it the calling test is skipped, or fails under ``CI`` (where PostgreSQL must
    run); ``purpose`` says in the message what needs it.
    """
    url = os.environ.get(DATABASE_URL_VARIABLE)
    if not url:
        message = f"{DATABASE_URL_VARIABLE} is not set: {purpose} needs PostgreSQL"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must start PostgreSQL and export it", pytrace=False)
        pytest.skip(message)
    return url


@contextlib.contextmanager
def postgres_database(url: str, prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database named ``<prefix>_<random>`` on the
    server of ``url``, dropped (with its connections) afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from dcsim.store.engine import normalize_url

    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def postgres_schema(url: str, prefix: str) -> Iterator[str]:
    """The URL of a new, empty schema ``<prefix>_<random>`` in the database of ``url``,
    first on the connection's ``search_path``; dropped with its contents afterwards.

    Cheaper than a database per test; enough unless the code under test needs a
    database of its own (advisory locks, ``LISTEN``)."""
    from sqlalchemy import create_engine, text

    from dcsim.store.engine import normalize_url

    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield admin.url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
