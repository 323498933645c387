"""The contract convention of dc-sim's HTTP APIs (specs/010-api-conventions.md).

Request bodies are :class:`Model` subclasses (msgspec Structs refusing unknown fields)
declared as a handler's ``data`` parameter; the host app runs :func:`strict_body` before
every handler, which refuses a wrong Content-Type (415), malformed or too deep JSON
(400) and any body that does not match the model *strictly* (422, every invalid field
listed). :func:`responses` documents the problem answers an operation can give.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import accumulate
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import msgspec
import structlog
from litestar import Request
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import QueryParameter
from litestar.typing import FieldDefinition

from dcsim.errors import DcsimError, InvalidInput

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

T = TypeVar("T")

log = structlog.get_logger(__name__)

#: The deepest JSON body accepted (objects and arrays nested in each other).
MAX_JSON_DEPTH = 32
#: The largest page a client may ask for.
MAX_PAGE = 1000


class ValidationFailed(DcsimError):
    """A well-formed body that does not match its model; ``errors`` lists every field."""

    code = "validation_failed"
    status = 422
    title = "Validation failed"


class UnsupportedMediaType(DcsimError):
    """A body sent with a Content-Type the operation does not take."""

    code = "unsupported_media_type"
    status = 415
    title = "Unsupported media type"


class Model(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request model: unknown fields are refused, never dropped."""


# Field types shared by every API, so that bounds mean the same thing everywhere.
Name = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=80,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="1..80 characters of A-Z a-z 0-9 . _ -",
        examples=["web-01"],
    ),
]
Label = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=80,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="1..80 printable characters",
        examples=["before upgrade"],
    ),
]
Text = Annotated[str, msgspec.Meta(max_length=4000, description="Free text, at most 4000 characters")]
Vcpus = Annotated[int, msgspec.Meta(ge=1, le=768, description="Virtual CPUs, 1..768", examples=[2])]
MemoryMb = Annotated[
    int, msgspec.Meta(ge=128, le=24 * 1024 * 1024, description="Memory in MiB, 128 MiB..24 TiB", examples=[4096])
]
DiskGb = Annotated[int, msgspec.Meta(ge=1, le=64 * 1024, description="Disk size in GiB, 1 GiB..64 TiB", examples=[40])]
Port = Annotated[int, msgspec.Meta(ge=1, le=65535, description="A TCP port")]
TagKey = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
TagValue = Annotated[str, msgspec.Meta(max_length=256)]
# Litestar documents no bounds of a dict by itself: they go in as schema extras.
Tags = Annotated[
    dict[TagKey, TagValue],
    msgspec.Meta(
        max_length=64,
        extra_json_schema={
            "description": "At most 64 key/value tags; keys 1..128 characters, values up to 256",
            "extra": {
                "maxProperties": 64,
                "propertyNames": Schema(type=OpenAPIType.STRING, min_length=1, max_length=128),
                "additionalProperties": Schema(type=OpenAPIType.STRING, max_length=256),
            },
        },
    ),
]
#: ``?limit=`` and ``?offset=`` of every list operation.
LimitQuery = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description=f"Page size, 1..{MAX_PAGE}")]
OffsetQuery = Annotated[int, QueryParameter(ge=0, description="Items to skip")]


class Page(msgspec.Struct, Generic[T]):
    """The one list envelope: a window of ``total`` items."""

    items: list[T]
    total: Annotated[int, msgspec.Meta(ge=0, description="Items matching the filters, all pages")]
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_PAGE, description="The page size asked for")]
    offset: Annotated[int, msgspec.Meta(ge=0, description="Items skipped before this page")]


class FieldError(msgspec.Struct):
    """One invalid field of a request."""

    field: Annotated[str, msgspec.Meta(description="Where: a body field path, a query or path parameter")]
    message: str


