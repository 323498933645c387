"""The anchor of the HTTP figures: a bare Litestar hello served by one of the server stacks
``dcsim serve`` can run on (``dcsim.serving.SERVERS``), called as ``dcsim serve`` calls it.

    python bench/perf_hello.py <port> [uvicorn|granian]      (default uvicorn)
"""

from __future__ import annotations

import sys

from litestar import Litestar, get


@get("/", sync_to_thread=False)
def hello() -> dict[str, str]:
    """A JSON answer as small as dc-sim's ``/healthz``."""
    return {"hello": "world"}


app = Litestar(route_handlers=[hello])


def main(port: int, stack: str) -> None:
    """Serve :data:`app` on 127.0.0.1:``port`` with ``stack``."""
    if stack == "uvicorn":
        import uvicorn

        # The same uvicorn arguments as `dcsim serve` (dcsim/serving.py), so that only
        # the application differs between the anchor and dc-sim.
        uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    elif stack == "granian":
        from dcsim.serving import granian_server

        # The same Granian as `dcsim serve --server granian`: a worker process that
        # imports the app (granian loads apps by name), uvloop, no access log of its own.
        granian_server("perf_hello:app", host="127.0.0.1", port=port).serve()
    else:
        raise SystemExit(f"unknown server stack {stack!r}: uvicorn or granian")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "uvicorn")
