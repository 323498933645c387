"""What docker nodes do without dc-sim asking, reported to the engine's listener.

For the nodes this instance was given with ``ensure`` (other instances' containers on
the same engine are never reported):

- power: Docker's event stream of the instance's containers (``start``, ``die``,
  ``pause`` ...), so that ``docker stop`` typed by someone else reaches the engine;
- files: ``inotifywait`` runs inside every running node, its output streamed back
  through the Docker API (no network path from node to host), each touched path read
  back through the API and diffed against the text last seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import docker
import docker.errors
import requests
import structlog

from dcsim.errors import NotFound
from dcsim.sim.model import PowerState
from dcsim.sim.nodes.base import WATCHED_DIR, NodeListener
from dcsim.sim.nodes.changes import FileChanges
from dcsim.sim.nodes.docker.files import etc_files, get_file
from dcsim.sim.nodes.docker.instances import INSTANCE_LABEL, NODE_LABEL, container_name, instance_name

if TYPE_CHECKING:
    from dcsim.sim.nodes.docker.engine import Engine

log = structlog.get_logger(__name__)

#: Setting up inotify watches on /etc and reading it back takes well under a second.
WATCH_TIMEOUT = 15.0
_OBSERVED = {
    "start": PowerState.ON,
    "unpause": PowerState.ON,
    "die": PowerState.OFF,
    "stop": PowerState.OFF,
    "pause": PowerState.SUSPENDED,
}


class Observers:
    """The event stream and the in-node file watchers of one started backend."""

    def __init__(self, engine: Engine, listener: NodeListener) -> None:
        self.engine = engine
        self._loop = asyncio.get_running_loop()
        self._listener = listener
        self._changes = FileChanges(self._loop, listener, self._read_text)
        self._events = _EventStream(self)
        # Guards what follows, which the event thread and the event loop share.
        self._lock = threading.Lock()
        self._nodes: set[str] = set()
        self._watchers: dict[str, _Watcher] = {}
        # Container ids being removed by dc-sim (their death is not news) and the last
        # power state reported per container id (Docker says "die" and "stop" for one stop).
        self._removing: set[str] = set()
        self._reported: dict[str, PowerState] = {}
        self._closed = False

    def container(self, node: str) -> str:
        """The container of ``node``."""
        return container_name(self.engine.settings, node)

    async def start(self) -> None:
        """Follow the engine's events of this instance's containers."""
        self._events.start()
        await asyncio.to_thread(self._events.ready.wait, WATCH_TIMEOUT)

    async def close(self) -> None:
        """Stop the event stream and every watcher (ending their ``inotifywait``)."""
        self._closed = True
        self._events.stop()
        with self._lock:
            watchers = list(self._watchers.values())
            self._watchers.clear()
        await asyncio.gather(*(asyncio.to_thread(watcher.stop) for watcher in watchers))
        await self._changes.close()

    def follow(self, node: str) -> None:
        """From now on report on ``node``; the first time, read its files as the baseline (blocking)."""
        with self._lock:
            first = node not in self._nodes
            self._nodes.add(node)
        if first:
            # Known from the start, so that a file written before the node runs (or while
            # it is stopped) is a change too.
            self.baseline(node, etc_files(self.engine.client().api, self.container(node)))

    def forget(self, node: str, container_id: str | None) -> None:
        """``node`` is being removed: its watcher goes, and its container's death is not news."""
        with self._lock:
            self._nodes.discard(node)
            watcher = self._watchers.pop(node, None)
            if container_id:
                self._removing.add(container_id)
        if watcher is not None:
            watcher.detach()
        self._changes.forget(node)

    async def watched(self, node: str) -> None:
        """Return once the running node's files are watched (at once when it does not run)."""
        watcher = await asyncio.to_thread(self.watch, node)
        if watcher is not None:
            await asyncio.to_thread(watcher.ready.wait, WATCH_TIMEOUT)

    def watch(self, node: str) -> _Watcher | None:
        """The file watcher of the running ``node``, started unless it runs; blocking.

        A watcher belongs to one run of the container (its start time): after a restart
        the old one's ``inotifywait`` is dead, and a new one is needed. None when the node
        is not followed or does not run (a paused node keeps the watcher it has, frozen
        with it).
        """
        with self._lock:
            if node not in self._nodes or self._closed:
                return None
        try:
            state = self.engine.client().api.inspect_container(self.container(node))["State"]
        except docker.errors.NotFound:
            return None
        started_at = str(state.get("StartedAt"))
        with self._lock:
            current = self._watchers.get(node)
            if current is not None and current.started_at == started_at and current.is_alive():
                return current
            if not state.get("Running") or state.get("Paused"):
                return None
            watcher = _Watcher(self, node, started_at)
            self._watchers[node] = watcher
        if current is not None:
            current.detach()
        watcher.start()
        return watcher

    def touched(self, node: str, path: str) -> None:
        """``path`` of ``node`` may have changed: read it back and report a difference."""
        self._changes.touched(node, path)

    def baseline(self, node: str, files: dict[str, str]) -> None:
        """``files`` are what ``node`` holds now (from any thread)."""
        self._loop.call_soon_threadsafe(self._changes.baseline, node, files)

    def watcher_ended(self, watcher: _Watcher) -> None:
        with self._lock:
            if self._watchers.get(watcher.node) is watcher:
                del self._watchers[watcher.node]

    def on_event(self, event: dict[str, Any]) -> None:
        """Handle one container event of the engine (event-stream thread)."""
        action = str(event.get("Action") or event.get("status") or "")
        container_id = str(event.get("id") or event.get("Actor", {}).get("ID") or "")
        node = event.get("Actor", {}).get("Attributes", {}).get(NODE_LABEL)
        if not node or not container_id:
            return
        with self._lock:
            if action == "destroy":
                self._removing.discard(container_id)
                self._reported.pop(container_id, None)
                return
            if node not in self._nodes or container_id in self._removing or action not in _OBSERVED:
                return
            state = _OBSERVED[action]
            unchanged = self._reported.get(container_id) is state
            self._reported[container_id] = state
        if action in {"start", "unpause"}:
            watcher = self.watch(node)
            if watcher is not None:
                watcher.resume()
                # Say "on" once the node's files are watched: whoever sees the node on
                # can count on its edits being reported.
                watcher.ready.wait(WATCH_TIMEOUT)
        if not unchanged:
            self._report_power(node, state)

    def _report_power(self, node: str, state: PowerState) -> None:
        report = self._listener.node_power_observed(node, state)
        try:
            future = asyncio.run_coroutine_threadsafe(report, self._loop)
        except RuntimeError:
            report.close()  # the loop is closed: dc-sim is shutting down
            return
        future.add_done_callback(_log_failure)

    async def _read_text(self, node: str, path: str) -> str | None:
        try:
            file = await asyncio.to_thread(get_file, self.engine.client().api, self.container(node), path)
        except NotFound:
            return None
        try:
            return None if file is None else file.data.decode("utf-8")
        except UnicodeDecodeError:
            return None


