"""Running ``dcsim serve`` as one process or several (SPEC-018).

- ``--workers N`` (N > 1) runs N worker processes on one host and port (uvicorn's
  supervisor binds the socket once and its spawned workers share it); each builds the
  app with :func:`worker_app` and runs the app's start-up. They act as one server only
  on a shared store and bus, so :func:`check_workers` refuses them on SQLite or the
  in-process bus.
- The embedded SQLite store is single-process: :func:`hold_sqlite_store` makes a second
  ``dcsim serve`` on the same file refuse to start, naming the process that has it.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from dcsim.errors import ConfigError
from dcsim.store.engine import normalize_url

if TYPE_CHECKING:
    from litestar import Litestar

    from dcsim.settings import Settings

#: How the serve command hands its options (config file, data directory, overrides) to
#: the workers it spawns; not a ``DCSIM_`` variable, which the settings would refuse.
WORKER_OPTIONS_VARIABLE = "_DCSIM_SERVE_OPTIONS"

# The open lock file of this process's SQLite store: the lock lasts as long as the process.
_held: IO[str] | None = None


def check_workers(settings: Settings, workers: int) -> None:
    """Refuse ``workers`` processes that could not act as one server (ConfigError)."""
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, not {workers}")
    if workers == 1:
        return
    if normalize_url(settings.effective_database_url).get_backend_name() == "sqlite":
        raise ConfigError(
            f"--workers {workers} needs a store every process shares, and SQLite is the single-process embedded "
            "store: set database_url to PostgreSQL (DCSIM_DATABASE_URL=postgresql://...) and use Redis "
            "(DCSIM_BUS_DRIVER=redis, DCSIM_REDIS_URL=redis://...)"
        )
    if settings.bus_driver == "memory":
        raise ConfigError(
            f"--workers {workers} needs a bus every process shares, and the memory bus is in-process: "
            "use Redis (DCSIM_BUS_DRIVER=redis, DCSIM_REDIS_URL=redis://...)"
        )


def hold_sqlite_store(settings: Settings) -> Path | None:
    """On SQLite, hold ``<database>.serve.lock`` for the life of this process; a second
    server on the same file gets a ConfigError naming the first one's PID. Returns the
    lock file, or None on a shared database."""
    global _held
    url = normalize_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    try:
        import fcntl
    except ImportError:  # not on POSIX: no advisory locks to hold
        return None
    path = Path(url.database).with_name(Path(url.database).name + ".serve.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise ConfigError(
            f"another dcsim serve (pid {holder}) already serves the SQLite store {url.database}; SQLite is the "
            "single-process embedded store, and a second server would never see the first one's writes. Run one "
            "server per SQLite file, or use PostgreSQL (DCSIM_DATABASE_URL) and Redis (DCSIM_BUS_DRIVER=redis) "
            "to run several"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    if _held is not None:
        with contextlib.suppress(OSError):
            _held.close()
    _held = handle
    return path


def worker_options(config: Path | None, data_dir: Path | None, overrides: dict[str, Any]) -> str:
    """The serve command's options, as :func:`worker_app` reads them from the environment."""
    return json.dumps(
        {
            "config": None if config is None else str(config),
            "data_dir": None if data_dir is None else str(data_dir),
            "overrides": {k: v for k, v in overrides.items() if v is not None},
        }
    )


def worker_app() -> Litestar:
    """The app of one worker process (uvicorn's factory under ``--workers``)."""
    import dcsim
    from dcsim.logs import configure_logging
    from dcsim.settings import load_settings
    from dcsim.web.app import create_app

    options = json.loads(os.environ.get(WORKER_OPTIONS_VARIABLE, "{}"))
    settings = load_settings(
        config_file=options.get("config"), data_dir=options.get("data_dir"), **options.get("overrides", {})
    )
    configure_logging(settings.log_level, settings.log_format, service=settings.service_name, env=settings.environment)
    return create_app(dcsim.open(settings=settings))
