"""``inFilter``: the property filters of configResolveClass, -Children and configScope.

Leaves compare one property (``<eq class="computeBlade" property="serial" value="X"/>``);
``and``, ``or`` and ``not`` combine them. ``wcard`` is a regular expression searched in
the value (ucsmsdk's ``type="re"``); ``anybit`` and ``allbits`` test comma-separated
flag sets; ``bw`` is an inclusive range with ``firstValue`` and ``secondValue``.
Numbers compare as numbers when both sides are numbers, else as strings.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

from dcsim_ucs.classes import class_meta
from dcsim_ucs.errors import UcsError, parse_error
from dcsim_ucs.mo import Mo

Predicate = Callable[[Mo], bool]

_COMPARISONS: dict[str, Callable[[object, object], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,  # type: ignore[operator]
    "ge": lambda a, b: a >= b,  # type: ignore[operator]
    "lt": lambda a, b: a < b,  # type: ignore[operator]
    "le": lambda a, b: a <= b,  # type: ignore[operator]
}


def parse_filter(element: ET.Element | None) -> Predicate:
    """The predicate of an ``inFilter`` element (None or empty: everything matches)."""
    if element is None or len(element) == 0:
        return lambda mo: True
    if len(element) > 1:
        raise parse_error("inFilter holds one filter; combine several with <and> or <or>")
    return _node(element[0])


def _node(element: ET.Element) -> Predicate:
    tag = element.tag
    if tag in ("and", "or"):
        parts = [_node(child) for child in element]
        if not parts:
            raise parse_error(f"<{tag}> needs at least one filter inside")
        return (lambda mo: all(p(mo) for p in parts)) if tag == "and" else (lambda mo: any(p(mo) for p in parts))
    if tag == "not":
        if len(element) != 1:
            raise parse_error("<not> takes exactly one filter")
        inner = _node(element[0])
        return lambda mo: not inner(mo)
    class_id = element.get("class", "")
    prop = element.get("property")
    if not prop:
        raise parse_error(f"<{tag}> needs a property attribute")
    meta = class_meta(class_id) if class_id else None
    if class_id and meta is None:
        raise UcsError("ERR-MO-unknown-class", f"filter names unknown class {class_id!r}")
    wanted_class = meta.name if meta else None

    def value_of(mo: Mo) -> str | None:
        if wanted_class and mo.class_id != wanted_class:
            return None
        return mo.dn if prop == "dn" else mo.rn if prop == "rn" else mo.attrs.get(prop)

    if tag in _COMPARISONS:
        compare = _COMPARISONS[tag]
        wanted = element.get("value", "")

        def leaf(mo: Mo) -> bool:
            actual = value_of(mo)
            if actual is None:
                return False
            left, right = _comparable(actual, wanted)
            return compare(left, right)

        return leaf
    if tag == "wcard":
        try:
            pattern = re.compile(element.get("value", ""))
        except re.error as exc:
            raise parse_error(f"wcard value is not a regular expression: {exc}") from exc
        return lambda mo: (actual := value_of(mo)) is not None and pattern.search(actual) is not None
    if tag in ("anybit", "allbits"):
        flags = _flags(element.get("value", ""))
        test = any if tag == "anybit" else all

        def bits(mo: Mo) -> bool:
            actual = value_of(mo)
            return actual is not None and test(flag in _flags(actual) for flag in flags)

        return bits
    if tag == "bw":
        low, high = element.get("firstValue", ""), element.get("secondValue", "")

        def between(mo: Mo) -> bool:
            actual = value_of(mo)
            if actual is None:
                return False
            left, first = _comparable(actual, low)
            left, second = _comparable(actual, high)
            return bool(first <= left <= second)  # type: ignore[operator]

        return between
    raise parse_error(f"unknown filter <{tag}>")


def _comparable(actual: str, wanted: str) -> tuple[object, object]:
    try:
        return float(actual), float(wanted)
    except ValueError:
        return actual, wanted


def _flags(text: str) -> set[str]:
    return {part.strip() for part in text.split(",") if part.strip()}
