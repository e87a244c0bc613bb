"""Decoding Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) to wire dicts.

kubectl's imperative generators (`create namespace|deployment|configmap|secret|service|
serviceaccount`) and `drain`'s deletes send protobuf and never retry as JSON after a 415.
The body is the magic `k8s\\0` and a `runtime.Unknown` (typeMeta, raw, contentEncoding,
contentType) wrapping the typed message; this module turns it into the same dict a JSON
body would give, so the rest of the apiserver never sees protobuf.

Owns the wire format (varints, length-delimited fields, packed repeats), the envelope, and
the conversion Go's JSON encoding would make: zero values of non-pointer fields left out
(`omitempty`), `bytes` as base64, `Time` as RFC 3339, `Quantity` and `IntOrString` as
their JSON forms. The field tables live in `protobuf_schema.py`; a field they lack is
dropped and named in a warning. Answers stay JSON, which kubectl accepts.
"""
from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any, Iterator

from apiserver.protobuf_schema import INLINE, KINDS, MESSAGES, OPTIONS_KINDS, PTR, REPEATED

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

Value = int | bytes


class ProtobufError(ValueError):
    """The body is not a Kubernetes protobuf message pykube can read."""


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(buf):
            raise ProtobufError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def fields(buf: bytes) -> Iterator[tuple[int, int, Value]]:
    """(field number, wire type, value) for each field of a message, in order."""
    i, n = 0, len(buf)
    while i < n:
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        value: Value
        if wt == 0:
            value, i = _varint(buf, i)
        elif wt == 2:
            size, i = _varint(buf, i)
            if i + size > n:
                raise ProtobufError("truncated field")
            value, i = buf[i:i + size], i + size
        elif wt in (1, 5):
            width = 8 if wt == 1 else 4
            if i + width > n:
                raise ProtobufError("truncated field")
            value, i = int.from_bytes(buf[i:i + width], "little"), i + width
        else:
            raise ProtobufError(f"unsupported wire type {wt}")
        yield num, wt, value


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _string(v: Value) -> str:
    if not isinstance(v, bytes):
        raise ProtobufError("expected a length-delimited string")
    try:
        return v.decode()
    except UnicodeDecodeError:
        raise ProtobufError("a string field is not UTF-8") from None


def _scalars(typ: str, wt: int, v: Value) -> list[Any]:
    """One field occurrence as a list of values (several when a repeated int is packed)."""
    if typ in ("int", "bool") and wt == 2:
        assert isinstance(v, bytes)
        out, i = [], 0
        while i < len(v):
            item, i = _varint(v, i)
            out.append(bool(item) if typ == "bool" else _signed(item))
        return out
    if typ == "int":
        if not isinstance(v, int):
            raise ProtobufError("expected an integer")
        return [_signed(v)]
    if typ == "bool":
        return [bool(v)]
    if typ == "string":
        return [_string(v)]
    if typ == "bytes":
        if not isinstance(v, bytes):
            raise ProtobufError("expected bytes")
        return [base64.b64encode(v).decode()]
    if not isinstance(v, bytes):
        raise ProtobufError(f"expected a {typ} message")
    if typ == "time":
        secs = nanos = 0
        for num, _, x in fields(v):
            if num == 1 and isinstance(x, int):
                secs = _signed(x)
            elif num == 2 and isinstance(x, int):
                nanos = x
        if secs == 0 and nanos == 0:
            return [None]
        return [datetime.fromtimestamp(secs, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")]
    if typ == "quantity":
        return [next((_string(x) for num, _, x in fields(v) if num == 1), "")]
    if typ == "intstr":
        kind, ival, sval = 0, 0, ""
        for num, _, x in fields(v):
            if num == 1 and isinstance(x, int):
                kind = x
            elif num == 2 and isinstance(x, int):
                ival = _signed(x)
            elif num == 3:
                sval = _string(x)
        return [sval if kind == 1 else ival]
    raise ProtobufError(f"unknown type {typ}")


def _empty(v: Any) -> bool:
    return v is None or v == "" or v == 0 or v is False or v == {} or v == []


def message(name: str, buf: bytes, path: str, warnings: list[str]) -> dict[str, Any]:
    """Decode `buf` as the message `name` into its JSON form."""
    schema = MESSAGES[name]
    out: dict[str, Any] = {}
    keep: set[str] = set()
    for num, wt, v in fields(buf):
        f = schema.get(num)
        if f is None:
            if name != "Ignored":
                warnings.append(f"protobuf field {num} of {name}{' at ' + path if path else ''} "
                                "is not supported by this server and was dropped")
            continue
        jname, typ, flags = f
        here = f"{path}.{jname}" if path else jname
        if typ.startswith("map:"):
            if not isinstance(v, bytes):
                raise ProtobufError(f"{here}: expected a map entry")
            key, val = "", ""
            for enum, ewt, ev in fields(v):
                if enum == 1:
                    key = _string(ev)
                elif enum == 2:
                    val = _scalars(typ[4:], ewt, ev)[0]
            out.setdefault(jname, {})[key] = val
            continue
        if typ in MESSAGES:
            if not isinstance(v, bytes):
                raise ProtobufError(f"{here}: expected a message")
            values: list[Any] = [message(typ, v, here, warnings)]
        else:
            values = _scalars(typ, wt, v)
        if flags & INLINE:
            out.update(values[0])
        elif flags & REPEATED:
            out.setdefault(jname, []).extend(values)
        else:
            out[jname] = values[-1]
        if flags & PTR:
            keep.add(jname)
    return {k: v for k, v in out.items() if k in keep and v is not None or not _empty(v)}


def decode(raw: bytes, default_kind: str | None = None,
           warnings: list[str] | None = None) -> dict[str, Any]:
    """A `k8s\\0`-prefixed runtime.Unknown → the wire dict of the object it wraps (with
    apiVersion and kind). `default_kind` names the message when the envelope carries no
    kind (DeleteOptions bodies may not). Unsupported fields are appended to `warnings`."""
    if not raw.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf prefix")
    api_version = kind = ""
    inner = b""
    encoding = ""
    for num, _, v in fields(raw[len(MAGIC):]):
        if num == 1 and isinstance(v, bytes):
            for tnum, _, tv in fields(v):
                if tnum == 1:
                    api_version = _string(tv)
                elif tnum == 2:
                    kind = _string(tv)
        elif num == 2 and isinstance(v, bytes):
            inner = v
        elif num == 3:
            encoding = _string(v)
    if encoding:
        raise ProtobufError(f"unsupported content encoding {encoding!r}")
    kind = kind or default_kind or ""
    name = KINDS.get((api_version, kind)) or OPTIONS_KINDS.get(kind)
    if name is None:
        raise ProtobufError(f"{api_version or '?'}/{kind or '?'} is not a kind this server reads as protobuf; "
                            "send JSON")
    obj = message(name, inner, "", warnings if warnings is not None else [])
    if kind not in OPTIONS_KINDS:
        obj = {"apiVersion": api_version, "kind": kind, **obj}
    return obj
