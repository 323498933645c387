"""JWT bearer tokens from a configured identity provider, accepted beside dc-sim's own tokens.

On when ``jwt_issuer`` is set. The key is exactly one of ``jwt_secret`` (HMAC: HS256,
HS384, HS512), ``jwt_public_key_file`` (a PEM public key: RSA, EC or Ed25519) or
``jwt_jwks_file`` (a JWKS document whose keys the token's ``kid`` picks from). Key files
are read again when they change, so an identity provider's keys can be rotated without
a restart. ``jwt_algorithms`` narrows the algorithms; an HMAC algorithm is never
allowed with a public key, nor the other way round.

A token is accepted when its signature verifies, ``iss`` is the issuer, ``aud`` holds
the audience (when ``jwt_audience`` is set), ``exp`` has not passed (give or take
``jwt_leeway_seconds``) and it names its subject (``sub``). Its role comes from the
``jwt_role_claim`` claim (a dotted path into nested objects, e.g.
``realm_access.roles``; text or a list of text), through ``jwt_roles``
(``"<claim value>=<role>"`` entries; without any, the values are the role names
themselves): the highest role found wins, and a token with none is refused (403).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import jwt
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from dcsim.errors import ConfigError, Forbidden, Unauthorized
from dcsim.model import Role, Token
from dcsim.settings import Settings

log = structlog.get_logger(__name__)

HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
PUBLIC_KEY_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
#: The shortest HMAC secret accepted (RFC 7518 3.2: at least the hash's size).
MIN_SECRET_BYTES = 32
#: Every claim an accepted token must carry.
REQUIRED_CLAIMS = ["exp", "iss", "sub"]

T = TypeVar("T")


def looks_like_jwt(secret: str) -> bool:
    """True when ``secret`` has a JWT's shape (dc-sim's own tokens never do)."""
    return secret.startswith("eyJ") and secret.count(".") == 2


class _WatchedFile(Generic[T]):
    """A key file, parsed once and again whenever it changes on disk."""

    def __init__(self, path: str, setting: str, parse: Callable[[bytes], T]) -> None:
        self.path = Path(path).expanduser()
        self.setting = setting
        self.parse = parse
        self._stamp: tuple[int, int] | None = None
        self._value = self._load()

    def _read_stamp(self) -> tuple[int, int]:
        stat = os.stat(self.path)
        return stat.st_mtime_ns, stat.st_size

    def _load(self) -> T:
        try:
            stamp = self._read_stamp()
            value = self.parse(self.path.read_bytes())
        except (OSError, ValueError, jwt.PyJWTError) as exc:
            raise ConfigError(f"{self.setting}={str(self.path)!r}: cannot use it: {exc}", setting=self.setting) from exc
        self._stamp = stamp
        return value

    def current(self) -> T:
        """The parsed file; a changed file that no longer parses keeps the last good keys."""
        try:
            changed = self._read_stamp() != self._stamp
        except OSError:
            changed = False
        if changed:
            try:
                self._value = self._load()
            except ConfigError as exc:
                log.warning("jwt.key_file_unusable", setting=self.setting, error=exc.detail[:300])
        return self._value


def _public_key(data: bytes) -> Any:
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise ValueError("not an RSA, EC or Ed25519 public key")
    return key


def _role_map(entries: tuple[str, ...]) -> dict[str, Role]:
    if not entries:
        return {role.value: role for role in Role}
    mapping: dict[str, Role] = {}
    for entry in entries:
        value, sep, role = entry.rpartition("=")
        if not sep or not value or role not in {r.value for r in Role}:
            raise ConfigError(
                f"jwt_roles={entry!r}: expected <claim value>=<role> with a role of {', '.join(r.value for r in Role)}",
                setting="jwt_roles",
            )
        mapping[value] = Role(role)
    return mapping


class JwtVerifier:
    """Checks JWTs against one issuer's key and maps them to a role."""

    def __init__(self, settings: Settings) -> None:
        """Raise :class:`ConfigError` when the JWT settings do not describe one usable key."""
        if not settings.jwt_issuer:
            raise ConfigError("jwt_issuer is not set", setting="jwt_issuer")
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.leeway = settings.jwt_leeway_seconds
        self.role_claim = settings.jwt_role_claim
        self.roles = _role_map(settings.jwt_roles)
        given = [
            name
            for name in ("jwt_secret", "jwt_public_key_file", "jwt_jwks_file")
            if getattr(settings, name) not in (None, "")
        ]
        if len(given) != 1:
            raise ConfigError(
                f"jwt_issuer is set: give exactly one of jwt_secret, jwt_public_key_file, jwt_jwks_file"
                f" (given: {', '.join(given) or 'none'})",
                setting="jwt_issuer",
            )
        self._secret: bytes | None = None
        self._public_key: _WatchedFile[Any] | None = None
        self._jwks: _WatchedFile[jwt.PyJWKSet] | None = None
        allowed: tuple[str, ...]
        if settings.jwt_secret:
            self._secret = settings.jwt_secret.encode()
            if len(self._secret) < MIN_SECRET_BYTES:
                raise ConfigError(f"jwt_secret: must be at least {MIN_SECRET_BYTES} bytes", setting="jwt_secret")
            allowed = HMAC_ALGORITHMS
        elif settings.jwt_public_key_file:
            self._public_key = _WatchedFile(settings.jwt_public_key_file, "jwt_public_key_file", _public_key)
            allowed = PUBLIC_KEY_ALGORITHMS
        else:
            assert settings.jwt_jwks_file is not None
            self._jwks = _WatchedFile(
                settings.jwt_jwks_file, "jwt_jwks_file", lambda data: jwt.PyJWKSet.from_json(data.decode())
            )
            allowed = PUBLIC_KEY_ALGORITHMS
        wrong = [name for name in settings.jwt_algorithms if name not in allowed]
        if wrong:
            raise ConfigError(
                f"jwt_algorithms={','.join(settings.jwt_algorithms)!r}: {', '.join(wrong)} cannot be used with"
                f" {given[0]}; allowed: {', '.join(allowed)}",
                setting="jwt_algorithms",
            )
        self.algorithms = list(settings.jwt_algorithms or allowed)

    @classmethod
    def from_settings(cls, settings: Settings) -> JwtVerifier | None:
        """The verifier ``settings`` configure, or None when JWTs are off (no ``jwt_issuer``)."""
        if settings.jwt_issuer:
            return cls(settings)
        stray = [n for n in ("jwt_secret", "jwt_public_key_file", "jwt_jwks_file") if getattr(settings, n)]
        if stray:
            raise ConfigError(f"{stray[0]} is set but jwt_issuer is not: set both", setting="jwt_issuer")
        return None

    def _key(self, token: str) -> Any:
        if self._secret is not None:
            return self._secret
        if self._public_key is not None:
            return self._public_key.current()
        assert self._jwks is not None
        keys = self._jwks.current().keys
        kid = jwt.get_unverified_header(token).get("kid")
        if kid is None and len(keys) == 1:
            return keys[0].key
        for jwk in keys:
            if jwk.key_id == kid:
                return jwk.key
        raise Unauthorized("the JWT's key id (kid) is not in the configured JWKS")

    def verify(self, token: str) -> Token:
        """The dc-sim token ``token`` stands for; 401 when it is not valid, 403 when it has no role."""
        try:
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=self.algorithms,
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={"require": REQUIRED_CLAIMS, "verify_aud": self.audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the JWT has expired") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized("the JWT's signature does not verify with the configured key") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("the JWT is not from the configured issuer") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("the JWT is not for the configured audience") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(f"the JWT has no {exc.claim} claim") from None
        except jwt.InvalidAlgorithmError:
            raise Unauthorized(f"the JWT's algorithm is not allowed; allowed: {', '.join(self.algorithms)}") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"the JWT is not valid: {exc}") from None
        except (TypeError, ValueError):
            # PyJWT's way of saying the header's algorithm does not fit the key's type.
            raise Unauthorized("the JWT's algorithm does not fit the configured key") from None
        role = self._role(claims)
        if role is None:
            raise Forbidden(f"the JWT grants no dc-sim role in its {self.role_claim} claim", token_role=None)
        issued = claims.get("iat")
        created = datetime.fromtimestamp(issued, UTC) if isinstance(issued, int | float) else datetime.now(UTC)
        subject = str(claims["sub"])
        return Token(id=f"jwt:{subject}", name=subject, role=role, created_at=created)

    def _role(self, claims: dict[str, Any]) -> Role | None:
        value: Any = claims
        for part in self.role_claim.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        roles = [self.roles[v] for v in values if isinstance(v, str) and v in self.roles]
        return max(roles, key=lambda role: role.rank, default=None)


__all__ = ["HMAC_ALGORITHMS", "PUBLIC_KEY_ALGORITHMS", "JwtVerifier", "looks_like_jwt"]
