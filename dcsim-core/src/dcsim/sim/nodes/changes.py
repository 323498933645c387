"""File-change reporting shared by the node backends: debounce, diff, tell the listener.

A backend's watcher (watchdog for virtual nodes, inotify inside docker nodes) only says
"this path was touched", possibly many times for one save and from any thread. The
:class:`FileChanges` tracker waits until a path has been quiet for a moment, reads it
through the backend, diffs it against the last text it knew and reports a real change
once. Text the backend knew comes from :meth:`FileChanges.baseline` (what a node held
when the backend created it or started watching it), or, for a node whose files do not
exist yet (a lazy node), from :meth:`FileChanges.expect`: what they will be when made.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
from collections.abc import Awaitable, Callable

import structlog

from dcsim.sim.nodes.base import NodeListener

log = structlog.get_logger(__name__)

#: How long a path must stay untouched before it is read: an editor's save (temporary
#: file, rename, chmod) or ``sed -i`` produce several events within a few milliseconds.
DEBOUNCE_SECONDS = 0.15

#: Reads the text of a path inside a node; None when it is missing or not text.
Reader = Callable[[str, str], Awaitable[str | None]]

_NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(path: str, old: str | None, new: str | None) -> str:
    """The unified diff from ``old`` to ``new`` text of ``path``, as ``diff -u`` and git write it.

    ``None`` stands for a file that does not exist (``/dev/null`` in the headers). Lines
    without a final newline are followed by ``\\ No newline at end of file``, so the diff
    applies with ``patch`` and ``git apply``.
    """
    relative = path.lstrip("/")
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        (new or "").splitlines(keepends=True),
        fromfile="/dev/null" if old is None else f"a/{relative}",
        tofile="/dev/null" if new is None else f"b/{relative}",
    )
    out = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n" + _NO_NEWLINE)
    return "".join(out)


class FileChanges:
    """Turns "path touched" notices from watcher threads into ``node_file_changed`` calls.

    Only nodes with a baseline are reported on: a node being removed is forgotten first,
    so the deletion of its files is no news.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        listener: NodeListener,
        read: Reader,
        delay: float = DEBOUNCE_SECONDS,
    ) -> None:
        self._loop = loop
        self._listener = listener
        self._read = read
        self._delay = delay
        # node -> path -> text last seen; node -> path -> lock of the check in progress.
        self._known: dict[str, dict[str, str]] = {}
        # node -> the files it will have when made (a lazy node): its baseline on first touch.
        self._expected: dict[str, Callable[[], dict[str, str]]] = {}
        self._locks: dict[str, dict[str, asyncio.Lock]] = {}
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def baseline(self, node: str, files: dict[str, str]) -> None:
        """Take ``files`` (path to text) as what ``node`` holds now. Event-loop thread only.

        For a node seen before (a container started again), paths whose text differs
        from what was known are checked and reported like any change: they changed
        while nobody watched.
        """
        self._expected.pop(node, None)
        known = self._known.get(node)
        if known is None:
            self._known[node] = dict(files)
            return
        for path in files.keys() | known.keys():
            if files.get(path) != known.get(path):
                self._schedule((node, path))

    def expect(self, node: str, files: Callable[[], dict[str, str]]) -> None:
        """``node`` has no files yet; when they appear (made on first touch, by this process
        or another), ``files()`` is what they hold: the baseline, so making them is no news.
        Event-loop thread only."""
        if node not in self._known:
            self._expected[node] = files

    def forget(self, node: str) -> None:
        """Drop what is known about ``node`` (it is being removed). Event-loop thread only."""
        self._known.pop(node, None)
        self._expected.pop(node, None)
        self._locks.pop(node, None)
        for key in [key for key in self._timers if key[0] == node]:
            self._timers.pop(key).cancel()

    def touched(self, node: str, path: str) -> None:
        """Note that ``path`` of ``node`` may have changed. Safe to call from any thread."""
        # A closed loop means the backend is shutting down and nobody listens any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._schedule, (node, path))

    async def close(self) -> None:
        """Stop reporting; checks already running are awaited."""
        self._closed = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _schedule(self, key: tuple[str, str]) -> None:
        if self._closed:
            return
        if key[0] not in self._known:
            expected = self._expected.pop(key[0], None)
            if expected is None:
                return
            self._known[key[0]] = dict(expected())
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._timers[key] = self._loop.call_later(self._delay, self._fire, key)

    def _fire(self, key: tuple[str, str]) -> None:
        self._timers.pop(key, None)
        task = self._loop.create_task(self._check(*key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _check(self, node: str, path: str) -> None:
        known = self._known.get(node)
        if known is None:
            return
        # One check per path at a time, so that two quick saves are diffed in order.
        lock = self._locks.setdefault(node, {}).setdefault(path, asyncio.Lock())
        async with lock:
            try:
                new = await self._read(node, path)
            except Exception:
                log.warning("node file unreadable", node=node, path=path, exc_info=True)
                return
            old = known.get(path)
            if new == old or self._known.get(node) is not known:
                return
            if new is None:
                del known[path]
            else:
                known[path] = new
            try:
                await self._listener.node_file_changed(node, path, unified_diff(path, old, new))
            except Exception:
                log.exception("node file change listener failed", node=node, path=path)
