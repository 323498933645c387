"""NetBox's WSGI application, loaded once, served by forked children: restarts take milliseconds.

Run by ``tests/netbox_support.py`` with the NetBox venv's Python (3.12, not the tests' 3.11)
and NetBox's environment (``NETBOX_ROOT``, ``NETBOX_DB_NAME``, ``NETBOX_REDIS_PORT``)::

    python netbox_serve.py <port>

Loading NetBox (Django, the URLconf and with it the GraphQL schema) takes 10 to 25 seconds,
which ``netbox runserver`` and gunicorn pay at every start. This process pays it once. Then,
for each ``start`` line on stdin, it listens on 127.0.0.1:<port> and forks a child that serves
NetBox there with Django's development server (the one ``netbox runserver`` uses); ``stop``
kills that child, and the port refuses connections until the next ``start``. It answers each
line with one line on stdout: ``ready`` once loaded, then ``started <pid>``, ``stopped`` or
``error <message>``. At the end of stdin it stops the child and exits. Request logs and
errors go to stderr.
"""

from __future__ import annotations

import os
import signal
import socketserver
import sys
import threading
import time
from typing import Any, NoReturn


def reply(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def serve(httpd: Any, parent: int) -> NoReturn:
    """The child: serve until killed, or until the parent is gone (nobody could stop it then)."""
    # stdout is the parent's reply channel; whatever the child prints goes to the log.
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_DFL)

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch_parent, daemon=True).start()
    try:
        httpd.serve_forever()
    finally:
        os._exit(0)


def stop(child: int | None) -> None:
    if child is None:
        return
    try:
        os.kill(child, signal.SIGTERM)
        os.waitpid(child, 0)
    except (ProcessLookupError, ChildProcessError):
        pass  # already gone (and reaped)


def main() -> None:
    port = int(sys.argv[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netbox.settings")
    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
    from django.db import connections
    from netbox.wsgi import application  # sets Django up, loads the URLconf and the GraphQL schema

    # Children must not share a database connection; Redis clients reconnect after a fork.
    connections.close_all()
    # As `runserver` builds it: a thread per request, not waited for at exit.
    server_class = type("ThreadedWSGIServer", (socketserver.ThreadingMixIn, WSGIServer), {"daemon_threads": True})
    reply("ready")

    child: int | None = None
    for line in sys.stdin:
        command = line.strip()
        if command == "start":
            if child is None:
                # Bound here, so that a port in use is reported; closed here after the fork,
                # so that the port refuses connections as soon as the child is gone.
                try:
                    httpd = server_class(("127.0.0.1", port), WSGIRequestHandler)
                except OSError as error:
                    reply(f"error cannot listen on 127.0.0.1:{port}: {error}")
                    continue
                httpd.set_app(application)
                child = os.fork()
                if child == 0:
                    serve(httpd, os.getppid())
                httpd.server_close()
            reply(f"started {child}")
        elif command == "stop":
            stop(child)
            child = None
            reply("stopped")
        else:
            reply(f"error unknown command {command!r}")
    stop(child)
    # Nothing to clean up, and tearing a loaded Django down takes seconds.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
