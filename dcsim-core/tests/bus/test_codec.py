"""The bus's event codec against the cattrs converter: the same JSON object both ways, on
many generated events (unicode, None, nested data, odd values that take the converter's
path), old envelopes (written by the converter) included."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from dcsim.bus.codec import decode_event, encode_event
from dcsim.convert import dumps, loads
from dcsim.errors import InvalidInput
from dcsim.model import Event

_TEXT = 'aZ09 _-/.:é☃𝄞"\\\n\t\u0000\u2028中文'


def _text(rng: random.Random, longest: int = 12) -> str:
    return "".join(rng.choice(_TEXT) for _ in range(rng.randint(0, longest)))


def _value(rng: random.Random, depth: int) -> Any:
    kinds = ["str", "int", "float", "bool", "none", "bigint"] + (["list", "dict"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "str":
        return _text(rng)
    if kind == "int":
        return rng.randint(-(2**40), 2**40)
    if kind == "bigint":
        return rng.choice([2**63, -(2**63) - 1, 2**80])
    if kind == "float":
        return rng.choice([0.0, -0.0, 1e16, 1e-7, 0.1, 2.5e300, rng.uniform(-1e6, 1e6)])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "list":
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {_text(rng, 6): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _event(rng: random.Random) -> Event:
    offset = rng.choice([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
    moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.uniform(0, 3e7))
    return Event(
        type=f"dcsim.{_text(rng, 8)}",
        source=_text(rng),
        data={_text(rng, 6): _value(rng, 0) for _ in range(rng.randint(0, 6))},
        subject=rng.choice([None, _text(rng)]),
        time=moment.astimezone(offset).replace(microsecond=rng.choice([0, rng.randint(0, 999_999)])),
        schemaversion=rng.randint(1, 3),
        traceparent=rng.choice([None, f"00-{rng.getrandbits(128):032x}-{rng.getrandbits(64):016x}-01"]),
    )


@pytest.mark.parametrize("seed", range(4))
def test_the_codec_writes_and_reads_what_the_converter_does(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(500):
        event = _event(rng)
        fast, converted = encode_event(event), dumps(event)
        assert json.loads(fast) == json.loads(converted)
        # Both ways round: new entries read by the converter, old entries read by the codec.
        assert loads(fast, Event) == event
        assert decode_event(converted) == event
        assert decode_event(fast) == event
        assert decode_event(fast.decode()) == event


@pytest.mark.parametrize(
    "data",
    [
        {"when": datetime(2026, 11, 30, 12, tzinfo=UTC)},
        {"raw": b"\x00\xff"},
        {"pair": (1, "two")},
        {"nan": math.nan, "inf": math.inf},
        {1: "int key"},
        {"nested": [{"bytes": b"x"}]},
        {"lone surrogate": "\ud800"},
        {"a set": {1}},
    ],
    ids=["datetime", "bytes", "tuple", "nan", "int-key", "nested-bytes", "surrogate", "set"],
)
def test_values_json_has_no_single_form_for_take_the_converters_path(data: dict[Any, Any]) -> None:
    event = Event(type="t.odd", source="/tests", data=data)
    assert encode_event(event) == dumps(event).encode()
    assert decode_event(encode_event(event)) == loads(dumps(event), Event)


def test_an_envelope_without_the_newer_fields_reads_as_the_converter_reads_it() -> None:
    # An entry written before schemaversion and traceparent existed.
    old = json.dumps(
        {"type": "t.old", "source": "/s", "data": {"n": 1}, "subject": None, "id": "i-1",
         "time": "2026-01-02T03:04:05+00:00", "specversion": "1.0", "datacontenttype": "application/json"}
    )  # fmt: skip
    assert decode_event(old) == loads(old, Event)
    assert decode_event(old).schemaversion == 1 and decode_event(old).traceparent is None


@pytest.mark.parametrize(
    "envelope",
    [
        '{"type": "t", "source": "/s", "id": "i", "time": "2026-01-02T03:04:05Z", "schemaversion": "2"}',
        '{"type": "t", "source": "/s", "id": "i", "time": "2026-01-02T03:04:05Z", "data": {"x": NaN}}',
        '{"type": "t", "source": "/s", "id": "i", "time": "2026-01-02T03:04:05Z", "extra": 1}',
    ],
    ids=["string-int", "nan-literal", "unknown-field"],
)
def test_envelopes_off_the_fast_path_read_as_the_converter_reads_them(envelope: str) -> None:
    assert decode_event(envelope) == loads(envelope, Event)


def test_an_envelope_the_converter_refuses_is_refused() -> None:
    with pytest.raises(InvalidInput):
        decode_event('{"type": "t", "source": "/s", "time": "not a time"}')
    with pytest.raises(InvalidInput):
        decode_event("not json")
