"""Who may use the kubelet's HTTPS API: upstream kubelet's webhook authentication and
authorization, asked of the apiserver.

- `request_attributes(method, path)` (pure) is kubelet's GetRequestAttributes: the path
  names a subresource of this Node (`/stats...` stats, `/metrics...` metrics, `/logs...`
  log, `/spec...` spec, `/checkpoint...` checkpoint, everything else, `containerLogs`,
  `pods`, `exec`, `attach`, `portForward`, `run`, proxy) and the method a verb (GET get,
  POST create, PUT update, PATCH patch, DELETE delete). The endpoints that run something
  in a container (`exec`, `attach`, `portForward`, `run`) always need `create`: a
  WebSocket arrives as a GET, and reading must not be enough to run commands (the rule
  kube-apiserver applies to pods/exec since 1.35).
- `KubeletAuth.check(header, method, path)`: the caller's bearer token is the kubelet's
  own, or one a TokenReview authenticates; the user is then allowed by a
  SubjectAccessReview of `verb` on `nodes/<subresource>` named after this node (what the
  apiserver's own token, a cluster admin's, always is). Answers are cached as upstream's
  defaults: identities 2 minutes, allowed 5 minutes, denied 30 seconds.
Refusals are upstream's plain texts: 401 "Unauthorized", 403 "Forbidden (user=..., verb=...,
resource=nodes, subresource=...)"; 503 when the apiserver cannot be asked.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from client.errors import APIError, ConnectionFailed
from client.rest import Client

log = logging.getLogger("kubelet.auth")
AUTHN_TTL, ALLOWED_TTL, DENIED_TTL = 120.0, 300.0, 30.0
_VERBS = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_SUBRESOURCES = (("/stats", "stats"), ("/metrics", "metrics"), ("/logs", "log"), ("/spec", "spec"),
                 ("/checkpoint", "checkpoint"))
_RUNS_SOMETHING = ("/exec", "/attach", "/portForward", "/portforward", "/run")


def request_attributes(method: str, path: str) -> tuple[str, str]:
    """(verb, subresource of nodes) a request to the kubelet needs."""
    def under(prefix: str) -> bool:
        return path == prefix or path.startswith(prefix + "/")
    sub = next((s for prefix, s in _SUBRESOURCES if under(prefix)), "proxy")
    verb = "create" if any(under(p) for p in _RUNS_SOMETHING) else _VERBS.get(method.upper(), method.lower())
    return verb, sub


@dataclass(frozen=True)
class Refusal:
    code: int
    message: str


@dataclass(frozen=True)
class Caller:
    name: str
    uid: str
    groups: tuple[str, ...]
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()


class KubeletAuth:
    def __init__(self, client: Client, own_token: str | None, node_name: str) -> None:
        self.client, self.own_token, self.node_name = client, own_token, node_name
        self._callers: dict[str, tuple[float, Caller | None]] = {}
        self._decisions: dict[tuple[Caller, str, str], tuple[float, bool]] = {}

    async def check(self, header: str | None, method: str, path: str) -> Refusal | None:
        """None when the request may go on, else why not."""
        if not header or not header.startswith("Bearer "):
            return Refusal(401, "Unauthorized")
        token = header[7:].strip()
        if self.own_token and token == self.own_token:
            return None
        try:
            caller = await self._authenticate(token)
            if caller is None:
                return Refusal(401, "Unauthorized")
            verb, sub = request_attributes(method, path)
            if await self._allowed(caller, verb, sub):
                return None
        except (ConnectionFailed, APIError) as e:
            log.warning("cannot ask the apiserver about a caller of %s %s: %s", method, path, e)
            return Refusal(503, f"the apiserver could not be asked: {e}")
        return Refusal(403, f"Forbidden (user={caller.name}, verb={verb}, resource=nodes, subresource={sub})")

    async def _authenticate(self, token: str) -> Caller | None:
        now = time.monotonic()
        hit = self._callers.get(token)
        if hit is not None and hit[0] > now:
            return hit[1]
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
        status = (await self.client.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                                            json=body)).json().get("status") or {}
        caller = None
        if status.get("authenticated"):
            user: dict[str, Any] = status.get("user") or {}
            extra = tuple(sorted((k, tuple(v)) for k, v in (user.get("extra") or {}).items()))
            caller = Caller(user.get("username") or "", user.get("uid") or "", tuple(user.get("groups") or ()), extra)
        self._callers[token] = (now + AUTHN_TTL, caller)
        return caller

    async def _allowed(self, caller: Caller, verb: str, sub: str) -> bool:
        now = time.monotonic()
        key = (caller, verb, sub)
        hit = self._decisions.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        spec: dict[str, Any] = {"user": caller.name, "groups": list(caller.groups),
                                "resourceAttributes": {"verb": verb, "resource": "nodes", "subresource": sub,
                                                       "name": self.node_name}}
        if caller.uid:
            spec["uid"] = caller.uid
        if caller.extra:
            spec["extra"] = {k: list(v) for k, v in caller.extra}
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}
        status = (await self.client.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                                            json=body)).json().get("status") or {}
        allowed = bool(status.get("allowed"))
        self._decisions[key] = (now + (ALLOWED_TTL if allowed else DENIED_TTL), allowed)
        return allowed
