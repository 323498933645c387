"""Fixtures of the NetBox tests: one real NetBox per test session (``tests/netbox_support.py``).

``tox -e netbox`` runs ``scripts/netbox.sh`` first, which installs NetBox and migrates the
template database. Without it these tests skip, except on CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

# netbox_support.py sits in tests/, next to this folder, for every suite that needs NetBox.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netbox_support import NetboxServer, NetboxUnavailable, running_netbox


@pytest.fixture(scope="session")
def netbox_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetboxServer]:
    """NetBox on a fresh copy of the template, shared by the session; use ``netbox``."""
    with ExitStack() as stack:
        try:
            server = stack.enter_context(running_netbox(tmp_path_factory.mktemp("netbox")))
        except NetboxUnavailable as error:
            if os.environ.get("CI"):
                pytest.fail(f"{error} (CI must set NetBox up: tox -e netbox does)", pytrace=False)
            pytest.skip(str(error))
        yield server


@pytest.fixture
def netbox(netbox_session: NetboxServer) -> Iterator[NetboxServer]:
    """The session's NetBox, running: started again if an earlier test left it stopped.

    Its output is printed at teardown, which pytest shows only when the test failed.
    """
    netbox_session.start()
    yield netbox_session
    print(f"--- NetBox at {netbox_session.url}, database {netbox_session.database} ---\n{netbox_session.output()}")
