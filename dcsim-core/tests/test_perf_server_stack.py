"""``dcsim serve``'s stack (issue #18): uvicorn, with the arguments ``dcsim serve`` passes,
runs on uvloop and parses HTTP with httptools, both dcsim-core dependencies."""

from __future__ import annotations

import asyncio

import uvicorn
from litestar import Litestar


def test_uvicorn_as_dcsim_serve_calls_it_picks_httptools_and_uvloop() -> None:
    # The arguments of dcsim.cli.serve's uvicorn.run (loop and http left to "auto").
    config = uvicorn.Config(Litestar(), host="127.0.0.1", port=0, log_config=None, lifespan="on")
    config.load()
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"
    factory = config.get_loop_factory()
    assert factory is not None
    loop = factory()
    try:
        assert type(loop).__module__.startswith("uvloop"), type(loop)
        assert isinstance(loop, asyncio.AbstractEventLoop)
    finally:
        loop.close()
