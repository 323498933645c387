"""Acceptance 1: aaaLogin, aaaRefresh, aaaKeepAlive, aaaLogout; cookies and accounts."""

from __future__ import annotations

import hashlib
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import READ_ONLY, handle, post_xml
from ucsmsdk.ucsexception import UcsException
from ucsmsdk.ucshandle import UcsHandle
from ucsmsdk.ucsmethodfactory import aaa_keep_alive, config_resolve_dn

from dcsim.testing import ServerProcess, run_server
from dcsim_ucs.sessions import cookie_key


def test_login_reports_the_session_and_ucs_identity(ucs_server):
    ucs = handle(ucs_server)
    try:
        assert ucs.cookie and ucs.cookie.count("/") == 1
        assert ucs.name == "admin"
        assert ucs.priv == "admin"
        assert ucs.refresh_period == 600
        assert ucs.version.version == "4.2(3d)"  # the seed's domain firmware
        assert ucs.ucs == "ucs-domain-01"  # topSystem's name, read by login
    finally:
        ucs.logout()


def test_wrong_password_is_ucs_authentication_error(ucs_server):
    ucs = UcsHandle("127.0.0.1", "admin", "wrong", port=ucs_server.port, secure=False)
    with pytest.raises(UcsException) as failure:
        ucs.login()
    assert (failure.value.error_code, failure.value.error_descr) == ("551", "Authentication failed")
    unknown = UcsHandle("127.0.0.1", "nobody", "password", port=ucs_server.port, secure=False)
    with pytest.raises(UcsException, match="Authentication failed"):
        unknown.login()


def test_logout_ends_the_session_and_the_cookie_is_refused(ucs_server):
    ucs = handle(ucs_server)
    cookie = ucs.cookie
    assert ucs.query_dn("sys") is not None
    assert ucs.logout() is True
    answer = ET.fromstring(post_xml(ucs_server, f'<configResolveDn cookie="{cookie}" dn="sys" />'))
    assert answer.get("errorCode") == "552"
    assert answer.get("errorDescr") == "Authorization required"
    assert answer.find("outConfig") is None


def test_refresh_swaps_the_cookie(ucs_server):
    ucs = handle(ucs_server)
    old = ucs.cookie
    assert ucs._refresh() is True  # what ucsmsdk's auto-refresh timer calls
    assert ucs.cookie != old
    assert ucs.query_dn("sys").name == "ucs-domain-01"
    refused = ET.fromstring(post_xml(ucs_server, f'<configResolveDn cookie="{old}" dn="sys" />'))
    assert refused.get("errorCode") == "552"
    ucs.logout()


def test_keep_alive_answers_without_error(ucs_server):
    ucs = handle(ucs_server)
    response = ucs.process_xml_elem(aaa_keep_alive(ucs.cookie))
    assert response.error_code == 0
    ucs.logout()


def test_requests_without_a_cookie_need_authorization(ucs_server):
    answer = ET.fromstring(post_xml(ucs_server, '<configResolveClass classId="computeBlade" />'))
    assert (answer.tag, answer.get("errorCode")) == ("configResolveClass", "552")


def test_read_only_account_reads_but_cannot_change(ucs_server):
    from ucsmsdk.mometa.org.OrgOrg import OrgOrg

    ucs = handle(ucs_server, READ_ONLY)
    try:
        assert ucs.priv == "read-only"
        assert len(ucs.query_classid("computeBlade")) == 3
        ucs.add_mo(OrgOrg(parent_mo_or_dn="org-root", name="not-allowed"))
        with pytest.raises(UcsException) as failure:
            ucs.commit()
        assert "read-only" in failure.value.error_descr
        assert ucs.query_dn("org-root/org-not-allowed") is None
    finally:
        ucs.logout()


