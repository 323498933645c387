"""Files dc-sim keeps for itself: a data directory only its owner can enter (0700) and
files only its owner can read (0600), whatever the process's umask.

Tokens, cookies and the store's rows are secrets at rest; the modes are set explicitly
(``chmod`` after creation) because the mode given to ``open``/``mkdir`` is reduced by
the umask but never widened, and an older release may have left wider modes behind.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make ``path`` itself 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing (its directory too, 0700 when new) and make it 0600.

    SQLite gives its ``-wal``, ``-shm`` and journal files the mode of the database file,
    so a database created through here keeps all of them private.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        # A file someone else owns (a shared database given by URL) keeps its mode.
        if os.fstat(fd).st_uid == os.geteuid():
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only (0600) from its first byte."""
    private_file(path)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(text)
