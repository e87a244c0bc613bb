"""Request plumbing shared by the REST handlers: parsing paths, bodies and Accept headers,
and building JSON responses.

Owns `parse_resource_path` (Kubernetes REST path → resource, namespace, name, subresource,
looked up in the resource table as it is now, so CRDs route as soon as they are served),
body decoding (JSON, YAML, or Kubernetes protobuf via `protobuf.py`; the 3 MiB limit, with
an oversized body read and dropped before the 413 so every client sees it), the
Table negotiation of `Accept`, and small response helpers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import Response

from api.resources import ResourceInfo, by_plural
from apiserver import errors, protobuf, wire

MAX_BODY = 3 * 1024 * 1024
JSON = "application/json"
PATCH_TYPES = {"application/merge-patch+json": "merge", "application/json-patch+json": "json",
               "application/apply-patch+yaml": "apply",
               "application/strategic-merge-patch+json": "strategic"}


@dataclass(frozen=True)
class Target:
    resource: ResourceInfo
    namespace: str | None
    name: str | None
    subresource: str | None


def parse_resource_path(group: str, version: str, segments: list[str], path: str) -> Target:
    """Segments after `/api/v1` or `/apis/<g>/<v>`."""
    segs = [s for s in segments if s]
    ns: str | None = None
    if len(segs) >= 3 and segs[0] == "namespaces" and segs[2] not in ("status", "finalize"):
        ns, segs = segs[1], segs[2:]
    if len(segs) > 3 and segs[2] == "proxy":   # .../NAME/proxy/<path on the backend>
        segs = segs[:3]
    if not segs or len(segs) > 3:
        raise errors.resource_not_found(path)
    res = by_plural(group, segs[0], version)
    if res is None:
        raise errors.resource_not_found(path)
    if ns is not None and not res.namespaced:
        raise errors.resource_not_found(path)
    name = segs[1] if len(segs) > 1 else None
    sub = segs[2] if len(segs) > 2 else None
    if sub is not None and sub not in res.subresources:
        raise errors.resource_not_found(path)
    return Target(res, ns, name, sub)


#: how much of an oversized body is read (and thrown away) before the 413 is sent: a client
#: that writes its whole body before reading (urllib, the Python client) then reads the
#: Status instead of a connection reset
DRAIN_LIMIT = 64 * 1024 * 1024


async def _drain(request: Request, already: int) -> None:
    size = already
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > DRAIN_LIMIT:
                return
    except Exception:  # noqa: BLE001 - the client gave up (disconnect, reset): nothing more to read
        return


async def read_body(request: Request) -> bytes:
    """The request body, at most `MAX_BODY` bytes (413 RequestEntityTooLarge past that).

    An oversized body is still read to its end, and dropped, up to `DRAIN_LIMIT`: a client
    that sends its whole body before reading the answer (Python's urllib, the official
    Python client) would otherwise meet a connection reset, not the 413 Status. A body
    declared larger than that bound is answered at once."""
    length = request.headers.get("content-length")
    if length and int(length) > MAX_BODY:
        if int(length) <= DRAIN_LIMIT:
            await _drain(request, 0)
        raise errors.too_large(MAX_BODY)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            await _drain(request, size)
            raise errors.too_large(MAX_BODY)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_object(raw: bytes, content_type: str, warnings: list[str] | None = None,
                 default_kind: str | None = None) -> Any:
    """A JSON, YAML or Kubernetes-protobuf body as Python data. Protobuf fields this server
    does not read are named in `warnings`; `default_kind` is the message of a protobuf
    envelope that names no kind."""
    if not raw.strip():
        raise errors.bad_request("the request body is empty")
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == protobuf.CONTENT_TYPE:
        try:
            return protobuf.decode(raw, default_kind, warnings)
        except protobuf.ProtobufError as e:
            raise errors.bad_request(f"the body of the request could not be decoded as protobuf: {e}") from None
    if "protobuf" in ctype:
        raise errors.unsupported_media_type(ctype)
    try:
        if ctype.endswith("yaml"):
            return yaml.safe_load(raw)
        return wire.loads(raw)
    except (ValueError, yaml.YAMLError) as e:
        what = "yaml" if ctype.endswith("yaml") else "json"
        raise errors.bad_request(f"the body of the request could not be decoded as {what}: {str(e).splitlines()[0]}") from None


def parse_object_body(raw: bytes, content_type: str, warnings: list[str] | None = None,
                      default_kind: str | None = None) -> dict[str, Any]:
    obj = parse_object(raw, content_type, warnings, default_kind)
    if not isinstance(obj, dict):
        raise errors.bad_request("the body of the request must be a JSON or YAML object")
    return obj


def json_response(obj: Any, code: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = obj if isinstance(obj, bytes) else wire.dumps(obj)
    return Response(body, status_code=code, media_type=JSON, headers=headers)


def table_include(request: Request, query: dict[str, str]) -> str | None:
    """None unless the client asked for a Table (`Accept: ...;as=Table`); else what each
    row carries: "Metadata" (the default), "Object" or "None" (`includeObject`)."""
    if "as=Table" not in request.headers.get("accept", ""):
        return None
    include = query.get("includeObject") or "Metadata"
    if include not in ("Metadata", "Object", "None"):
        raise errors.bad_request(f'includeObject: unsupported value "{include}"')
    return include


def warning_headers(warnings: list[str]) -> dict[str, str]:
    if not warnings:
        return {}
    # one header value; starlette joins duplicates poorly, so comma-join as HTTP allows; the
    # text is a quoted-string, `"` and `\` escaped, as kube-apiserver writes it
    return {"Warning": ", ".join(f'299 - "{_quoted(w)}"' for w in warnings[:20])}


def _quoted(text: str) -> str:
    """A quoted-string's content: `"` and `\\` escaped; what a header cannot carry (past
    Latin-1, control characters) as Go's %q writes it, `\\u00e9`-style."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    if text.isascii() and text.isprintable():
        return text
    return "".join(c if c.isascii() and c.isprintable() else
                   (f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}") for c in text)
