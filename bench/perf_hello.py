"""The anchor of the HTTP figures: a bare Litestar hello served by the same server stack as
``dcsim serve`` (uvicorn, its event loop and HTTP parser chosen the same way).

    python bench/perf_hello.py <port>
"""

from __future__ import annotations

import sys

import uvicorn
from litestar import Litestar, get


@get("/", sync_to_thread=False)
def hello() -> dict[str, str]:
    """A JSON answer as small as dc-sim's ``/healthz``."""
    return {"hello": "world"}


app = Litestar(route_handlers=[hello])

if __name__ == "__main__":
    # The same uvicorn arguments as `dcsim serve` (dcsim/cli.py), so that only the
    # application differs between the anchor and dc-sim.
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, lifespan="on")
