"""``ETag`` and ``If-Match`` at the HTTP edge of records people edit (CMDB CIs, ITSM records).

A route that returns one such record answers it with :func:`tagged` and declares
:data:`ETAG_HEADERS`; a route that changes one takes an :data:`IfMatch` parameter and
hands it to the service, which compares it with :func:`dcsim.etag.check_if_match` under
the lock that serialises its writes (a stale tag is a 412). Without ``If-Match`` the
write is unconditional, so clients that do not track tags keep working.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter

from dcsim.convert import to_json
from dcsim.etag import etag_of

#: The ``If-Match`` request header of a write.
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        description='The ETag the client last read (or "*"): a write to a record that changed since answers 412. '
        "Without it the write is unconditional.",
    ),
]

#: The ``ETag`` header every single-record response carries, for the OpenAPI document.
ETAG_HEADERS = [
    ResponseHeader(
        name="ETag", description="The record's entity tag, for If-Match on a later write", documentation_only=True
    )
]


def tagged(record: Any, status_code: int | None = None) -> Response[Any]:
    """``record`` as JSON with its ``ETag`` header."""
    return Response(to_json(record), status_code=status_code, headers={"ETag": etag_of(record)})
