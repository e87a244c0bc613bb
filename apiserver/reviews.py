"""Access and identity reviews: what `kubectl auth can-i` and `kubectl auth whoami` ask, and
what other components ask about a user.

- `authorization.k8s.io/v1` SelfSubjectAccessReview: may I do this (the RBAC authorizer's
  answer for the requesting user); SubjectAccessReview (cluster) and LocalSubjectAccessReview
  (namespaced): may this user do it (needs `create` on them);
- SelfSubjectRulesReview: the rules the requesting user holds in a namespace;
- `authentication.k8s.io/v1` (and v1beta1) SelfSubjectReview: the user's name and groups;
  TokenReview: who a bearer token authenticates as (what `kr8s whoami` and webhooks ask).
These are virtual: created, answered, never stored. Bodies are JSON or protobuf (kubectl
sends protobuf); answers are JSON.
"""
from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from apiserver import errors
from apiserver.auth.authorizer import Authorizer
from apiserver.auth.rbac import Attributes
from apiserver.auth.user import MASTERS, UserInfo
from apiserver.request import json_response, parse_object_body, read_body

_AUTHZ = "authorization.k8s.io/v1"
_PATHS = {
    "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews": (_AUTHZ, "SelfSubjectAccessReview"),
    "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews": (_AUTHZ, "SelfSubjectRulesReview"),
    "/apis/authorization.k8s.io/v1/subjectaccessreviews": (_AUTHZ, "SubjectAccessReview"),
    "/apis/authentication.k8s.io/v1/selfsubjectreviews": ("authentication.k8s.io/v1", "SelfSubjectReview"),
    "/apis/authentication.k8s.io/v1/tokenreviews": ("authentication.k8s.io/v1", "TokenReview"),
    "/apis/authentication.k8s.io/v1beta1/selfsubjectreviews": ("authentication.k8s.io/v1beta1", "SelfSubjectReview"),
}
_LOCAL = re.compile(r"^/apis/authorization\.k8s\.io/v1/namespaces/([^/]+)/localsubjectaccessreviews/?$")
#: the plural each review is created as, for authorizing the create itself
PLURALS = {"SelfSubjectAccessReview": "selfsubjectaccessreviews",
           "SelfSubjectRulesReview": "selfsubjectrulesreviews",
           "SubjectAccessReview": "subjectaccessreviews",
           "LocalSubjectAccessReview": "localsubjectaccessreviews",
           "SelfSubjectReview": "selfsubjectreviews",
           "TokenReview": "tokenreviews"}


def handles(path: str) -> bool:
    return path.rstrip("/") in _PATHS or bool(_LOCAL.match(path))


def target(path: str) -> tuple[str, str, str]:
    """(apiVersion, kind, namespace) of a review path."""
    m = _LOCAL.match(path)
    if m:
        return _AUTHZ, "LocalSubjectAccessReview", m.group(1)
    api_version, kind = _PATHS[path.rstrip("/")]
    return api_version, kind, ""


def _attributes(user: UserInfo, spec: dict[str, Any], namespace: str = "") -> Attributes:
    ra = spec.get("resourceAttributes")
    if ra:
        return Attributes(user, ra.get("verb") or "", namespace or ra.get("namespace") or "",
                          ra.get("group") or "", ra.get("resource") or "", ra.get("subresource") or "",
                          ra.get("name") or "")
    nra = spec.get("nonResourceAttributes") or {}
    return Attributes(user, nra.get("verb") or "", path=nra.get("path") or "", resource_request=False)


def _rules_review(authorizer: Authorizer, user: UserInfo, namespace: str) -> dict[str, Any]:
    if MASTERS in user.groups:
        rules = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
                 {"verbs": ["*"], "nonResourceURLs": ["*"]}]
    else:
        rules = authorizer.index().rules_for(user, namespace)
    resource_rules, url_rules = [], []
    for r in rules:
        if r.get("nonResourceURLs"):
            url_rules.append({"verbs": r["verbs"], "nonResourceURLs": r["nonResourceURLs"]})
        else:
            rr = {"verbs": r.get("verbs") or [], "apiGroups": r.get("apiGroups") or [],
                  "resources": r.get("resources") or []}
            if r.get("resourceNames"):
                rr["resourceNames"] = r["resourceNames"]
            resource_rules.append(rr)
    return {"resourceRules": resource_rules, "nonResourceRules": url_rules, "incomplete": False}


async def review(request: Request, user: UserInfo, authorizer: Authorizer,
                 authenticator: Any = None) -> Response:
    api_version, kind, namespace = target(request.url.path)
    if request.method != "POST":
        raise errors.method_not_allowed()
    raw = await read_body(request)
    body = parse_object_body(raw, request.headers.get("content-type", ""), []) if raw.strip() else {}
    spec = body.get("spec") or {}
    out: dict[str, Any] = {"kind": kind, "apiVersion": api_version,
                           "metadata": {"creationTimestamp": None}}
    if kind == "SelfSubjectReview":
        out["status"] = {"userInfo": user.to_wire()}
        return json_response(out, 201)
    out["spec"] = spec
    if kind == "TokenReview":
        found = authenticator.authenticate(f"Bearer {spec.get('token') or ''}") if authenticator else None
        out["status"] = ({"authenticated": True, "user": found.to_wire(),
                          "audiences": spec.get("audiences") or []} if found else
                         {"authenticated": False, "user": {}, "error": "invalid bearer token"})
        return json_response(out, 201)
    if kind == "SelfSubjectRulesReview":
        out["status"] = _rules_review(authorizer, user, spec.get("namespace") or "")
        return json_response(out, 201)
    if kind in ("SubjectAccessReview", "LocalSubjectAccessReview"):
        if not spec.get("user") and not spec.get("groups"):
            raise errors.APIError(422, "Invalid", f'{kind}.authorization.k8s.io "" is invalid: spec.user: '
                                  'Invalid value: "": at least one of user or group must be specified')
        subject = UserInfo(spec.get("user") or "", tuple(spec.get("groups") or ()), spec.get("uid") or "")
        if kind == "LocalSubjectAccessReview":
            out["metadata"]["namespace"] = namespace
    else:
        subject = user
    allowed = authorizer.allowed(_attributes(subject, spec, namespace))
    out["status"] = {"allowed": allowed}
    return json_response(out, 201)
