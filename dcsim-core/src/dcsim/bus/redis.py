"""The Redis Streams event bus: shared by every process that points at the same Redis.

Needs Redis 7 or newer (``XAUTOCLAIM`` reporting the entries deleted while pending). Each
event is one stream entry with a single field ``event`` holding the JSON envelope
(written and read by ``dcsim.bus.codec``, equal to the cattrs converter's JSON); dead
letters go to the stream ``<stream>:dead`` with the fields ``message_id``, ``group``,
``attempts`` and ``event``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.typing import EncodableT, FieldT

from dcsim.bus.base import DeadLetter, Delivery, EventBus
from dcsim.bus.codec import decode_event, encode_event
from dcsim.errors import NotFound, Unavailable

if TYPE_CHECKING:
    from dcsim.model import Event
    from dcsim.settings import Settings

_new_tuple = tuple.__new__

# Every blocking command waits at most this long, so the socket timeout can catch a
# server that stopped answering without cutting a healthy block short.
_MAX_BLOCK_SECONDS = 5.0
_BLOCKING_SOCKET_TIMEOUT_SECONDS = _MAX_BLOCK_SECONDS + 5.0
# Other commands answer in milliseconds; a server that is frozen (SIGSTOP) or gone
# must be reported within seconds, not after a blocking read's timeout.
_SOCKET_TIMEOUT_SECONDS = 2.0
_CONNECT_TIMEOUT_SECONDS = 2.0
_TAIL_BATCH = 100
_DEAD_LETTER_BATCH = 100

# The client decodes replies (decode_responses=True), which redis-py's types cannot
# express; these are the reply shapes the bus reads, applied with cast().
_Entry = tuple[str, dict[str, str]]
_StreamReply = list[tuple[str, list[_Entry]]]
# XREADGROUP's reply as Redis sends it (the client's callback is turned off for it, see
# RedisBus._connect): per stream its entries, each an id and a flat list of fields; a map
# of stream name to entries in RESP3 (redis-py's default), a list of [name, entries] in RESP2.
_RawEntries = list[tuple[str, list[str]]]
_RawStreamReply = dict[str, _RawEntries] | list[tuple[str, _RawEntries]] | None

# Appends every payload of ARGV[2..] with one XADD each, trimming to about ARGV[1]
# entries, and returns their ids: a publish batch is one command whatever its length
# (issue #18; redis-py spent more per pipelined XADD than Redis did). A script runs
# whole, so the batch's entries are consecutive in the stream; an error stops it
# after a prefix of the batch, as a pipeline's would.
_XADD_MANY = """
local ids = {}
for i = 2, #ARGV do
  ids[i - 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'event', ARGV[i])
