"""Running ``dcsim serve`` as one process or several (SPEC-018), on uvicorn or Granian.

- ``--server``: uvicorn by default, or Granian (``dcsim-core[granian]``), both on
  uvloop (SPEC-002 says why). uvicorn runs the app built in this process; Granian runs
  it in a worker process it forks, which builds it with :func:`worker_app`; both run the
  app's start-up and shutdown (ASGI lifespan) and stop gracefully on SIGTERM.
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
import ctypes
import importlib.util
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from dcsim.errors import ConfigError
from dcsim.store.engine import normalize_url

if TYPE_CHECKING:
    from granian.server.common import AbstractServer
    from litestar import Litestar

    from dcsim.settings import Settings

#: How the serve command hands its options (config file, data directory, overrides) to
#: the workers it spawns; not a ``DCSIM_`` variable, which the settings would refuse.
WORKER_OPTIONS_VARIABLE = "_DCSIM_SERVE_OPTIONS"

#: The server stacks ``dcsim serve --server`` runs on.
SERVERS = ("uvicorn", "granian")
#: The app factory of a worker process (``--workers N``, and every Granian worker).
WORKER_APP = "dcsim.serving:worker_app"

# The open lock file of this process's SQLite store: the lock lasts as long as the process.
_held: IO[str] | None = None


def granian_installed() -> bool:
    """Whether Granian (``dcsim-core[granian]``) can be imported."""
    return importlib.util.find_spec("granian") is not None


def pick_server(server: str | None) -> str:
    """The server stack to run: ``server`` when given (ConfigError when it is not
    installed), else uvicorn. Granian is the faster stack on dc-sim's own requests
    (SPEC-002) but opt-in: a worker's start-up failure ends in Granian's own error line
    rather than dc-sim's, and the whole test suite runs on uvicorn."""
    if server is None:
        return "uvicorn"
    if server not in SERVERS:
        raise ConfigError(f"--server must be one of {', '.join(SERVERS)}, not {server!r}")
    if server == "granian" and not granian_installed():
        raise ConfigError("--server granian needs Granian: pip install 'dcsim-core[granian]'")
    return server


def run(server: str, app: Litestar | str, settings: Settings, workers: int) -> None:
    """Serve ``app`` (an app object, or :data:`WORKER_APP` for worker processes that build
    their own) on the settings' host and port with ``server`` until SIGTERM or SIGINT."""
    if server == "granian":
        if not isinstance(app, str):
            raise TypeError("Granian's workers build their own app: pass WORKER_APP")
        granian_server(
            app,
            host=settings.host,
            port=settings.port,
            workers=workers,
            factory=True,
            log_level=settings.log_level,
            ssl_certfile=settings.tls_certfile,
            ssl_keyfile=settings.tls_keyfile,
        ).serve()
        return
    import uvicorn

    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        lifespan="on",
        ssl_certfile=settings.tls_certfile,
        ssl_keyfile=settings.tls_keyfile,
        factory=isinstance(app, str),
        workers=workers if workers > 1 else None,
    )


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


def granian_server(
    target: str,
    *,
    host: str,
    port: int,
    workers: int = 1,
    factory: bool = False,
    log_level: str = "INFO",
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> AbstractServer[Any]:
    """A Granian server of the ASGI app ``target`` (``module:attribute``; with ``factory``,
    a function returning the app), as ``dcsim serve --server granian`` runs it.

    Granian runs apps in worker processes it spawns (one per ``workers``), each on uvloop,
    with the ASGI lifespan (start-up and shutdown) and SIGTERM/SIGINT as a graceful stop.
    Its own access log stays off (the app logs each request, with its request id) and its
    loggers propagate to the root handler of :func:`dcsim.logs.configure_logging`.
    """
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops, SSLProtocols
    from granian.log import LogLevels

    return Granian(
        target,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=factory,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        # Granian's own lines below WARNING (its start, "shutdown completed") stay out but
        # at DEBUG: dc-sim logs its start and stop itself, and a start-up error must stay
        # the last line a failed serve prints.
        log_level=LogLevels.debug if log_level.upper() == "DEBUG" else LogLevels.warning,
        log_access=False,
        log_dictconfig=_GRANIAN_LOGGING,
        ssl_cert=None if ssl_certfile is None else Path(ssl_certfile),
        ssl_key=None if ssl_keyfile is None else Path(ssl_keyfile),
        # uvicorn's default floor: vendor tools still speak TLS 1.2.
        ssl_protocol_min=SSLProtocols.tls12,
    )


# Granian's logging configuration, merged over its defaults: its loggers write nothing
# themselves and pass their records to the root logger's handler.
_GRANIAN_LOGGING: dict[str, Any] = {
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": True},
    },
}


def worker_app() -> Litestar:
    """The app of one worker process (uvicorn's factory under ``--workers``)."""
    die_with_parent()
    import dcsim
    from dcsim.logs import configure_logging
    from dcsim.settings import load_settings
    from dcsim.web.app import create_app

    options = json.loads(os.environ.get(WORKER_OPTIONS_VARIABLE, "{}"))
    settings = load_settings(
        config_file=options.get("config"), data_dir=options.get("data_dir"), **options.get("overrides", {})
    )
    configure_logging(settings.log_level, settings.log_format, service=settings.service_name, env=settings.environment)
    sim = dcsim.open(settings=settings)
    for info in sim.plugins.failures():
        logging.getLogger("dcsim.serve").warning("plugin %s failed: %s", info.name, info.error)
    return create_app(sim)


#: prctl(2)'s option that sends this process a signal when its parent dies.
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """End this worker process when the serving process that started it dies (Linux).

    A graceful stop goes through the server, which stops its workers first. But a serving
    process killed outright (``kill -9``, the OOM killer) cannot: its workers would live on
    as orphans, holding the port and the SQLite store's lock, and a restarted ``dcsim
    serve`` would be refused. A worker that outlives its parent ends at once, as a
    single-process server would have.
    """
    if sys.platform != "linux":
        return
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    # The parent may have died before the call: the worker was re-parented already.
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)
