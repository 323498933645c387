"""The one cattrs converter used for JSON everywhere: API bodies, the store and the bus."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import cattrs
from cattrs.preconf.json import make_converter

from dcsim.errors import InvalidInput

T = TypeVar("T")

converter = make_converter(omit_if_default=False)
converter.register_unstructure_hook(datetime, lambda d: d.isoformat())
converter.register_structure_hook(datetime, lambda v, _: v if isinstance(v, datetime) else datetime.fromisoformat(v))


def to_json(obj: Any) -> Any:
    """Unstructure an attrs object (or a collection of them) into JSON-ready values."""
    return converter.unstructure(obj)


def from_json(data: Any, cls: type[T]) -> T:
    """Structure JSON-ready ``data`` into ``cls``; bad input raises :class:`InvalidInput`."""
    try:
        return converter.structure(data, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        messages = cattrs.transform_error(exc) if isinstance(exc, cattrs.BaseValidationError) else [str(exc)]
        errors = [_field_error(message) for message in messages]
        raise InvalidInput(f"invalid {cls.__name__}: " + "; ".join(messages), errors=errors) from exc


def _field_error(message: str) -> dict[str, str]:
    """cattrs' ``"<what> @ $.a.b"`` as the problem documents' ``{field, message}`` (specs/010)."""
    text, _, where = message.rpartition(" @ $")
    if not text:
        return {"field": "", "message": message}
    return {"field": where.lstrip("."), "message": text}


def dumps(obj: Any) -> str:
    """Serialise an attrs object to a JSON string."""
    return converter.dumps(obj)


def loads(text: str | bytes, cls: type[T]) -> T:
    """Parse a JSON string into ``cls``."""
    try:
        return converter.loads(text, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"invalid {cls.__name__}: {exc}") from exc
