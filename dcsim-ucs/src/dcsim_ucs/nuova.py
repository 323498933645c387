"""``POST /nuova``: where ucsmsdk and the cisco.ucs modules send every XML API request."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK

from dcsim.app import DcSim
from dcsim.web.contracts import responses
from dcsim_ucs.xmlapi import XmlApi


@post(
    "/nuova",
    status_code=HTTP_200_OK,
    media_type="text/xml",
    summary="UCS Manager XML API",
    response_description="The method's response element (a UCS error is its attributes), or an event channel",
    # Only the host answers otherwise: a Host not allowed (400), a body too large (413), a rate limit (429).
    responses=responses(413, 429, guarded=False),
    opt={"public": True, "raw_body": True},
    tags=["ucs"],
    include_in_schema=True,
)
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