end
return ids
"""


class RedisBus(EventBus):
    """An event bus on a Redis stream, with consumer groups as Redis consumer groups.

    Overdue pending deliveries are taken over with ``XAUTOCLAIM``; the delivery counter
    Redis keeps per pending entry is the attempt number.
    """

    name = "redis"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.dead_stream = f"{self.stream}:dead"
        self._where = settings.masked()["redis_url"]
        # Quick retries ride out a dropped connection or a restarting server; beyond
        # that callers get Unavailable and decide how long to back off. Two clients: commands that block (XREADGROUP, XREAD) get a socket timeout
        # longer than their block; every other command gets a short one.
        self._client = self._connect(settings.redis_url, _SOCKET_TIMEOUT_SECONDS, retries=1)
        self._blocking = self._connect(settings.redis_url, _BLOCKING_SOCKET_TIMEOUT_SECONDS, retries=3)
        # Loaded on first use and again after Redis lost its script cache (EVALSHA, then EVAL).
        self._xadd_many = self._client.register_script(_XADD_MANY)
        # Per group, where the next XAUTOCLAIM scan of the pending entries starts.
        self._claim_cursors: dict[str, str] = {}
        # Per group, when a finished XAUTOCLAIM scan last found nothing overdue. Nothing can
        # become overdue sooner than redelivery_seconds after its delivery, so scanning on
        # a timer of a quarter of that delays a redelivery by at most that quarter, and
        # spares a busy consumer one round trip per read (issue #18).
        self._claimed_clean_at: dict[str, float] = {}
        self._claim_interval = self.redelivery_seconds / 4
        # Publishes waiting for the next batch, and the task that sends them (issue #18).
        self._queued: list[tuple[bytes, asyncio.Future[str]]] = []
        self._flusher: asyncio.Task[None] | None = None

    @staticmethod
    def _connect(url: str, socket_timeout: float, retries: int) -> redis.asyncio.Redis:
        client = redis.asyncio.Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=_CONNECT_TIMEOUT_SECONDS,
            socket_timeout=socket_timeout,
            retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=retries),
        )
        # XREADGROUP's reply is read as Redis sends it: redis-py's callback builds a dict
        # of fields per entry, a cost per event the bus does not need (issue #18).
        client.set_response_callback("XREADGROUP", _raw_reply)
        # Whatever connection class the URL chose (TCP, TLS, Unix socket), packed in one join.
        pool = client.connection_pool
        pool.connection_class = type(
            f"LinearPacking{pool.connection_class.__name__}", (LinearPacking, pool.connection_class), {}
        )
        return client

    @contextlib.contextmanager
    def _commands(self) -> Iterator[None]:
        """Wrap Redis commands: connection failures become Unavailable; lost cancellations are raised.

        On Python 3.11, ``asyncio.wait_for`` (redis-py sends every command through it when a
        socket timeout is set) returns normally when cancelled just as the command completes
        (CPython gh-86296). The task still counts the cancellation, so it is raised here
        instead of letting a cancelled loop around bus calls run on.
        """
        try:
            yield
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise Unavailable(f"event bus: Redis at {self._where} is unreachable: {exc}") from exc
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise asyncio.CancelledError

    @contextlib.contextmanager
    def _group_exists(self, group: str) -> Iterator[None]:
        try:
            yield
        except redis.exceptions.ResponseError as exc:
            if str(exc).startswith("NOGROUP"):
                raise NotFound(f"consumer group {group!r} does not exist on stream {self.stream!r}") from exc
            raise

    async def close(self) -> None:
        """Send the publishes still queued, then close the clients and their connections."""
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self._client.aclose()
        await self._blocking.aclose()

    async def ping(self) -> None:
        """Return when Redis answers ``PING``; raise :class:`~dcsim.errors.Unavailable` if not."""
        with self._commands():
            await self._client.ping()

    async def publish(self, event: Event) -> str:
        """``XADD`` the event, trimming the stream to about ``retention_max_len`` entries.

        Publishes made while others are on their way share the next batch: one command
        (the ``_XADD_MANY`` script) and one round trip for all of them, in the order they
        were made (redis-py spends more per command than Redis does). It returns when
        Redis has answered for this event.
        """
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._queued.append((encode_event(event), future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        """Send the queued publishes, a batch at a time, until none are left."""
        # One turn of the loop: publishers that are ready queue theirs into this batch.
        await asyncio.sleep(0)
        while self._queued:
            batch, self._queued = self._queued, []
            try:
                ids = await self._xadd_all([payload for payload, _ in batch])
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), message_id in zip(batch, ids, strict=True):
                if not future.done():
                    future.set_result(message_id)

    async def _xadd_all(self, payloads: list[bytes]) -> list[str]:
        with self._commands():
            reply = await self._xadd_many(keys=[self.stream], args=[self.retention_max_len, *payloads])
        return cast(list[str], reply)

    async def publish_many(self, events: Sequence[Event]) -> list[str]:
        """Every ``XADD`` in one command (one round trip), in order."""
        if not events:
            return []
        return await self._xadd_all([encode_event(event) for event in events])

    async def ensure_group(self, group: str) -> None:
        """Create ``group`` at the end of the stream (creating the stream too), unless it exists."""
        with self._commands():
            try:
                await self._client.xgroup_create(self.stream, group, id="$", mkstream=True)
            except redis.exceptions.ResponseError as exc:
                if not str(exc).startswith("BUSYGROUP"):
                    raise

    async def read(self, group: str, consumer: str, count: int = 10, block_seconds: float = 1.0) -> list[Delivery]:
        """Claim overdue pending deliveries, then ``XREADGROUP`` new ones, for ``consumer``.

        Raises :class:`~dcsim.errors.NotFound` when the group (or the stream) does not
        exist. Blocks in steps no longer than ``redelivery_seconds``, so deliveries that
        become overdue while waiting are handed out too.
        """
        deadline = time.monotonic() + block_seconds
        while True:
            with self._commands(), self._group_exists(group):
                deliveries = await self._claim_overdue_on_timer(group, consumer, count)
                remaining = deadline - time.monotonic()
                if len(deliveries) < count:
                    block = None if deliveries or remaining <= 0 else min(remaining, self.redelivery_seconds)
                    deliveries += await self._read_new(group, consumer, count - len(deliveries), block)
            if deliveries or time.monotonic() >= deadline:
                return deliveries

    async def _claim_overdue_on_timer(self, group: str, consumer: str, count: int) -> list[Delivery]:
        now = time.monotonic()
        if now - self._claimed_clean_at.get(group, -math.inf) < self._claim_interval:
            return []
        deliveries = await self._claim_overdue(group, consumer, count)
        if not deliveries and self._claim_cursors.get(group) == "0-0":
            self._claimed_clean_at[group] = now
        else:
            # More may be overdue: scan again on the next read.
            self._claimed_clean_at.pop(group, None)
        return deliveries

    async def _claim_overdue(self, group: str, consumer: str, count: int) -> list[Delivery]:
        start = self._claim_cursors.get(group, "0-0")
        reply = await self._client.xautoclaim(
            self.stream, group, consumer, min_idle_time=int(self.redelivery_seconds * 1000), start_id=start, count=count
        )
        cursor, claimed, deleted = cast(tuple[str, list[_Entry], list[str]], reply)
        self._claim_cursors[group] = cursor
        if deleted:
            # Trimmed away while pending; Redis 7 already dropped them from the PEL, the
            # ack makes that explicit and is a no-op if so.
            await self._client.xack(self.stream, group, *deleted)
        if not claimed:
            return []
        async with self._client.pipeline(transaction=False) as pipe:
            for message_id, _ in claimed:
                pipe.xpending_range(self.stream, group, min=message_id, max=message_id, count=1)
            pending_infos = cast(list[list[dict[str, Any]]], await pipe.execute())
        deliveries = []
        for (message_id, fields), info in zip(claimed, pending_infos, strict=True):
            if not info:
                # Its previous consumer acknowledged it between the claim and now.
                continue
            # The claim counted as a delivery, so the counter is this attempt's number.
            attempt = int(info[0]["times_delivered"])
            if attempt > self.max_deliveries:
                await self._dead_letter(group, message_id, fields["event"], attempt - 1)
            else:
                deliveries.append(Delivery(message_id, decode_event(fields["event"]), group, consumer, attempt))
        return deliveries

    async def _read_new(self, group: str, consumer: str, count: int, block: float | None) -> list[Delivery]:
        # BLOCK 0 would wait forever, so a block always rounds up to at least 1 ms.
        block_ms = None if block is None else max(1, int(min(block, _MAX_BLOCK_SECONDS) * 1000))
        client = self._client if block_ms is None else self._blocking
        arguments: list[EncodableT] = ["XREADGROUP", "GROUP", group, consumer, "COUNT", count]
        if block_ms is not None:
            arguments += ["BLOCK", block_ms]
        reply = await client.execute_command(*arguments, "STREAMS", self.stream, ">")  # type: ignore[no-untyped-call]
        reply = cast(_RawStreamReply, reply)
        if not reply:
            return []
        streams = reply.values() if isinstance(reply, dict) else [entries for _, entries in reply]
        # Each entry's fields are ["event", <envelope>]: the one field publish writes.
        return [
            _new_tuple(Delivery, (message_id, decode_event(fields[1]), group, consumer, 1))
            for entries in streams
            for message_id, fields in entries
        ]

    async def _dead_letter(self, group: str, message_id: str, raw_event: str, attempts: int) -> None:
        letter: dict[FieldT, EncodableT] = {
            "message_id": message_id,
            "group": group,
            "attempts": attempts,
            "event": raw_event,
        }
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.xadd(self.dead_stream, letter, maxlen=self.retention_max_len, approximate=True)
            pipe.xack(self.stream, group, message_id)
            await pipe.execute()

    async def ack(self, group: str, message_id: str) -> None:
        """``XACK`` the delivery; unknown groups and ids are ignored."""
        with self._commands():
            await self._client.xack(self.stream, group, message_id)

    async def ack_many(self, group: str, message_ids: Sequence[str]) -> None:
        """One ``XACK`` for every delivery (a consumer acknowledges a read's batch at once)."""
        if message_ids:
            with self._commands():
                await self._client.xack(self.stream, group, *message_ids)

    async def pending(self, group: str) -> int:
        """The size of the group's pending entries list; 0 for an unknown group."""
        with self._commands():
            try:
                summary = await self._client.xpending(self.stream, group)
            except redis.exceptions.ResponseError as exc:
                if str(exc).startswith("NOGROUP"):
                    return 0
                raise
        return int(summary["pending"])

    async def lag(self, group: str) -> int:
        """The group's ``lag`` from ``XINFO GROUPS`` (Redis 7); when Redis cannot tell
        (an entry deleted in the range), the entries after its last-delivered id,
        counted with ``XRANGE``; 0 for an unknown group."""
        with self._commands():
            try:
                groups = await self._client.xinfo_groups(self.stream)
            except redis.exceptions.ResponseError as exc:
                if "no such key" in str(exc):
                    return 0
                raise
            info = next((g for g in groups if g["name"] == group), None)
            if info is None:
                return 0
            if info.get("lag") is not None:
                return int(info["lag"])
            after = await self._client.xrange(self.stream, min=f"({info['last-delivered-id']}", max="+")
        return len(cast(list[_Entry], after))

    async def dead_letters(self, group: str | None = None, count: int = 100) -> list[DeadLetter]:
        """The oldest ``count`` entries of the dead-letter stream, of ``group`` or of all."""
        letters: list[DeadLetter] = []
        start = "-"
        with self._commands():
            while len(letters) < count:
                reply = await self._client.xrange(self.dead_stream, min=start, max="+", count=_DEAD_LETTER_BATCH)
                batch = cast(list[_Entry], reply)
                for _, fields in batch:
                    if group is None or fields["group"] == group:
                        letters.append(
                            DeadLetter(
                                fields["message_id"],
                                decode_event(fields["event"]),
                                fields["group"],
                                int(fields["attempts"]),
                            )
                        )
                if len(batch) < _DEAD_LETTER_BATCH:
                    break
                start = f"({batch[-1][0]}"
        return letters[:count]

    async def recent(self, count: int = 100) -> list[tuple[str, Event]]:
        """The newest ``count`` entries (``XREVRANGE``), oldest first."""
        with self._commands():
            reply = await self._client.xrevrange(self.stream, max="+", min="-", count=count)
        entries = cast(list[_Entry], reply)
        return [(message_id, decode_event(fields["event"])) for message_id, fields in reversed(entries)]

    async def tail(self) -> AsyncIterator[tuple[str, Event]]:
        """Yield every event published after the first iteration (``XREAD BLOCK``).

        The start is the newest entry's id rather than ``$``, and each read continues from
        the last id seen, so nothing published between two reads is missed.
        """
        with self._commands():
            newest = cast(list[_Entry], await self._client.xrevrange(self.stream, max="+", min="-", count=1))
        last_id = newest[0][0] if newest else "0-0"
        while True:
            with self._commands():
                reply = await self._blocking.xread(
                    {self.stream: last_id}, count=_TAIL_BATCH, block=int(_MAX_BLOCK_SECONDS * 1000)
                )
            for _, entries in cast(_StreamReply, reply or []):
                for message_id, fields in entries:
                    last_id = message_id
                    yield message_id, decode_event(fields["event"])

    async def trim(self) -> int:
        """``XTRIM MINID`` by the server's clock: drop entries older than the age retention."""
        with self._commands():
            seconds, microseconds = await self._client.time()
            cutoff_ms = int(seconds * 1000 + microseconds // 1000 - self.retention_max_age_seconds * 1000)
            if cutoff_ms <= 0:
                return 0
            dropped = await self._client.xtrim(self.stream, minid=f"{cutoff_ms}-0", approximate=False)
        return int(dropped)


def _raw_reply(response: Any, **options: Any) -> Any:
    return response


class LinearPacking:
    """A mixin of redis-py connections: ``pack_command`` writing the same bytes in one join.

    redis-py grows one buffer by joining it again for every argument (quadratic up to its
    6 kB cutoff) and encodes each through a chain of type checks: for a publish batch's or
    an acknowledgement's hundreds of arguments that cost more than Redis spent running the
    command (issue #18). The bytes on the wire are the same (``tests/bus/test_redis_packing.py``).
    """

    # redis-py's Encoder (of a private module): encoding, encoding_errors, encode().
    encoder: Any

    def pack_command(self, *args: EncodableT) -> list[bytes]:
        """The command in the Redis protocol, as one chunk."""
        first = args[0]
        # A command name may carry literal arguments ("CONFIG GET"), sent as separate words.
        if isinstance(first, str):
            args = (*first.encode().split(), *args[1:])
        elif isinstance(first, bytes) and b" " in first:
            args = (*first.split(), *args[1:])
        encoder = self.encoder
        encoding, errors = encoder.encoding, encoder.encoding_errors
        pieces = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg.encode(encoding, errors) if type(arg) is str else encoder.encode(arg)
            pieces.append(b"$%d\r\n%b\r\n" % (len(data), data))
        return [b"".join(pieces)]
