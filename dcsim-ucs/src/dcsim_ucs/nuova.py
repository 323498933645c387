"""``POST /nuova``: where ucsmsdk and the cisco.ucs modules send every XML API request."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK

from dcsim.app import DcSim
from dcsim_ucs.xmlapi import XmlApi


@post("/nuova", status_code=HTTP_200_OK, opt={"public": True}, tags=["ucs"], include_in_schema=True)
async def nuova(request: Request[Any, Any, Any], dcsim: NamedDependency[DcSim]) -> Response[bytes] | Stream:
    """The UCS Manager XML API. UCS sessions authenticate it (``aaaLogin``), not dc-sim tokens.

    Any content type is read as XML, since ucsmsdk posts with urllib's default. Errors
    are UCS error attributes in a 200 response, as UCS Manager answers.
    """
    body = await request.body()
    answer = await XmlApi(dcsim.services["ucs"]).handle(body)
    if isinstance(answer, bytes):
        return Response(content=answer, media_type="text/xml", status_code=HTTP_200_OK)
    # eventSubscribe: the response stays open, a record per batch of changes.
    return Stream(answer, media_type="text/xml", status_code=HTTP_200_OK)
