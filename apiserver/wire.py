"""JSON bytes in and out of the apiserver: request bodies, responses, stored values, watch events.

Owns the one codec the hot paths share (orjson: compact, UTF-8, several times faster than
the standard library both ways) and `clone`, a deep copy of a JSON-shaped dict by a
round-trip through it (faster than `copy.deepcopy` for wire objects). What orjson cannot
encode (integers beyond 64 bits, non-string keys after conversion) falls back to the
standard library, so an answer never fails on encoding alone.
"""
from __future__ import annotations

import json
from typing import Any

import orjson

_OPTS = orjson.OPT_NON_STR_KEYS
JSONDecodeError = orjson.JSONDecodeError   # a ValueError


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes, non-ASCII kept as UTF-8."""
    try:
        return orjson.dumps(obj, option=_OPTS)
    except TypeError:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON; raises `ValueError` (JSONDecodeError) on bad input."""
    return orjson.loads(data)


def clone(obj: Any) -> Any:
    """A deep copy of a JSON-shaped value."""
    try:
        return orjson.loads(orjson.dumps(obj, option=_OPTS))
    except TypeError:
        return json.loads(json.dumps(obj))
