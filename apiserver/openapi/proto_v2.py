"""`/openapi/v2` in kube's protobuf form: gnostic's `openapi.v2.Document` message.

kubectl's discovery client asks for Swagger 2.0 only as
`application/com.github.proto-openapi.spec.v2@v1.0+protobuf` (`kubectl explain
--output=plaintext-openapiv2`, and older kubectls for validation and patches). This module
writes the JSON document of v2.py as that message: the field numbers are gnostic's
OpenAPIv2.proto; vendor extensions, enums and defaults are `Any` values carried as YAML,
as gnostic writes them. Only what the JSON document holds is encoded.
"""
from __future__ import annotations

import hashlib
import json
import struct
from typing import Any

import yaml

Obj = dict[str, Any]


# ---------------------------------------------------------------- wire format
def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _bytes(field: int, data: bytes) -> bytes:
    return _key(field, 2) + _varint(len(data)) + data


def _str(field: int, value: Any) -> bytes:
    return _bytes(field, str(value).encode()) if value not in (None, "") else b""


def _bool(field: int, value: Any) -> bytes:
    return _key(field, 0) + b"\x01" if value else b""


def _int(field: int, value: Any) -> bytes:
    return _key(field, 0) + _varint(int(value)) if value else b""


def _double(field: int, value: Any) -> bytes:
    return _key(field, 1) + struct.pack("<d", float(value)) if value is not None else b""


def _strings(field: int, values: Any) -> bytes:
    return b"".join(_bytes(field, str(v).encode()) for v in values or [])


def _any(field: int, value: Any) -> bytes:
    """gnostic's Any: the value as YAML (field 2)."""
    return _bytes(field, _str(2, yaml.safe_dump(value, default_flow_style=False, sort_keys=True)))


def _named(field: int, name: str, value: bytes) -> bytes:
    return _bytes(field, _str(1, name) + _bytes(2, value))


def _extensions(field: int, node: Obj) -> bytes:
    return b"".join(_bytes(field, _str(1, k) + _any(2, v)) for k, v in node.items() if k.startswith("x-"))


# ---------------------------------------------------------------- messages
def schema(s: Obj) -> bytes:
    out = [_str(1, s.get("$ref")), _str(2, s.get("format")), _str(3, s.get("title")),
           _str(4, s.get("description"))]
    if "default" in s:
        out.append(_any(5, s["default"]))
    for num, key in ((6, "multipleOf"), (7, "maximum"), (9, "minimum")):
        if key in s:
            out.append(_double(num, s[key]))
    out += [_bool(8, s.get("exclusiveMaximum")), _bool(10, s.get("exclusiveMinimum"))]
    for num, key in ((11, "maxLength"), (12, "minLength"), (14, "maxItems"), (15, "minItems"),
                     (17, "maxProperties"), (18, "minProperties")):
        out.append(_int(num, s.get(key)))
    out += [_str(13, s.get("pattern")), _bool(16, s.get("uniqueItems")), _strings(19, s.get("required"))]
    out += [_any(20, v) for v in s.get("enum") or []]
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        out.append(_bytes(21, _bytes(1, schema(extra))))
    elif isinstance(extra, bool):
        out.append(_bytes(21, _key(2, 0) + (b"\x01" if extra else b"\x00")))
    if s.get("type"):
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        out.append(_bytes(22, _strings(1, types)))
    if isinstance(s.get("items"), dict):
        out.append(_bytes(23, _bytes(1, schema(s["items"]))))
    out += [_bytes(24, schema(sub)) for sub in s.get("allOf") or []]
    if s.get("properties"):
        out.append(_bytes(25, b"".join(_named(1, k, schema(v)) for k, v in s["properties"].items())))
    out.append(_bool(27, s.get("readOnly")))
    if "example" in s:
        out.append(_any(30, s["example"]))
    out.append(_extensions(31, s))
    return b"".join(out)


def _parameter(p: Obj) -> bytes:
    if p.get("in") == "body":
        body = _str(1, p.get("description")) + _str(2, p.get("name")) + _str(3, "body") + \
            _bool(4, p.get("required")) + _bytes(5, schema(p.get("schema") or {}))
        return _bytes(1, _bytes(1, body))
    sub = _bool(1, p.get("required")) + _str(2, p.get("in")) + _str(3, p.get("description")) + \
        _str(4, p.get("name"))
    if p.get("in") == "path":
        sub += _str(5, p.get("type")) + _bool(19, p.get("uniqueItems"))
        which = 4
    else:   # query (pykube publishes no header or form parameters)
        sub += _str(6, p.get("type")) + _bool(20, p.get("uniqueItems"))
        which = 3
    return _bytes(1, _bytes(2, _bytes(which, sub)))


def _parameters(field: int, params: list[Obj]) -> bytes:
    return b"".join(_bytes(field, _parameter(p)) for p in params)


def _operation(op: Obj) -> bytes:
    responses = b"".join(
        _named(1, code, _bytes(1, _str(1, r.get("description")) +
                               (_bytes(2, _bytes(1, schema(r["schema"]))) if r.get("schema") else b"")))
        for code, r in (op.get("responses") or {}).items())
    return b"".join([_strings(1, op.get("tags")), _str(2, op.get("summary")), _str(3, op.get("description")),
                     _str(5, op.get("operationId")), _strings(6, op.get("produces")),
                     _strings(7, op.get("consumes")), _parameters(8, op.get("parameters") or []),
                     _bytes(9, responses), _strings(10, op.get("schemes")), _bool(11, op.get("deprecated")),
                     _extensions(13, op)])


_METHODS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def _path_item(item: Obj) -> bytes:
    out = [_bytes(num, _operation(item[m])) for m, num in _METHODS.items() if m in item]
    out.append(_parameters(9, item.get("parameters") or []))
    return b"".join(out)


def _security_definitions(defs: Obj) -> bytes:
    items = b""
    for name, d in defs.items():
        api_key = _str(1, d.get("type")) + _str(2, d.get("name")) + _str(3, d.get("in")) + \
            _str(4, d.get("description"))
        items += _named(1, name, _bytes(2, api_key))
    return items


def _security(reqs: list[Obj]) -> bytes:
    return b"".join(_bytes(12, b"".join(_named(1, k, _strings(1, v)) for k, v in req.items())) for req in reqs)


def encode(doc: Obj) -> bytes:
    """The gnostic `openapi.v2.Document` of a Swagger 2.0 JSON document."""
    info = doc.get("info") or {}
    paths = b"".join(_named(2, p, _path_item(item)) for p, item in (doc.get("paths") or {}).items())
    definitions = b"".join(_named(1, n, schema(s)) for n, s in (doc.get("definitions") or {}).items())
    return b"".join([_str(1, doc.get("swagger")),
                     _bytes(2, _str(1, info.get("title")) + _str(2, info.get("version"))),
                     _bytes(8, paths), _bytes(9, definitions),
                     _security(doc.get("security") or []),
                     _bytes(13, _security_definitions(doc.get("securityDefinitions") or {}))])


def document() -> tuple[bytes, str]:
    """(protobuf bytes, their ETag) of the current v2 document, kept while it is current."""
    from apiserver.openapi import documents
    doc = documents.v2()
    cached = _cache.get(doc.etag)
    if cached is None:
        _cache.clear()
        body = encode(json.loads(doc.body))
        cached = _cache[doc.etag] = (body, hashlib.sha512(body).hexdigest().upper())
    return cached


_cache: dict[str, tuple[bytes, str]] = {}

__all__ = ["document", "encode", "schema"]
