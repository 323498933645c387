"""Per-token rate limits: fixed windows counted in memory, or in Redis with the redis bus.

A token (one of dc-sim's own, or the subject of a JWT) may make ``rate_limit``
requests per window (``rate_limit_roles`` overrides it per role); a client address
may make ``rate_limit_anonymous`` requests to open routes and unauthenticated
requests. The window starts at a subject's first request and lasts the rate's unit;
once the budget is spent the guard answers 429 with ``Retry-After`` (the seconds left
in the window).

With the redis bus the counters live in the bus's Redis, so every process of one
instance shares one budget; one Lua script increments and sets the expiry atomically.
When Redis does not answer within a short timeout the limiter counts in memory for a
few seconds rather than delay or refuse requests: a Redis outage must not stop writes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Protocol

import attrs
import redis.asyncio as aioredis
import structlog
from litestar.exceptions import TooManyRequestsException
from redis.exceptions import RedisError

from dcsim.errors import ConfigError
from dcsim.model import Role
from dcsim.settings import Settings

log = structlog.get_logger(__name__)

UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
#: Words that switch a limit off.
OFF = ("", "off", "none")
#: How long Redis may take to count one request before the limiter counts in memory.
REDIS_TIMEOUT_SECONDS = 0.25
#: How long the limiter counts in memory after Redis failed, before it tries Redis again.
REDIS_RETRY_SECONDS = 5.0


@attrs.frozen
class Rate:
    """``count`` requests per ``seconds``."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str, setting: str) -> Rate | None:
        """``"600/minute"`` as a rate, ``"off"`` as None; ConfigError naming ``setting`` otherwise."""
        if text.strip().lower() in OFF:
            return None
        count, sep, unit = text.strip().partition("/")
        unit = unit.strip().lower().removesuffix("s")
        if not sep or not count.strip().isdigit() or int(count) < 1 or unit not in UNITS:
            raise ConfigError(
                f"{setting}={text!r}: expected <count>/<unit> with a count >= 1 and a unit of"
                f" {', '.join(UNITS)} (e.g. 600/minute), or off",
                setting=setting,
            )
        return cls(int(count), UNITS[unit])

    def __str__(self) -> str:
        unit = next(name for name, seconds in UNITS.items() if seconds == self.seconds)
        return f"{self.count}/{unit}"


class Counters(Protocol):
    """Where the windows are counted."""

    async def hit(self, key: str, window_seconds: int) -> tuple[int, float]:
        """Count one request of ``key``; return the count in its window and the seconds left in it."""


class MemoryCounters:
    """Windows counted in this process (the memory bus: one process is the whole instance)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, window_seconds: int) -> tuple[int, float]:
        """Count one request of ``key``; return the count in its window and the seconds left in it."""
        now = self._clock()
        ends, count = self._windows.get(key, (0.0, 0))
        if ends <= now:
            ends, count = now + window_seconds, 0
            if len(self._windows) > 10_000:
                # Bounded memory: forget every window that has ended.
                self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        self._windows[key] = (ends, count + 1)
        return count + 1, ends - now


# INCR and PEXPIRE in one step, so that no process sees a counter without its expiry.
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RedisCounters:
    """Windows counted in Redis, shared by every process using the same Redis and ``prefix``."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self._fallback = MemoryCounters()
        self._down_until = 0.0
        # A client belongs to the event loop it was made on; the app may be restarted on another.
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}

    def _client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = aioredis.Redis.from_url(
                self.url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
            )
            self._clients = {loop: client} | {k: v for k, v in self._clients.items() if not k.is_closed()}
        return client

    async def hit(self, key: str, window_seconds: int) -> tuple[int, float]:
        """Count one request of ``key`` in Redis (in memory while Redis is away)."""
        if time.monotonic() >= self._down_until:
            try:
                async with asyncio.timeout(REDIS_TIMEOUT_SECONDS * 2):
                    count, ttl_ms = await self._client().eval(_HIT_SCRIPT, 1, self.prefix + key, window_seconds * 1000)
                return int(count), int(ttl_ms) / 1000
            except (RedisError, OSError, TimeoutError) as exc:
                self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
                log.warning("ratelimit.redis_unavailable", error=str(exc)[:200], retry_in=REDIS_RETRY_SECONDS)
        return await self._fallback.hit(key, window_seconds)

    async def close(self) -> None:
        """Close the Redis clients."""
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()


@attrs.frozen
class RateLimiter:
    """The limits of one instance and where they are counted."""

    per_token: Rate | None
    per_role: dict[Role, Rate | None]
    anonymous: Rate | None
    counters: Counters

    def rate_for(self, role: Role | None) -> Rate | None:
        """The rate of a token of ``role``, or of an unauthenticated client for None."""
        if role is None:
            return self.anonymous
        return self.per_role.get(role, self.per_token)

    async def check(self, subject: str, role: Role | None) -> None:
        """Count one request of ``subject``; raise 429 with ``Retry-After`` once its budget is spent."""
        rate = self.rate_for(role)
        if rate is None:
            return
        count, seconds_left = await self.counters.hit(f"{rate.seconds}:{subject}", rate.seconds)
        if count <= rate.count:
            return
        retry_after = str(max(1, math.ceil(seconds_left)))
        raise TooManyRequestsException(
            detail=f"rate limit of {rate} exceeded; retry in {retry_after} s",
            headers={
                "Retry-After": retry_after,
                "RateLimit-Limit": str(rate.count),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": retry_after,
            },
        )


def role_rates(entries: tuple[str, ...], setting: str = "rate_limit_roles") -> dict[Role, Rate | None]:
    """``rate_limit_roles`` as a rate per role; ConfigError naming ``setting`` and the entry otherwise."""
    per_role: dict[Role, Rate | None] = {}
    for entry in entries:
        name, sep, text = entry.partition("=")
        if not sep or name.strip() not in {role.value for role in Role}:
            raise ConfigError(
                f"{setting}={entry!r}: expected <role>=<rate> with a role of {', '.join(role.value for role in Role)}",
                setting=setting,
            )
        per_role[Role(name.strip())] = Rate.parse(text, setting)
    return per_role


def rate_limiter(settings: Settings) -> RateLimiter:
    """The limiter ``settings`` describe: counted in Redis with the redis bus, else in memory."""
    per_role = role_rates(settings.rate_limit_roles)
    counters: Counters
    if settings.bus_driver == "redis":
        counters = RedisCounters(settings.redis_url, prefix=f"{settings.bus_stream}:ratelimit:")
    else:
        counters = MemoryCounters()
    return RateLimiter(
        per_token=Rate.parse(settings.rate_limit, "rate_limit"),
        per_role=per_role,
        anonymous=Rate.parse(settings.rate_limit_anonymous, "rate_limit_anonymous"),
        counters=counters,
    )


__all__ = ["MemoryCounters", "Rate", "RateLimiter", "RedisCounters", "rate_limiter", "role_rates"]
