"""The data directory is 0700 and every file dc-sim creates in it 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import dcsim
from dcsim.files import private_file, write_private


@pytest.fixture(params=[0o022, 0o000], ids=["umask-0022", "umask-0000"])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_data_dir_store_and_admin_token_are_private(tmp_path, umask):
    data_dir = tmp_path / "new" / "dcsim"
    async with dcsim.open(data_dir=data_dir, create_admin_token=True):
        names = {path.name for path in data_dir.iterdir() if path.is_file()}
        # The SQLite database in WAL mode, while open, and the first admin token.
        assert {"dcsim.sqlite3", "dcsim.sqlite3-wal", "dcsim.sqlite3-shm", "admin-token"} <= names
        assert _mode(data_dir) == 0o700
        for path in data_dir.iterdir():
            if path.is_file():
                assert _mode(path) == 0o600, (path.name, oct(_mode(path)))


async def test_an_existing_wide_data_dir_is_narrowed(tmp_path, umask):
    data_dir = tmp_path / "old"
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)
    async with dcsim.open(data_dir=data_dir):
        assert _mode(data_dir) == 0o700


def test_private_files_are_0600_from_the_start_and_when_rewritten(tmp_path, umask):
    target = tmp_path / "d" / "secret"
    write_private(target, "one")
    assert _mode(target) == 0o600 and _mode(target.parent) == 0o700
    os.chmod(target, 0o644)
    write_private(target, "two")
    assert target.read_text() == "two" and _mode(target) == 0o600
    assert _mode(private_file(tmp_path / "empty")) == 0o600


def test_the_cli_creates_a_private_data_dir_too(tmp_path, umask):
    from click.testing import CliRunner

    from dcsim.cli import main

    data_dir = tmp_path / "cli"
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "token", "create", "--role", "viewer"], env={})
    assert result.exit_code == 0, result.output
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "dcsim.sqlite3") == 0o600
