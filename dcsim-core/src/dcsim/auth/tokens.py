"""dc-sim's own API tokens verified from memory: the store is asked once per token and
``MAX_STALE_SECONDS``, not on every request.

A verified token is kept, keyed by the SHA-256 of its secret (the secret itself is never
kept), for at most ``MAX_STALE_SECONDS``; then the next request asks the store again.
Revocations through the API publish ``dcsim.token.revoked`` (:data:`TOKEN_REVOKED`), and
every process serving the same bus drops that token at once when it sees the event
(:meth:`TokenCache.follow`). So a revoked token is refused by every process within
``MAX_STALE_SECONDS`` whatever happens to the bus (a revocation made straight on the store,
``dcsim token revoke``, or a bus that is down), and usually within the bus's latency.
Unknown secrets are not cached: a token created a moment ago works at once everywhere,
and a failed sign-in always reaches the store (and the address's rate limit).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import TYPE_CHECKING

import structlog

from dcsim.errors import DcsimError
from dcsim.model import Token

if TYPE_CHECKING:
    from dcsim.bus.base import EventBus
    from dcsim.store.base import Store

#: The longest a process goes on accepting a token after it was revoked (specs/002).
MAX_STALE_SECONDS = 5.0
#: The event a revocation through the API publishes; its data is ``{"id": <token id>}``.
TOKEN_REVOKED = "dcsim.token.revoked"
#: Pause before following the bus again after it failed (the cache's age bound holds meanwhile).
_RETRY_SECONDS = 1.0

log = structlog.get_logger("dcsim.auth")


class TokenCache:
    """Verified tokens of ``store`` kept in memory for at most ``max_age_seconds``."""

    def __init__(self, store: Store, max_age_seconds: float = MAX_STALE_SECONDS) -> None:
        self.store = store
        self.max_age_seconds = max_age_seconds
        self._tokens: dict[bytes, tuple[Token, float]] = {}

    async def verify(self, secret: str) -> Token | None:
        """The live token whose secret this is, or None; from memory when verified recently."""
        key = hashlib.sha256(secret.encode()).digest()
        cached = self._tokens.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[1] < self.max_age_seconds:
            return cached[0]
        token = await asyncio.to_thread(self.store.verify_token, secret)
        if token is None:
            self._tokens.pop(key, None)
        else:
            # Stamped with the time the store was asked, not answered: the bound counts
            # from what the store knew.
            self._tokens[key] = (token, now)
        return token

    def forget(self, token_id: str) -> None:
        """Drop the token ``token_id`` (revoked): its next use asks the store."""
        for key in [key for key, (token, _) in self._tokens.items() if token.id == token_id]:
            del self._tokens[key]

    async def follow(self, bus: EventBus) -> None:
        """Drop tokens as their revocations arrive on ``bus``; runs until cancelled.

        When the bus fails, following resumes after a pause; revocations published in
        between reach this process through the age bound instead.
        """
        while True:
            try:
                async for _, event in bus.tail():
                    if event.type == TOKEN_REVOKED:
                        self.forget(str(event.data.get("id")))
            except DcsimError as exc:
                log.warning("auth.token_events_unavailable", error=str(exc))
            await asyncio.sleep(_RETRY_SECONDS)
