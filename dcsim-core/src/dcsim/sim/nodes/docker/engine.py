"""The Docker engine as the docker node backend uses it: connection, errors, per-container locks."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import docker
import docker.errors
import docker.utils
import requests

from dcsim.errors import Conflict, DcsimError, NotFound, Unavailable

if TYPE_CHECKING:
    from dcsim.settings import Settings


def client_kwargs(settings: Settings) -> dict[str, Any]:
    """How to reach the engine: ``docker_url``, else the environment as the docker CLI reads it."""
    if settings.docker_url:
        return {"base_url": settings.docker_url}
    # DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.
    return dict(docker.utils.kwargs_from_env())


def connect(settings: Settings) -> docker.DockerClient:
    """A client of the configured Docker engine; :class:`Unavailable` when it does not answer."""
    try:
        client = docker.DockerClient(**client_kwargs(settings))
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise Unavailable(f"Docker engine unreachable: {exc}") from exc
    return client


@contextlib.contextmanager
def engine_errors(what: str) -> Iterator[None]:
    """Translate Docker SDK errors into dc-sim's error hierarchy, prefixed with ``what``."""
    try:
        yield
    except docker.errors.NotFound as exc:
        raise NotFound(f"{what}: {exc.explanation}") from exc
    except docker.errors.APIError as exc:
        if exc.status_code == 409:
            raise Conflict(f"{what}: {exc.explanation}") from exc
        raise DcsimError(f"{what}: {exc.explanation or exc}") from exc
    except (docker.errors.DockerException, requests.exceptions.ConnectionError) as exc:
        raise Unavailable(f"{what}: Docker engine unreachable: {exc}") from exc


class Engine:
    """A lazily connected client of the configured engine, shared by a backend's threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        #: CPUs of the engine's host: a container may not be given more.
        self.cpus = 1
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()
        self._exec_locks: dict[str, threading.Lock] = {}

    def client(self) -> docker.DockerClient:
        """The client, connecting first if needed; :class:`Unavailable` when the engine does not answer."""
        with self._lock:
            if self._client is None:
                client = connect(self.settings)
                with engine_errors("docker info"):
                    self.cpus = int(client.info()["NCPU"])
                self._client = client
            return self._client

    def stream_api(self) -> docker.APIClient:
        """A low-level client of its own, for a stream that holds its connection for long."""
        return docker.APIClient(version=self.client().api.api_version, **client_kwargs(self.settings))

    def exec_lock(self, container: str) -> threading.Lock:
        """Held while dc-sim starts a process in ``container`` or changes its power.

        An exec that the engine lets start just as the container is paused hangs in the
        frozen container, and with it every later call on that container (Docker 20.10
        keeps the container locked meanwhile). dc-sim never lets its own execs and pauses
        race; a pause typed by someone else in that moment still can.
        """
        with self._lock:
            return self._exec_locks.setdefault(container, threading.Lock())

    def forget(self, container: str) -> None:
        """Drop what is kept about ``container`` (it is being removed)."""
        with self._lock:
            self._exec_locks.pop(container, None)

    def close(self) -> None:
        """Close the connection; the next :meth:`client` connects again."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
