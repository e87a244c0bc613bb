"""Self-subject reviews: what `kubectl auth can-i` and `kubectl auth whoami` ask.

pykube authorizes every authenticated user as a cluster administrator (bearer tokens from
the data dir, no RBAC), so the answers are simple and true:
- `authorization.k8s.io/v1` SelfSubjectAccessReview: `allowed: true` for any verb/resource;
- `authorization.k8s.io/v1` SelfSubjectRulesReview: one `*` rule for resources and URLs;
- `authentication.k8s.io/v1` (and v1beta1) SelfSubjectReview: the user's name and groups.
Bodies are JSON or protobuf (kubectl sends protobuf); answers are JSON.
"""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from apiserver import errors
from apiserver.request import json_response, parse_object_body, read_body

GROUPS = ["system:masters", "system:authenticated"]
REASON = "pykube authorizes every authenticated user as a cluster administrator"
_PATHS = {
    "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews": ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
    "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews": ("authorization.k8s.io/v1", "SelfSubjectRulesReview"),
    "/apis/authentication.k8s.io/v1/selfsubjectreviews": ("authentication.k8s.io/v1", "SelfSubjectReview"),
    "/apis/authentication.k8s.io/v1beta1/selfsubjectreviews": ("authentication.k8s.io/v1beta1", "SelfSubjectReview"),
}


def handles(path: str) -> bool:
    return path.rstrip("/") in _PATHS


async def review(request: Request, user: str) -> Response:
    api_version, kind = _PATHS[request.url.path.rstrip("/")]
    if request.method != "POST":
        raise errors.method_not_allowed()
    raw = await read_body(request)
    body = parse_object_body(raw, request.headers.get("content-type", ""), []) if raw.strip() else {}
    out: dict[str, Any] = {"kind": kind, "apiVersion": api_version, "metadata": {}}
    if kind == "SelfSubjectAccessReview":
        out["spec"] = body.get("spec") or {}
        out["status"] = {"allowed": True, "reason": REASON}
    elif kind == "SelfSubjectRulesReview":
        out["spec"] = body.get("spec") or {}
        out["status"] = {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                         "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                         "incomplete": False}
    else:
        out["status"] = {"userInfo": {"username": user, "groups": GROUPS}}
    return json_response(out, 201)