class ProblemDocument(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem document, as every error is answered."""

    type: str
    title: str
    status: int
    detail: str
    code: Annotated[str, msgspec.Meta(description="Stable machine-readable error code")]
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Litestar's Struct schemas, saying ``additionalProperties: false`` where the Struct
    refuses unknown fields, so the document tells clients what the server enforces."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if field_definition.type_.__struct_config__.forbid_unknown_fields:
            schema.additional_properties = False
        return schema


_DESCRIPTIONS = {
    400: "Malformed request: bad JSON, too deeply nested, or a parameter out of bounds",
    401: "No bearer token, or an unknown or revoked one",
    403: "The token's role does not allow this",
    404: "No such object",
    409: "Clashes with the object's current state",
    412: "If-Match does not match the current ETag",
    413: "Request body too large",
    415: "Content-Type is not application/json",
    422: "The body does not match the model; every invalid field is listed",
    429: "Too many requests; see Retry-After",
    503: "A backing service or plugin is not available",
}


def responses(*statuses: int, body: bool = False, guarded: bool = True) -> dict[int, ResponseSpec]:
    """The ``responses=`` of a route handler: each status as a problem document.

    400 (bad parameters) and 429 (rate limits count open routes too) come with every
    route; 401 and 403 with every guarded one; ``body=True`` adds what a JSON body can
    cause (413, 415, 422). Add 404, 409, 412, 503 where the operation can answer them.
    """
    wanted = {400, 429, *statuses}
    if guarded:
        wanted |= {401, 403}
    if body:
        wanted |= {413, 415, 422}
    return {
        status: ResponseSpec(
            ProblemDocument, description=_DESCRIPTIONS.get(status, "Error"), media_type=PROBLEM_MEDIA_TYPE
        )
        for status in sorted(wanted)
    }


PROBLEM_MEDIA_TYPE = "application/problem+json"


def page(items: Iterable[T], limit: int, offset: int) -> Page[T]:
    """The page of ``items`` from ``offset``, at most ``limit`` long."""
    if limit < 1 or limit > MAX_PAGE or offset < 0:
        raise InvalidInput(
            f"limit must be 1..{MAX_PAGE} and offset >= 0",
            errors=[{"field": "limit", "message": f"1..{MAX_PAGE}"}, {"field": "offset", "message": ">= 0"}],
        )
    everything = list(items)
    return Page(items=everything[offset : offset + limit], total=len(everything), limit=limit, offset=offset)


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_BRACKETS = bytes(b for b in range(256) if b not in _DEPTH_STEP)


def json_depth(raw: bytes) -> int:
    """How deeply ``raw``'s arrays and objects nest (strings ignored), without parsing it."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return 0
    brackets = _STRING.sub(b'""', raw).translate(None, _BRACKETS)
    return max(accumulate(_DEPTH_STEP[b] for b in brackets), default=0)


def decode_strict(raw: bytes, model: Any) -> Any:
    """Parse ``raw`` as JSON and check it against ``model`` with no coercion.

    Raises :class:`InvalidInput` (400) for malformed or too deep JSON and
    :class:`ValidationFailed` (422) listing every invalid field.
    """
    depth = json_depth(raw)
    if depth > MAX_JSON_DEPTH:
        log.warning("http.body_too_deep", depth=min(depth, 10**6), limit=MAX_JSON_DEPTH)
        raise InvalidInput(
            f"JSON nests more than {MAX_JSON_DEPTH} levels deep",
            errors=[{"field": "", "message": f"nesting deeper than {MAX_JSON_DEPTH}"}],
        )
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"malformed JSON: {exc}", errors=[{"field": "", "message": str(exc)}]) from exc
    return convert_strict(value, model)


def convert_strict(value: Any, model: Any) -> Any:
    """``value`` (parsed JSON) as ``model``, with no coercion; :class:`ValidationFailed`
    (422) listing every invalid field otherwise (also for a model known only at request
    time, such as a fault kind's parameters)."""
    try:
        return msgspec.convert(value, model, strict=True)
    except msgspec.ValidationError as exc:
        errors = _field_errors(value, model) or [_error(str(exc))]
        raise ValidationFailed(
            "the body does not match " + getattr(model, "__name__", "the model") + ": " + _summary(errors),
            errors=errors,
        ) from exc


def _field_errors(value: Any, model: Any) -> list[dict[str, str]]:
    """Every invalid field of ``value`` (msgspec itself stops at the first)."""
    if not (isinstance(model, type) and issubclass(model, msgspec.Struct)) or not isinstance(value, dict):
        return []
    fields = msgspec.structs.fields(model)
    known = {info.encode_name for info in fields}
    errors = [{"field": str(key), "message": "unknown field"} for key in value if key not in known]
    for info in fields:
        if info.encode_name not in value:
            if info.required:
                errors.append({"field": info.encode_name, "message": "required field missing"})
            continue
        try:
            msgspec.convert(value[info.encode_name], info.type, strict=True)
        except msgspec.ValidationError as exc:
            errors.append(_error(str(exc), info.encode_name))
    return errors


def _error(message: str, field: str = "") -> dict[str, str]:
    # msgspec ends a message with " - at `$.a.b[0]`": turn that into the field path.
    text, _, where = message.partition(" - at `$")
    path = where.rstrip("`").lstrip(".")
    joined = f"{field}.{path}" if field and path and not path.startswith("[") else f"{field}{path}"
    return {"field": joined, "message": text}


def _summary(errors: list[dict[str, str]]) -> str:
    return "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)


def _is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def strict_body(request: Request[Any, Any, Any]) -> None:
    """The app's ``before_request``: check a handler's JSON ``data`` body before Litestar
    decodes it (guards have already run, so 401/403 come first)."""
    handler = request.route_handler
    field = handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        # No ``data`` parameter: the handler reads its own body (XML, a form) and checks it.
        return
    raw = await request.body()
    if not raw and (field.is_optional or field.has_default):
        return
    if not _is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType(
            "send the body as application/json",
            errors=[{"field": "Content-Type", "message": "must be application/json"}],
        )
    decode_strict(raw, field.annotation)


__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_PAGE",
    "PROBLEM_MEDIA_TYPE",
    "DiskGb",
    "FieldError",
    "Label",
    "LimitQuery",
    "MemoryMb",
    "Model",
    "Name",
    "OffsetQuery",
    "Page",
    "Port",
    "ProblemDocument",
    "StrictStructSchemaPlugin",
    "Tags",
    "Text",
    "UnsupportedMediaType",
    "ValidationFailed",
    "Vcpus",
    "convert_strict",
    "decode_strict",
    "json_depth",
    "page",
    "responses",
    "strict_body",
]