def _log_failure(future: Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("node power listener failed", exc_info=future.exception())


def _lines(chunks: Iterator[tuple[bytes | None, bytes | None]]) -> Iterator[tuple[bool, str]]:
    """A demultiplexed exec stream as (is stderr, text): stdout line by line, stderr as it comes."""
    out = b""
    for stdout, stderr in chunks:
        if stderr:
            yield True, stderr.decode("utf-8", errors="replace")
        if stdout:
            out += stdout
            *lines, out = out.split(b"\n")
            for line in lines:
                yield False, line.decode("utf-8", errors="replace")


class _EventStream(threading.Thread):
    """Follows the engine's events of the instance's containers; reconnects when the engine restarts."""

    def __init__(self, observers: Observers) -> None:
        super().__init__(name="dcsim-docker-events", daemon=True)
        self._observers = observers
        self._filters = {"label": f"{INSTANCE_LABEL}={instance_name(observers.engine.settings)}", "type": "container"}
        self.ready = threading.Event()
        self._stopped = threading.Event()
        self._stream: Any = None

    def run(self) -> None:
        since: int | None = None
        while not self._stopped.is_set():
            try:
                with contextlib.closing(self._observers.engine.stream_api()) as api:
                    # After a reconnection, `since` replays the last second: repeated
                    # events are harmless (power reports are deduplicated per container).
                    self._stream = api.events(since=since, decode=True, filters=self._filters)
                    self.ready.set()
                    for event in self._stream:
                        since = int(event.get("time", since or 0))
                        self._observers.on_event(event)
            except Exception:
                if self._stopped.is_set():
                    return
                log.warning("docker event stream lost; reconnecting", exc_info=True)
            # A stream that ended without stop() means the engine went away for a moment.
            self._stopped.wait(1.0)

    def stop(self) -> None:
        self._stopped.set()
        if self._stream is not None:
            self._stream.close()


class _Watcher(threading.Thread):
    """Streams ``inotifywait`` output from inside one running node through the Docker API."""

    def __init__(self, observers: Observers, node: str, started_at: str) -> None:
        super().__init__(name=f"dcsim-watch-{node}", daemon=True)
        self._observers = observers
        self.node = node
        self.container = observers.container(node)
        # The container run this watcher's inotifywait lives in.
        self.started_at = started_at
        # Set once the node's /etc is watched, or when it cannot be for now (the node
        # was paused meanwhile, or stopped): who waits for a watcher waits for this.
        self.ready = threading.Event()
        self._pid: str | None = None
        self._detached = threading.Event()
        self._wake = threading.Event()

    def run(self) -> None:
        try:
            self._watch()
        except Exception:
            if not self._detached.is_set():
                log.warning("file watcher of node ended", node=self.node, exc_info=True)
        finally:
            self.ready.set()
            self._observers.watcher_ended(self)

    def _watch(self) -> None:
        # `echo $$` first: the shell's pid is inotifywait's after exec, so stop() can kill it.
        command = f"echo $$; exec inotifywait -m -r -e close_write,moved_to,create,delete --format '%w%f' {WATCHED_DIR}"
        engine = self._observers.engine
        with contextlib.closing(engine.stream_api()) as api:
            while not self._detached.is_set():
                with engine.exec_lock(self.container):
                    try:
                        exec_id = api.exec_create(self.container, ["sh", "-c", command])["Id"]
                        chunks = api.exec_start(exec_id, stream=True, demux=True)
                    except docker.errors.APIError as exc:
                        if exc.status_code != 409:
                            raise
                        output = None
                    else:
                        # The engine answers before its runtime has started the process,
                        # and a pause in between would hang both: hold the lock until the
                        # process runs, which it does once it has printed its pid.
                        output = self._until_pid(_lines(chunks))
                if output is None:
                    # Paused since this watcher was started: try again once it is resumed.
                    self.ready.set()
                    self._wake.wait()
                    self._wake.clear()
                    continue
                self._follow(output)
                return

    def _until_pid(self, output: Iterator[tuple[bool, str]]) -> Iterator[tuple[bool, str]]:
        """Read up to the pid line; the output from there on, stderr read meanwhile first."""
        early = []
        for is_stderr, text in output:
            if not is_stderr:
                self._pid = text.strip()
                break
            # stdout and stderr are separate pipes: inotifywait's first words may come first.
            early.append((is_stderr, text))
        return itertools.chain(early, output)

    def _follow(self, output: Iterator[tuple[bool, str]]) -> None:
        established, err = False, ""
        for is_stderr, text in output:
            if self._detached.is_set():
                return
            if is_stderr and not established:
                err += text
                # inotifywait says so on stderr once every directory is watched; only
                # then is the baseline read, so no change falls between the two.
                if "Watches established" in err:
                    established = True
                    files = etc_files(self._observers.engine.client().api, self.container)
                    self._observers.baseline(self.node, files)
                    self.ready.set()
            elif not is_stderr and text.startswith(WATCHED_DIR + "/"):
                self._observers.touched(self.node, text)

    def resume(self) -> None:
        """The node was started or unpaused: a watcher waiting for that may go on."""
        self._wake.set()

    def detach(self) -> None:
        """Stop reporting (the container is going away or stopped)."""
        self._detached.set()
        self._wake.set()

    def stop(self) -> None:
        """Stop reporting and end ``inotifywait`` inside the node."""
        self.detach()
        if self._pid is None:
            return
        engine = self._observers.engine
        try:
            with contextlib.closing(engine.stream_api()) as api:
                state = api.inspect_container(self.container)["State"]
                # Pids are reused: only a process of the run this watcher started in is ours.
                if state.get("Running") and not state.get("Paused") and str(state.get("StartedAt")) == self.started_at:
                    with engine.exec_lock(self.container):
                        api.exec_start(api.exec_create(self.container, ["kill", self._pid])["Id"])
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            # Gone meanwhile: its inotifywait went with it.
            log.debug("could not stop file watcher", node=self.node)
