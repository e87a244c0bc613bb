"""The OpenAPI documents, built from the live resource table and cached.

- `v3(gv_path)`: one group-version (`api/v1`, `apis/apps/v1`): its paths and the schemas
  they use, each kind's from its model (api/models) or its strategy's `openapi_schema()`
  (a CRD's `openAPIV3Schema`);
- `v3_root()`: `{"paths": {"apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=H"}}}`,
  H being the document's ETag (the upper-case hex SHA-512 of its bytes, as kube-openapi);
- `v2()`: Swagger 2.0, every group-version in one document (`#/definitions/...`).

Each document is built on first request and kept with its ETag. The cache follows the
resource table: a change of its generation (a CRD established, changed or removed) drops
it, and `invalidate()` drops it at once for callers that change what a strategy publishes.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from api.models import MODELS
from api.resources import ResourceInfo, all_resources, generation
from apiserver import strategies
from apiserver.openapi.paths import ResourcePaths
from apiserver.openapi.schemas import REF, Definitions
from apiserver.openapi.v2 import to_v2

Obj = dict[str, Any]
TITLE, VERSION = "Kubernetes", "v1.31.0"
SECURITY_V3 = {"BearerToken": {"type": "apiKey", "in": "header", "name": "authorization",
                               "description": "Bearer Token authentication"}}


@dataclass(frozen=True)
class Document:
    body: bytes
    etag: str

    @classmethod
    def of(cls, doc: Obj) -> "Document":
        body = json.dumps(doc, separators=(",", ":")).encode()
        return cls(body, hashlib.sha512(body).hexdigest().upper())


_cache: dict[str, Document] = {}
_seen_generation = -1


def invalidate() -> None:
    """Forget every built document (the next request rebuilds from the table)."""
    _cache.clear()


def _fresh() -> None:
    global _seen_generation
    if _seen_generation != generation():
        _cache.clear()
        _seen_generation = generation()


def gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def group_versions() -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for r in all_resources():
        if (r.group, r.version) not in seen:
            seen.append((r.group, r.version))
    return seen


def build_v3(resources: list[ResourceInfo]) -> Obj:
    """The v3 document of these resources (one group-version's): pure over the table,
    the models and the strategies."""
    models = {m.RESOURCE: m for m in MODELS if hasattr(m, "RESOURCE")}
    d = Definitions()
    paths: Obj = {}
    for r in resources:
        custom = strategies.for_resource(r).openapi_schema()
        model = models.get(r)
        item = d.add_kind(r, model, custom)
        paths.update(ResourcePaths(d, r, item, custom=model is None or custom is not None).build())
    for short in ("Status", "DeleteOptions", "Patch", "WatchEvent"):
        d.add_common(short)
    return {"openapi": "3.0.0", "info": {"title": TITLE, "version": VERSION},
            "paths": dict(sorted(paths.items())),
            "components": {"schemas": dict(sorted(d.schemas.items())), "securitySchemes": SECURITY_V3},
            "security": [{"BearerToken": []}]}


def v3(path: str) -> Document | None:
    """The document of one group-version path (`apis/apps/v1`), None if nothing is served there."""
    _fresh()
    key = "v3:" + path
    if key not in _cache:
        res = [r for r in all_resources() if gv_path(r.group, r.version) == path]
        if not res:
            return None
        _cache[key] = Document.of(build_v3(res))
    return _cache[key]


def v3_root() -> Document:
    _fresh()
    if "v3root" not in _cache:
        paths: Obj = {}
        for g, v in group_versions():
            p = gv_path(g, v)
            doc = v3(p)
            if doc is not None:
                paths[p] = {"serverRelativeURL": f"/openapi/v3/{p}?hash={doc.etag}"}
        _cache["v3root"] = Document.of({"paths": paths})
    return _cache["v3root"]


def v2() -> Document:
    """Swagger 2.0 of everything served."""
    _fresh()
    if "v2" not in _cache:
        docs = []
        for g, v in group_versions():
            one = v3(gv_path(g, v))
            if one is not None:
                docs.append(json.loads(one.body))
        _cache["v2"] = Document.of(to_v2(docs, TITLE, VERSION))
    return _cache["v2"]


__all__ = ["Document", "REF", "build_v3", "group_versions", "gv_path", "invalidate", "v2", "v3", "v3_root"]
