"""JWT bearer tokens from a configured issuer, really signed (HS256, RS256, ES256, JWKS)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from dcsim.errors import ConfigError
from dcsim.web.app import create_app

ISSUER = "https://idp.example.test/realms/ops"
AUDIENCE = "dcsim"
SECRET = "a-shared-secret-of-at-least-32-bytes!"
PROBLEM = "application/problem+json"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 300, "role": "viewer"}
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def hs256(**overrides: Any) -> str:
    return jwt.encode(claims(**overrides), SECRET, algorithm="HS256")


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: Any) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def jwks(*keys: tuple[str, Any]) -> str:
    """A JWKS document of the public halves of ``(kid, private key)`` pairs."""
    entries = []
    for kid, key in keys:
        algorithm = jwt.algorithms.RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else jwt.algorithms.ECAlgorithm
        entry = json.loads(algorithm.to_jwk(key.public_key()))
        entries.append({**entry, "kid": kid, "use": "sig"})
    return json.dumps({"keys": entries})


def refused(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert words in response.json()["detail"]


@pytest.fixture
def hs_client(make_client):
    return make_client(role=None, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_secret=SECRET)


def test_a_jwt_from_the_issuer_is_accepted_with_its_role(hs_client):
    viewer = bearer(hs256(role="viewer"))
    assert hs_client.get("/plugins", headers=viewer).status_code == 200
    forbidden = hs_client.get("/tokens", headers=viewer)
    refused(forbidden, 403, "needs the admin role")
    assert forbidden.json()["token_role"] == "viewer"
    assert hs_client.get("/tokens", headers=bearer(hs256(role="admin", sub="root"))).status_code == 200


def test_dcsim_tokens_keep_working_beside_jwts(hs_client):
    assert hs_client.get("/tokens", headers=hs_client.auth_headers("admin")).status_code == 200
    refused(hs_client.get("/plugins", headers=bearer("dcsim_not-a-token")), 401, "unknown or revoked")


def test_an_expired_jwt_is_refused(hs_client):
    past = int(time.time()) - 3600
    refused(hs_client.get("/plugins", headers=bearer(hs256(iat=past, exp=past + 60))), 401, "expired")


def test_a_jwt_signed_with_another_key_is_refused(hs_client):
    forged = jwt.encode(claims(role="admin"), "another-secret-of-at-least-32-bytes!!", algorithm="HS256")
    refused(hs_client.get("/tokens", headers=bearer(forged)), 401, "signature")


def test_a_jwt_with_alg_none_is_refused(hs_client):
    unsigned = jwt.encode(claims(role="admin"), None, algorithm="none")
    refused(hs_client.get("/tokens", headers=bearer(unsigned)), 401, "algorithm is not allowed")


def test_a_jwt_from_another_issuer_or_for_another_audience_is_refused(hs_client):
    refused(hs_client.get("/plugins", headers=bearer(hs256(iss="https://evil.test"))), 401, "issuer")
    refused(hs_client.get("/plugins", headers=bearer(hs256(aud="another-app"))), 401, "audience")
    refused(hs_client.get("/plugins", headers=bearer(hs256(sub=None))), 401, "no sub claim")
    refused(hs_client.get("/plugins", headers=bearer(hs256(exp=None))), 401, "no exp claim")


def test_a_jwt_without_a_dcsim_role_is_refused(hs_client):
    refused(hs_client.get("/plugins", headers=bearer(hs256(role=None))), 403, "no dc-sim role")
    refused(hs_client.get("/plugins", headers=bearer(hs256(role="superuser"))), 403, "no dc-sim role")


def test_the_role_claim_and_its_values_are_configurable(make_client):
    client = make_client(
        role=None,
        jwt_issuer=ISSUER,
        jwt_secret=SECRET,
        jwt_role_claim="realm_access.roles",
        jwt_roles=("dc-admins=admin", "dc-ops=operator"),
    )

    def token(roles: Any) -> dict[str, str]:
        return bearer(hs256(role=None, realm_access={"roles": roles}))

    # The highest mapped role wins; the unmapped values and the bare role names count for nothing.
    operator = client.post("/tokens", json={"role": "viewer", "name": "x"}, headers=token(["offline", "dc-ops"]))
    refused(operator, 403, "needs the admin role")
    assert operator.json()["token_role"] == "operator"
    assert client.get("/tokens", headers=token(["dc-ops", "dc-admins"])).status_code == 200
    refused(client.get("/plugins", headers=token(["admin"])), 403, "no dc-sim role")
    refused(client.get("/plugins", headers=bearer(hs256(role="admin"))), 403, "no dc-sim role")


def test_rs256_with_a_public_key_file(make_client, tmp_path, rsa_key):
    key_file = tmp_path / "idp.pem"
    key_file.write_bytes(public_pem(rsa_key))
    client = make_client(role=None, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_public_key_file=str(key_file))
    token = jwt.encode(claims(role="admin"), rsa_key, algorithm="RS256")
    assert client.get("/tokens", headers=bearer(token)).status_code == 200

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused(client.get("/plugins", headers=bearer(jwt.encode(claims(), other, algorithm="RS256"))), 401, "signature")
    # The public key used as an HMAC secret (algorithm confusion) is refused.
    confused = jwt.api_jws.PyJWS()
    confused._algorithms["HS256"] = jwt.algorithms.HMACAlgorithm(jwt.algorithms.HMACAlgorithm.SHA256)
    confused._algorithms["HS256"].prepare_key = lambda key: key  # type: ignore[method-assign]
    forged = confused.encode(json.dumps(claims(role="admin")).encode(), public_pem(rsa_key), algorithm="HS256")
    refused(client.get("/tokens", headers=bearer(forged)), 401, "algorithm is not allowed")
    # A token whose header names an algorithm of another key type is refused, not a server error.
    ec_signed = jwt.encode(claims(), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    refused(client.get("/plugins", headers=bearer(ec_signed)), 401, "")


def test_a_jwks_file_picks_the_key_by_kid_and_follows_rotation(make_client, tmp_path, rsa_key):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(jwks(("rsa-1", rsa_key), ("ec-1", ec_key)))
    client = make_client(role=None, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_jwks_file=str(jwks_file))

    by_rsa = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "rsa-1"})
    by_ec = jwt.encode(claims(role="admin"), ec_key, algorithm="ES256", headers={"kid": "ec-1"})
    assert client.get("/plugins", headers=bearer(by_rsa)).status_code == 200
    assert client.get("/tokens", headers=bearer(by_ec)).status_code == 200
    wrong_kid = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "ec-1"})
    refused(client.get("/plugins", headers=bearer(wrong_kid)), 401, "does not fit the configured key")
    unknown_kid = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "gone"})
    refused(client.get("/plugins", headers=bearer(unknown_kid)), 401, "kid")

    # The identity provider rotates its keys: the new one is used without a restart, the old one no more.
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks_file.write_text(jwks(("rsa-2", new_key)))
    stat = jwks_file.stat()
    os.utime(jwks_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    by_new = jwt.encode(claims(), new_key, algorithm="RS256", headers={"kid": "rsa-2"})
    assert client.get("/plugins", headers=bearer(by_new)).status_code == 200
    refused(client.get("/plugins", headers=bearer(by_rsa)), 401, "kid")


def test_jwts_of_one_subject_share_a_rate_limit(make_client):
    client = make_client(role=None, jwt_issuer=ISSUER, jwt_secret=SECRET, rate_limit="2/minute")
    assert client.get("/plugins", headers=bearer(hs256(sub="bob", iat=1))).status_code == 200
    assert client.get("/plugins", headers=bearer(hs256(sub="bob", iat=2))).status_code == 200
    assert client.get("/plugins", headers=bearer(hs256(sub="bob", iat=3))).status_code == 429
    assert client.get("/plugins", headers=bearer(hs256(sub="carol"))).status_code == 200


def test_the_secret_is_masked_by_dcsim_config(make_dcsim):
    settings = make_dcsim(jwt_issuer=ISSUER, jwt_secret=SECRET).settings
    masked = settings.masked()
    assert masked["jwt_secret"] == "***" and masked["jwt_issuer"] == ISSUER
    assert SECRET not in json.dumps(masked)


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"jwt_issuer": ISSUER}, "exactly one of"),
        ({"jwt_issuer": ISSUER, "jwt_secret": SECRET, "jwt_jwks_file": "/x.json"}, "exactly one of"),
        ({"jwt_issuer": ISSUER, "jwt_secret": "short"}, "at least 32 bytes"),
        ({"jwt_issuer": ISSUER, "jwt_secret": SECRET, "jwt_algorithms": ("RS256",)}, "RS256 cannot be used"),
        ({"jwt_issuer": ISSUER, "jwt_public_key_file": "/nonexistent.pem"}, "cannot use it"),
        ({"jwt_issuer": ISSUER, "jwt_roles": ("dc-ops=root",), "jwt_secret": SECRET}, "jwt_roles"),
        ({"jwt_secret": SECRET}, "jwt_issuer is not"),
    ],
)
def test_wrong_jwt_settings_stop_the_app(make_dcsim, settings, words):
    with pytest.raises(ConfigError, match=words):
        create_app(make_dcsim(**settings))


def test_a_public_key_file_that_is_not_a_key_stops_the_app(make_dcsim, tmp_path: Path):
    key_file = tmp_path / "garbage.pem"
    key_file.write_text("not a key")
    with pytest.raises(ConfigError, match="jwt_public_key_file"):
        create_app(make_dcsim(jwt_issuer=ISSUER, jwt_public_key_file=str(key_file)))
