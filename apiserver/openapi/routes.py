"""The HTTP side of the OpenAPI documents, as kube-openapi's handlers serve them.

- `GET /openapi/v3`: the root, naming each group-version's URL with `?hash=<ETag>`;
- `GET /openapi/v3/<gv>`: with the current `hash`, cacheable for ever (`Cache-Control:
  public, immutable`, `Expires` a year ahead); with a stale one, 301 to the current URL;
- `GET /openapi/v2`: JSON; kube's protobuf form (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`,
  gnostic's `openapi_v2.Document`) when asked for it;
- every answer carries its quoted `ETag`; `If-None-Match` with it gets 304; an `Accept` that
  allows none of the forms gets 406 Not Acceptable.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from apiserver import errors
from apiserver.openapi import documents, proto_v2

JSON = "application/json"
PROTO_V2 = ("application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
            "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")


def _accepts(request: Request, offered: tuple[str, ...]) -> str | None:
    """The first of `offered` that the Accept header allows (JSON when there is none)."""
    header = request.headers.get("accept", "").strip()
    if not header:
        return offered[0]
    for clause in header.split(","):
        media = clause.split(";")[0].strip().lower()
        params = [p.strip() for p in clause.split(";")[1:]]
        if "q=0" in params:
            continue
        major, _, minor = media.partition("/")
        for want in offered:
            w_major, _, w_minor = want.partition("/")
            if major in (w_major, "*") and minor in (w_minor, "*"):
                return want
    return None


def _answer(request: Request, body: bytes, etag: str, media: str,
            extra: dict[str, str] | None = None) -> Response:
    quoted = f'"{etag}"'
    headers = {"ETag": quoted, "Vary": "Accept", **(extra or {})}
    inm = request.headers.get("if-none-match", "")
    if inm and (inm.strip() == "*" or quoted in [t.strip() for t in inm.split(",")]):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media, headers=headers)


def _not_acceptable() -> Response:
    return Response("406 - Not Acceptable", status_code=406, media_type="text/plain")


async def v3_root(request: Request) -> Response:
    if _accepts(request, (JSON,)) is None:
        return _not_acceptable()
    doc = documents.v3_root()
    return _answer(request, doc.body, doc.etag, JSON)


async def v3_group_version(request: Request) -> Response:
    gv = request.path_params["gv"].strip("/")
    doc = documents.v3(gv)
    if doc is None:
        raise errors.resource_not_found(f"/openapi/v3/{gv}")
    if _accepts(request, (JSON,)) is None:
        return _not_acceptable()
    want = request.query_params.get("hash")
    extra: dict[str, str] = {}
    if want:
        if want != doc.etag:
            return RedirectResponse(f"/openapi/v3/{gv}?hash={doc.etag}", status_code=301)
        expires = datetime.now(timezone.utc) + timedelta(days=365)
        extra = {"Cache-Control": "public, immutable", "Expires": format_datetime(expires, usegmt=True)}
    return _answer(request, doc.body, doc.etag, JSON, extra)


async def v2(request: Request) -> Response:
    media = _accepts(request, (JSON, *PROTO_V2))
    if media is None:
        return _not_acceptable()
    if media == JSON:
        doc = documents.v2()
        return _answer(request, doc.body, doc.etag, JSON)
    body, etag = proto_v2.document()
    return _answer(request, body, etag, PROTO_V2[1])   # kube answers with the name without "@"


ROUTES = (("/openapi/v3", v3_root), ("/openapi/v3/{gv:path}", v3_group_version), ("/openapi/v2", v2))

__all__ = ["ROUTES", "v2", "v3_group_version", "v3_root"]
