"""UCS Manager sessions: cookies that expire after the refresh period unless refreshed.

Sessions live in the store (namespace ``ucs.sessions``), so every dc-sim process behind
one store accepts the same cookies. A cookie is ``<login epoch>/<uuid>``, as UCS Manager's
look. The store keeps only its SHA-256 (the key of the session's document), never the
cookie itself: whoever reads the store cannot use what it finds there. A random cookie
has 122 bits of entropy, so a plain hash is enough (no salt or slow hash needed).
``aaaRefresh`` swaps the cookie for a new one; ``aaaKeepAlive`` extends it; ``aaaLogout``
ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import time
import uuid

import attrs

from dcsim.convert import converter
from dcsim.errors import NotFound
from dcsim.store.base import Store
from dcsim_ucs.errors import authentication_failed, authorization_required
from dcsim_ucs.settings import Account, UcsSettings

NAMESPACE = "ucs.sessions"


def cookie_key(cookie: str) -> str:
    """The store key of a cookie's session: its SHA-256, hex."""
    return hashlib.sha256(cookie.encode()).hexdigest()


@attrs.define(kw_only=True)
class Session:
    """One logged-in session; ``cookie`` is what the client holds, never stored."""

    cookie: str = attrs.field(repr=False)
    user: str
    privilege: str
    session_id: str
    expires_at: float

    @property
    def read_only(self) -> bool:
        """Whether the session may only read."""
        return self.privilege == "read-only"


class Sessions:
    """Login, refresh, keep-alive, logout and cookie checks."""

    def __init__(self, store: Store, settings: UcsSettings) -> None:
        self.store = store
        self.settings = settings

    def _authenticate(self, name: str, password: str) -> Account:
        account = self.settings.account(name)
        # Compare anyway when the user is unknown, so timing does not tell which part was wrong.
        expected = account.password if account else uuid.uuid4().hex
        if not hmac.compare_digest(expected.encode(), password.encode()) or account is None:
            raise authentication_failed()
        return account

    async def login(self, name: str, password: str) -> Session:
        """A new session for a valid account; UCS's error 551 otherwise."""
        account = self._authenticate(name, password)
        session = Session(
            cookie=f"{int(time.time())}/{uuid.uuid4()}",
            user=account.name,
            privilege=account.privilege,
            session_id=uuid.uuid4().hex[:16],
            expires_at=time.time() + self.settings.session_seconds,
        )
        await self._save(session)
        await asyncio.to_thread(self._purge_expired)
        return session

    def _purge_expired(self) -> None:
        # Sessions nobody logged out of would otherwise pile up; logins are rare enough to sweep on.
        # Read first: the write lock is taken only when there is something to delete.
        # Documents of older versions carry the cookie in clear: swept too (their clients log in again).
        now = time.time()
        expired = [
            doc.key
            for doc in self.store.list(NAMESPACE)
            if doc.value.get("expires_at", 0) < now or "cookie" in doc.value
        ]
        if not expired:
            return
        with self.store.transaction() as session:
            for key in expired:
                if session.find(NAMESPACE, key) is not None:  # another process may have swept it
                    session.delete(NAMESPACE, key)

    async def check(self, cookie: str | None) -> Session:
        """The live session of ``cookie``; UCS's error 552 if there is none."""
        if not cookie:
            raise authorization_required()
        key = cookie_key(cookie)
        document = await asyncio.to_thread(self.store.find, NAMESPACE, key)
        if document is None:
            raise authorization_required()
        session = converter.structure({**document.value, "cookie": cookie}, Session)
        if session.expires_at < time.time():
            with contextlib.suppress(NotFound):
                await asyncio.to_thread(self.store.delete, NAMESPACE, key)
            raise authorization_required()
        return session

    async def refresh(self, cookie: str | None, name: str, password: str) -> Session:
        """A new cookie for a live session of ``name``; the old cookie stops working."""
        session = await self.check(cookie)
        account = self._authenticate(name, password)
        if account.name != session.user:
            raise authentication_failed()
        await self.logout(session.cookie)
        return await self.login(name, password)

    async def keep_alive(self, cookie: str | None) -> Session:
        """Extend a live session by a refresh period."""
        session = await self.check(cookie)
        session.expires_at = time.time() + self.settings.session_seconds
        await self._save(session)
        return session

    async def logout(self, cookie: str | None) -> None:
        """End the session; an unknown cookie is UCS's error 552."""
        session = await self.check(cookie)
        with contextlib.suppress(NotFound):  # a concurrent logout of the same cookie
            await asyncio.to_thread(self.store.delete, NAMESPACE, cookie_key(session.cookie))

    async def _save(self, session: Session) -> None:
        value = converter.unstructure(session)
        del value["cookie"]
        await asyncio.to_thread(self.store.put, NAMESPACE, cookie_key(session.cookie), value)