@pytest.fixture(scope="module")
def short_sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose sessions live 2 s, and with its own accounts."""
    env = {"DCSIM_PLUGINS__UCS__SESSION_SECONDS": "2", "DCSIM_PLUGINS__UCS__USERS": "ops:s3cret:admin"}
    data_dir: Path = tmp_path_factory.mktemp("short") / "server"
    with run_server(data_dir, env=env) as server:
        yield server


def test_sessions_expire_after_the_refresh_period_unless_kept_alive(short_sessions):
    ucs = handle(short_sessions, ("ops", "s3cret"))
    assert ucs.refresh_period == 2
    kept = handle(short_sessions, ("ops", "s3cret"))
    for _ in range(3):
        time.sleep(1)
        assert kept.process_xml_elem(aaa_keep_alive(kept.cookie)).error_code == 0
    with pytest.raises(UcsException) as expired:  # 3 s without a refresh
        ucs.process_xml_elem(config_resolve_dn(ucs.cookie, "sys"))
    assert expired.value.error_code == "552"
    assert kept.query_dn("sys") is not None
    kept.logout()


def test_configured_accounts_replace_the_defaults(short_sessions):
    with pytest.raises(UcsException, match="Authentication failed"):
        UcsHandle("127.0.0.1", "admin", "password", port=short_sessions.port, secure=False).login()


def test_https_when_dc_sim_is_served_with_tls(tmp_path: Path):
    import trustme

    certificate = trustme.CA().issue_cert("127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate.cert_chain_pems[0].write_to_path(str(cert_file))
    certificate.private_key_pem.write_to_path(str(key_file))
    env = {"DCSIM_TLS_CERTFILE": str(cert_file), "DCSIM_TLS_KEYFILE": str(key_file)}
    with run_server(tmp_path / "server", env=env) as server:
        assert server.url.startswith("https://")
        # secure=True is ucsmsdk's HTTPS (its own default when only a port is given).
        ucs = UcsHandle("127.0.0.1", "admin", "password", port=server.port, secure=True)
        assert ucs.login() is True
        assert len(ucs.query_classid("computeBlade")) == 3
        assert ucs.logout() is True


def test_expired_sessions_are_swept_on_login(short_sessions):
    import json
    import sqlite3

    stale = handle(short_sessions, ("ops", "s3cret"))
    time.sleep(2.5)
    fresh = handle(short_sessions, ("ops", "s3cret"))
    database = sqlite3.connect(short_sessions.data_dir / "dcsim.sqlite3")
    try:
        rows = database.execute("SELECT key, value FROM documents WHERE namespace = 'ucs.sessions'").fetchall()
    finally:
        database.close()
    keys = {key for key, _ in rows}
    assert cookie_key(fresh.cookie) in keys and cookie_key(stale.cookie) not in keys
    assert all(json.loads(value)["expires_at"] > time.time() - 1 for _, value in rows)
    fresh.logout()


def test_the_store_keeps_only_hashes_of_cookies(short_sessions):
    import sqlite3

    ucs = handle(short_sessions, ("ops", "s3cret"))
    database = sqlite3.connect(short_sessions.data_dir / "dcsim.sqlite3")
    try:
        rows = database.execute("SELECT namespace, key, value FROM documents").fetchall()
    finally:
        database.close()
    # Nowhere in the store: neither the cookie nor its random part.
    assert not [row for row in rows if any(ucs.cookie.split("/")[1] in str(column) for column in row)]
    assert ("ucs.sessions", hashlib.sha256(ucs.cookie.encode()).hexdigest()) in {(ns, key) for ns, key, _ in rows}
    # The client's cookie still works: lookups, keep-alive and logout go by its hash.
    assert ucs.process_xml_elem(aaa_keep_alive(ucs.cookie)).error_code == 0
    assert ucs.query_dn("sys") is not None
    cookie = ucs.cookie
    assert ucs.logout() is True
    refused = ET.fromstring(post_xml(short_sessions, f'<configResolveDn cookie="{cookie}" dn="sys"/>'))
    assert refused.get("errorCode") == "552"
