"""Entity tags of records people edit (CMDB CIs, ITSM records) and ``If-Match`` checks.

An entity tag is a hash of the record's JSON, so it changes whenever anything in the
record changes (every write also moves ``updated_at``) and needs nothing from the
backend that keeps the record: the built-in CMDB, NetBox and the store alike.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from dcsim.convert import to_json
from dcsim.errors import PreconditionFailed


def etag_of(record: Any) -> str:
    """The strong entity tag of ``record`` (an attrs object), quoted as HTTP sends it."""
    text = json.dumps(to_json(record), sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def check_if_match(if_match: str | None, record: Any) -> None:
    """Refuse a write whose ``If-Match`` names none of ``record``'s current tag (412).

    ``None`` (no header) is an unconditional write; ``*`` matches any existing record;
    otherwise the header is a comma-separated list of tags compared strongly, so a
    weak tag (``W/"..."``) never matches.
    """
    if if_match is None:
        return
    wanted = [tag.strip() for tag in if_match.split(",") if tag.strip()]
    current = etag_of(record)
    if "*" in wanted or current in wanted:
        return
    raise PreconditionFailed(
        "the record changed since it was read (If-Match does not match its ETag); read it again and retry",
        etag=current,
    )
