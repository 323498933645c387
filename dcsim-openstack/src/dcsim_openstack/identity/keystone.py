"""The Keystone service: who may authenticate, with what, and which tokens are live.

Registered as a dc-sim service (``dcsim.services.get(Keystone)``). Users, roles and role
assignments are world objects (:mod:`dcsim_openstack.identity.model`); their secrets live
in the store, hashed: passwords in ``openstack.passwords`` (by user id), application
credentials in ``openstack.application_credentials`` (by id, the secret's hash with them).
At start-up the accounts of ``[plugins.openstack]`` are made sure of: the roles admin,
member and reader, each account's user with its role on the seed project ``demo`` (or the
first project) and its password.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING, Any

from dcsim.convert import converter
from dcsim.sim.model import Project
from dcsim.sim.world import World
from dcsim_openstack.auth import Credentials, unauthorized
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.identity.model import DOMAIN_ID, DOMAIN_NAME, ApplicationCredential, Role, RoleAssignment, User
from dcsim_openstack.identity.passwords import DUMMY_HASH, hash_secret, verify_secret
from dcsim_openstack.identity.tokens import TokenRecord, Tokens
from dcsim_openstack.settings import ROLES, OpenStackSettings

if TYPE_CHECKING:
    from dcsim.app import DcSim

PASSWORDS = "openstack.passwords"
APPLICATION_CREDENTIALS = "openstack.application_credentials"
SEED_PROJECT = "demo"
_IDS = uuid.UUID("6c1f1f8e-55a0-4a43-9d43-1f4c2b9a5e21")


def stable_id(kind: str, name: str) -> str:
    """Keystone's 32-hex id for a seed ``kind`` object called ``name``, the same in every process."""
    return uuid.uuid5(_IDS, f"{kind}/{name}").hex


def new_id() -> str:
    """A fresh Keystone id (32 hex digits)."""
    return uuid.uuid4().hex


def check_domain(domain: Any) -> None:
    """Refuse a domain reference that is not Default (the one domain there is)."""
    if domain is None:
        return
    if not isinstance(domain, dict) or (
        domain.get("id", DOMAIN_ID) != DOMAIN_ID or domain.get("name", DOMAIN_NAME) != DOMAIN_NAME
    ):
        raise unauthorized("The request you have made requires authentication: unknown domain.")


