"""Swagger 2.0 (`/openapi/v2`) from the v3 documents, as kube-apiserver publishes both.

Schemas keep their definition names under `#/definitions/`; a described reference
(`allOf: [$ref]` in v3) becomes `$ref` beside its description; what Swagger 2.0 cannot say
(`nullable`, `anyOf`, `oneOf`, `not`) is left out, as kube-apiserver leaves it out of a CRD's
v2 schema; IntOrString and Quantity, `oneOf` in v3, are strings with a format in v2. Request bodies become `in: body` parameters, media types `consumes`/`produces`.
"""
from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
V3_REF, V2_REF = "#/components/schemas/", "#/definitions/"
_V3_ONLY = ("nullable", "anyOf", "oneOf", "not")
SECURITY_V2 = {"BearerToken": {"type": "apiKey", "in": "header", "name": "authorization",
                               "description": "Bearer Token authentication"}}


def schema(node: Any) -> Any:
    """A v3 schema as a Swagger 2.0 one."""
    if isinstance(node, list):
        return [schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: Obj = {}
    if "oneOf" in node and "type" not in node:     # IntOrString, Quantity: a string in v2
        out["type"] = "string"
    for k, v in node.items():
        if k in _V3_ONLY:
            continue
        if k == "$ref" and isinstance(v, str):
            out[k] = v.replace(V3_REF, V2_REF)
        elif k in ("properties", "patternProperties", "definitions") and isinstance(v, dict):
            out[k] = {name: schema(s) for name, s in v.items()}
        elif k in ("x-kubernetes-group-version-kind", "enum", "required", "x-kubernetes-list-map-keys",
                   "default", "example"):
            out[k] = v
        else:
            out[k] = schema(v)
    all_of = out.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and "$ref" in all_of[0] and "properties" not in out:
        del out["allOf"]
        out = {"$ref": all_of[0]["$ref"], **out}
    return out


def _parameter(p: Obj) -> Obj:
    out = {k: v for k, v in p.items() if k != "schema"}
    out.update(p.get("schema") or {})
    return out


def _operation(op: Obj) -> Obj:
    out: Obj = {k: v for k, v in op.items() if k not in ("parameters", "requestBody", "responses")}
    params = [_parameter(p) for p in op.get("parameters") or []]
    body = op.get("requestBody")
    if body:
        content = body.get("content") or {}
        first = next(iter(content.values()), {})
        params.insert(0, {"name": "body", "in": "body", "required": bool(body.get("required")),
                          "schema": schema(first.get("schema") or {})})
        out["consumes"] = list(content)
    if params:
        out["parameters"] = params
    produces: list[str] = []
    responses: Obj = {}
    for code, resp in (op.get("responses") or {}).items():
        entry: Obj = {"description": resp.get("description", "")}
        for media, m in (resp.get("content") or {}).items():
            if media not in produces:
                produces.append(media)
            if "schema" not in entry and m.get("schema"):
                entry["schema"] = schema(m["schema"])
        responses[code] = entry
    out["produces"] = produces or ["application/json"]
    out["schemes"] = ["https"]
    out["responses"] = responses
    return out


def to_v2(docs: list[Obj], title: str, version: str) -> Obj:
    """One Swagger 2.0 document from the v3 documents of every group-version."""
    definitions: Obj = {}
    paths: Obj = {}
    for doc in docs:
        for name, s in ((doc.get("components") or {}).get("schemas") or {}).items():
            definitions.setdefault(name, schema(s))
        for path, item in (doc.get("paths") or {}).items():
            entry: Obj = {}
            for key, value in item.items():
                if key == "parameters":
                    entry[key] = [_parameter(p) for p in value]
                else:
                    entry[key] = _operation(value)
            paths[path] = entry
    return {"swagger": "2.0", "info": {"title": title, "version": version},
            "paths": dict(sorted(paths.items())), "definitions": dict(sorted(definitions.items())),
            "securityDefinitions": SECURITY_V2, "security": [{"BearerToken": []}]}


__all__ = ["schema", "to_v2"]
