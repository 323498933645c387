"""Keystone tokens in the store, kept hashed.

Tokens live in the store (namespace ``openstack.tokens``), so every dc-sim process
behind one store accepts the same tokens. The store keeps only a token's SHA-256 (the
key of its document), never the token: whoever reads the store cannot use what it finds
there. A token is 256 random bits, so a plain hash is enough (no salt or slow hash).
Revoking a token deletes its document; an expired one is refused and swept on the next
issue.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import time

import attrs

from dcsim.convert import converter
from dcsim.errors import NotFound
from dcsim.store.base import Store

NAMESPACE = "openstack.tokens"


def token_key(token: str) -> str:
    """The store key of a token's record: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@attrs.define(kw_only=True)
class TokenRecord:
    """What a token stands for. ``project_id`` is None for an unscoped token; ``roles``
    are the role ids it carries; ``audit_id`` is its public name (logs, events)."""

    user_id: str
    project_id: str | None
    roles: list[str]
    methods: list[str]
    issued_at: float
    expires_at: float
    audit_id: str
    application_credential_id: str | None = None

    @property
    def expired(self) -> bool:
        """Whether the token's life is over."""
        return self.expires_at <= time.time()


class Tokens:
    """Issue, look up and revoke tokens."""

    def __init__(self, store: Store, seconds: int) -> None:
        self.store = store
        self.seconds = seconds

    async def issue(
        self,
        *,
        user_id: str,
        project_id: str | None,
        roles: list[str],
        methods: list[str],
        expires_at: float | None = None,
        application_credential_id: str | None = None,
    ) -> tuple[str, TokenRecord]:
        """A new token and its record; it lives ``seconds`` unless ``expires_at`` is
        sooner (a token made from another never outlives it)."""
        now = time.time()
        lifetime = now + self.seconds
        record = TokenRecord(
            user_id=user_id,
            project_id=project_id,
            roles=roles,
            methods=methods,
            issued_at=now,
            expires_at=min(lifetime, expires_at) if expires_at else lifetime,
            audit_id=secrets.token_urlsafe(16),
            application_credential_id=application_credential_id,
        )
        token = secrets.token_urlsafe(32)
        await asyncio.to_thread(self.store.put, NAMESPACE, token_key(token), converter.unstructure(record))
        await asyncio.to_thread(self._purge_expired)
        return token, record

    async def find(self, token: str) -> TokenRecord | None:
        """The live record of ``token``; None if it is unknown, revoked or expired."""
        document = await asyncio.to_thread(self.store.find, NAMESPACE, token_key(token))
        if document is None:
            return None
        record = converter.structure(document.value, TokenRecord)
        return None if record.expired else record

    async def revoke(self, token: str) -> bool:
        """End ``token``; False if it was not live."""
        if await self.find(token) is None:
            return False
        with contextlib.suppress(NotFound):  # a concurrent revocation of the same token
            await asyncio.to_thread(self.store.delete, NAMESPACE, token_key(token))
        return True

    async def revoke_where(self, *, user_id: str, project_id: str | None = None) -> None:
        """End every token of ``user_id`` (on ``project_id`` only, when given): a user
        deleted or disabled, an assignment removed."""

        def sweep() -> None:
            with self.store.transaction() as session:
                for doc in session.list(NAMESPACE):
                    if doc.value.get("user_id") == user_id and project_id in (None, doc.value.get("project_id")):
                        session.delete(NAMESPACE, doc.key)

        await asyncio.to_thread(sweep)

    def _purge_expired(self) -> None:
        # Tokens nobody revoked would otherwise pile up; issues are rare enough to sweep on.
        now = time.time()
        expired = [doc.key for doc in self.store.list(NAMESPACE) if doc.value.get("expires_at", 0) <= now]
        if not expired:
            return
        with self.store.transaction() as session:
            for key in expired:
                if session.find(NAMESPACE, key) is not None:  # another process may have swept it
                    session.delete(NAMESPACE, key)


__all__ = ["NAMESPACE", "TokenRecord", "Tokens", "token_key"]