class Keystone:
    """Authentication, tokens and the secrets of users and application credentials."""

    def __init__(self, settings: OpenStackSettings) -> None:
        self.settings = settings
        self._dcsim: DcSim | None = None
        self._tokens: Tokens | None = None

    async def start(self, dcsim: DcSim) -> None:
        """Attach to the started instance and make sure of the seed accounts."""
        self._dcsim = dcsim
        self._tokens = Tokens(dcsim.store, self.settings.token_seconds)
        await self.ensure_accounts()

    @property
    def dcsim(self) -> DcSim:
        """The instance this service belongs to."""
        if self._dcsim is None:
            raise RuntimeError("the Keystone service is not started")
        return self._dcsim

    @property
    def tokens(self) -> Tokens:
        """The token store."""
        if self._tokens is None:
            raise RuntimeError("the Keystone service is not started")
        return self._tokens

    @property
    def world(self) -> World:
        """The simulated world (users, roles, projects)."""
        return self.dcsim.sim.world

    # Seed accounts ---------------------------------------------------------------------

    def seed_project(self) -> Project | None:
        """The project seed accounts get their roles on."""
        return self.world.find(Project, SEED_PROJECT) or next(iter(self.world.all(Project)), None)

    async def ensure_accounts(self) -> None:
        """Create what is missing of the roles and the configured accounts, and store the
        configured passwords that are not stored yet (or changed)."""
        world, project = self.world, self.seed_project()
        async with self.dcsim.sim.transaction() as change:
            roles: dict[str, Role] = {}
            for name in ROLES:
                found = world.find(Role, name)
                if found is None:
                    found = Role(id=stable_id("role", name), name=name)
                    world.add(found)
                    change.save(found)
                roles[name] = found
            for account in self.settings.accounts:
                user = world.find(User, account.name)
                if user is None:
                    user = User(id=stable_id("user", account.name), name=account.name,
                                default_project_id=project.id if project else None)  # fmt: skip
                    world.add(user)
                    change.save(user)
                if project is not None:
                    role = roles[account.role]
                    name = f"{user.id}/{project.id}/{role.id}"
                    if world.find(RoleAssignment, name) is None:
                        assignment = RoleAssignment(id=stable_id("role_assignment", name), name=name,
                                                    user_id=user.id, project_id=project.id, role_id=role.id)  # fmt: skip
                        world.add(assignment)
                        change.save(assignment)
        for account in self.settings.accounts:
            user = world.get(User, account.name)
            stored = await asyncio.to_thread(self.dcsim.store.find, PASSWORDS, user.id)
            if stored is None or not verify_secret(account.password, stored.value["hash"]):
                await self.set_password(user.id, account.password)

    # Secrets ---------------------------------------------------------------------------

    async def set_password(self, user_id: str, password: str) -> None:
        """Store ``password`` of the user, hashed."""
        hashed = await asyncio.to_thread(hash_secret, password)
        await asyncio.to_thread(self.dcsim.store.put, PASSWORDS, user_id, {"hash": hashed})

    async def forget_secrets(self, user_id: str) -> None:
        """Drop a deleted user's password, application credentials and tokens."""
        store = self.dcsim.store

        def drop() -> None:
            with store.transaction() as session:
                if session.find(PASSWORDS, user_id) is not None:
                    session.delete(PASSWORDS, user_id)
                for doc in session.list(APPLICATION_CREDENTIALS):
                    if doc.value.get("user_id") == user_id:
                        session.delete(APPLICATION_CREDENTIALS, doc.key)

        await asyncio.to_thread(drop)
        await self.tokens.revoke_where(user_id=user_id)

    async def _password_matches(self, user: User | None, password: str) -> bool:
        stored = await asyncio.to_thread(self.dcsim.store.find, PASSWORDS, user.id) if user else None
        # Hash anyway when the user is unknown, so timing does not tell which part was wrong.
        hashed = stored.value["hash"] if stored else DUMMY_HASH
        matches = await asyncio.to_thread(verify_secret, password, hashed)
        return matches and stored is not None

    # Roles -----------------------------------------------------------------------------

    def role_ids(self, user_id: str, project_id: str) -> list[str]:
        """The ids of the roles ``user_id`` holds on ``project_id``."""
        return sorted(
            a.role_id for a in self.world.all(RoleAssignment) if a.user_id == user_id and a.project_id == project_id
        )

    def role_names(self, role_ids: list[str]) -> frozenset[str]:
        """The names of the roles that still exist among ``role_ids``."""
        return frozenset(r.name for r in (self.world.find(Role, i) for i in role_ids) if r is not None)

    # Authentication ----------------------------------------------------------------------

    def _find_user(self, spec: Any) -> User | None:
        if not isinstance(spec, dict):
            raise OpenStackError(400, "Invalid input for field 'identity': user must be an object.")
        if "id" in spec:
            user = self.world.find(User, str(spec["id"]))
            return user if user is not None and user.id == spec["id"] else None
        if "name" not in spec:
            raise OpenStackError(400, "Invalid input for field 'identity': user needs an id or a name.")
        check_domain(spec.get("domain"))
        return self.world.find(User, str(spec["name"]))

    def _project(self, spec: Any) -> Project:
        if not isinstance(spec, dict) or not ("id" in spec or "name" in spec):
            raise OpenStackError(400, "Invalid input for field 'scope': project needs an id or a name.")
        project = self.world.find(Project, str(spec.get("id") or spec.get("name")))
        if "name" in spec:
            check_domain(spec.get("domain"))
        if project is None or ("id" in spec and project.id != spec["id"]):
            raise unauthorized(f"Could not find project: {spec.get('id') or spec.get('name')}.")
        return project

    async def authenticate(self, auth: Any) -> tuple[str, TokenRecord]:
        """``POST /v3/auth/tokens``: a new token for the ``auth`` object, or a 401."""
        if not isinstance(auth, dict) or not isinstance(auth.get("identity"), dict):
            raise OpenStackError(400, "Expecting to find identity in auth.")
        identity = auth["identity"]
        methods = identity.get("methods")
        if not isinstance(methods, list) or not methods or not all(isinstance(m, str) for m in methods):
            raise OpenStackError(400, "Expecting to find methods in identity.")
        expires_at: float | None = None
        credential: ApplicationCredential | None = None
        if methods == ["password"]:
            spec = identity.get("password", {}).get("user") if isinstance(identity.get("password"), dict) else None
            user = self._find_user(spec)
            password = spec.get("password") if isinstance(spec, dict) else None
            if not isinstance(password, str) or not await self._password_matches(user, password):
                raise unauthorized("The request you have made requires authentication.")
        elif methods == ["token"]:
            token = identity.get("token", {}).get("id") if isinstance(identity.get("token"), dict) else None
            record = await self.tokens.find(token) if isinstance(token, str) else None
            if record is None:
                raise unauthorized("The token is unknown, expired or revoked.")
            user, expires_at = self.world.find(User, record.user_id), record.expires_at
        elif methods == ["application_credential"]:
            credential, user = await self._application_credential(identity.get("application_credential"))
        else:
            raise unauthorized(f"Unsupported authentication methods: {', '.join(methods)}.")
        if user is None or not user.enabled:
            raise unauthorized("The request you have made requires authentication.")
        return await self._issue(user, auth.get("scope"), methods, expires_at, credential)

    async def _application_credential(self, spec: Any) -> tuple[ApplicationCredential, User | None]:
        if not isinstance(spec, dict) or not isinstance(spec.get("secret"), str):
            raise OpenStackError(400, "Expecting to find secret in application_credential.")
        credential = None
        if "id" in spec:
            credential = await self.application_credential(str(spec["id"]))
        elif "name" in spec:
            owner = self._find_user(spec.get("user"))
            credential = next((c for c in await self.application_credentials(owner.id) if c.name == spec["name"]),
                              None) if owner else None  # fmt: skip
        stored = (
            await asyncio.to_thread(self.dcsim.store.find, APPLICATION_CREDENTIALS, credential.id)
            if credential
            else None
        )
        hashed = stored.value["hash"] if stored else DUMMY_HASH
        if not await asyncio.to_thread(verify_secret, spec["secret"], hashed) or credential is None:
            raise unauthorized("Invalid application credential.")
        if credential.expires_at and _timestamp(credential.expires_at) <= time.time():
            raise unauthorized("The application credential has expired.")
        return credential, self.world.find(User, credential.user_id)

    async def _issue(
        self, user: User, scope: Any, methods: list[str], expires_at: float | None,
        credential: ApplicationCredential | None,
    ) -> tuple[str, TokenRecord]:  # fmt: skip
        project: Project | None = None
        if credential is not None:
            project = self.world.find(Project, credential.project_id)
        elif isinstance(scope, dict) and "project" in scope:
            project = self._project(scope["project"])
        elif scope not in (None, "unscoped") and scope != {}:
            raise unauthorized("Only project-scoped and unscoped tokens are supported.")
        elif scope is None and user.default_project_id:
            project = self.world.find(Project, user.default_project_id)
        roles: list[str] = []
        if project is not None:
            roles = self.role_ids(user.id, project.id)
            if credential is not None:
                roles = [r for r in roles if r in credential.role_ids]
            if not roles:
                raise unauthorized(f"User {user.id} has no access to project {project.id}.")
        return await self.tokens.issue(
            user_id=user.id, project_id=project.id if project else None, roles=roles, methods=methods,
            expires_at=expires_at, application_credential_id=credential.id if credential else None,
        )  # fmt: skip

    async def record(self, token: str) -> TokenRecord | None:
        """The live record of ``token`` whose user still exists and is enabled."""
        record = await self.tokens.find(token)
        if record is None:
            return None
        user = self.world.find(User, record.user_id)
        return record if user is not None and user.enabled else None

    async def credentials(self, token: str) -> Credentials:
        """Who ``token`` speaks for; a 401 when it is not live."""
        record = await self.record(token)
        if record is None:
            raise unauthorized("The token is unknown, expired or revoked.")
        return self.credentials_of(record)

    def credentials_of(self, record: TokenRecord) -> Credentials:
        """The credentials of a live token's record."""
        user = self.world.get(User, record.user_id)
        project = self.world.find(Project, record.project_id) if record.project_id else None
        return Credentials(
            user_id=user.id, user_name=user.name, domain_id=DOMAIN_ID, domain_name=DOMAIN_NAME,
            project_id=project.id if project else None, project_name=project.name if project else None,
            roles=self.role_names(record.roles), token_id=record.audit_id, expires_at=record.expires_at,
        )  # fmt: skip

    # Application credentials -------------------------------------------------------------

    async def application_credential(self, credential_id: str) -> ApplicationCredential | None:
        """The application credential ``credential_id``, None if there is none."""
        doc = await asyncio.to_thread(self.dcsim.store.find, APPLICATION_CREDENTIALS, credential_id)
        if doc is None:
            return None
        return converter.structure({k: v for k, v in doc.value.items() if k != "hash"}, ApplicationCredential)

    async def application_credentials(self, user_id: str) -> list[ApplicationCredential]:
        """The application credentials of ``user_id``."""
        docs = await asyncio.to_thread(self.dcsim.store.list, APPLICATION_CREDENTIALS)
        return [
            converter.structure({k: v for k, v in doc.value.items() if k != "hash"}, ApplicationCredential)
            for doc in docs
            if doc.value.get("user_id") == user_id
        ]

    async def save_application_credential(self, credential: ApplicationCredential, secret: str) -> None:
        """Store ``credential`` with its secret's hash."""
        hashed = await asyncio.to_thread(hash_secret, secret)
        value = converter.unstructure(credential) | {"hash": hashed}
        await asyncio.to_thread(self.dcsim.store.put, APPLICATION_CREDENTIALS, credential.id, value)

    async def delete_application_credential(self, credential_id: str) -> None:
        """Delete an application credential and end the tokens made with it."""
        await asyncio.to_thread(self.dcsim.store.delete, APPLICATION_CREDENTIALS, credential_id)

        def sweep() -> None:
            from dcsim_openstack.identity.tokens import NAMESPACE

            with self.dcsim.store.transaction() as session:
                for doc in session.list(NAMESPACE):
                    if doc.value.get("application_credential_id") == credential_id:
                        session.delete(NAMESPACE, doc.key)

        await asyncio.to_thread(sweep)


def _timestamp(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


__all__ = ["APPLICATION_CREDENTIALS", "PASSWORDS", "Keystone", "check_domain", "new_id", "stable_id"]
