"""Logins (I/O at the edge, decisions pure): who the browser user is to the API.

The dashboard holds no power of its own over the cluster: a user logs in with a bearer
token or a kubeconfig (pasted), and every API call of their view is made with exactly
those credentials, so the apiserver's authentication and RBAC decide what they see, and
the same holds against any Kubernetes cluster. Only the credentials are taken from a
pasted kubeconfig: the server and its CA are always the dashboard's own (`--kubeconfig`),
and file paths, exec plugins and auth providers are refused (they would read the
dashboard host's files or run its programs).

Sessions live in memory only, keyed by a random id in an HttpOnly, Secure, SameSite=Strict
cookie; a session idle for `ttl` seconds is closed with its watches.
"""
from __future__ import annotations

import base64
import dataclasses
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import yaml

from client.errors import ApiError, Unauthorized
from client.kubeconfig import ClientConfig
from client.rest import Client
from dashboard.view import ClusterView

COOKIE = "pykube-dashboard"


class LoginError(Exception):
    """Credentials that cannot be used: the message says why, for the login page."""


def credentials(base: ClientConfig, token: str = "", kubeconfig_text: str = "",
                namespace: str = "") -> ClientConfig:
    """The user's `ClientConfig`: the dashboard's server and CA with the user's token, or
    the inline credentials of a pasted kubeconfig's current context."""
    plain = dataclasses.replace(base, token=None, cert_file=None, key_file=None, cert_data=None,
                                key_data=None, namespace=namespace or "default", source=None)
    token = token.strip()
    if token:
        return dataclasses.replace(plain, token=token)
    if not kubeconfig_text.strip():
        raise LoginError("give a bearer token or a kubeconfig")
    try:
        doc = yaml.safe_load(kubeconfig_text)
    except yaml.YAMLError as e:
        raise LoginError(f"the kubeconfig is not YAML: {e}") from e
    if not isinstance(doc, dict):
        raise LoginError("the kubeconfig is not a mapping")
    ctx_name = doc.get("current-context") or next((c.get("name") for c in doc.get("contexts") or []), None)
    ctx = next((c.get("context") or {} for c in doc.get("contexts") or [] if c.get("name") == ctx_name), None)
    if ctx is None:
        raise LoginError("the kubeconfig has no current context")
    user = next((u.get("user") or {} for u in doc.get("users") or [] if u.get("name") == ctx.get("user")), None)
    if not user:
        raise LoginError(f"the kubeconfig has no user {ctx.get('user')!r}")
    refused = [k for k in ("tokenFile", "client-certificate", "client-key", "exec", "auth-provider") if user.get(k)]
    if refused:
        raise LoginError(f"the kubeconfig's user uses {', '.join(refused)}; paste inline credentials "
                         "(token, client-certificate-data, client-key-data)")
    ns = namespace or ctx.get("namespace") or "default"
    if user.get("token"):
        return dataclasses.replace(plain, token=str(user["token"]), namespace=ns)
    if user.get("client-certificate-data") and user.get("client-key-data"):
        try:
            cert = base64.b64decode(user["client-certificate-data"])
            key = base64.b64decode(user["client-key-data"])
        except ValueError as e:
            raise LoginError(f"the kubeconfig's certificate data is not base64: {e}") from e
        return dataclasses.replace(plain, cert_data=cert, key_data=key, namespace=ns)
    raise LoginError("the kubeconfig's user has neither a token nor client certificate data")


@dataclass
class Session:
    id: str
    user: str
    groups: list[str]
    namespace: str
    client: Client
    view: ClusterView
    last_used: float = field(default_factory=time.monotonic)


async def whoami(client: Client) -> tuple[str, list[str]]:
    """The user the API sees (a SelfSubjectReview); raises LoginError when the API refuses
    the credentials."""
    try:
        resp = await client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                    json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    except Unauthorized as e:
        raise LoginError("the API does not accept these credentials (401 Unauthorized)") from e
    except ApiError:
        return "(unknown user)", []      # a server without SelfSubjectReview: the lists will tell
    info: dict[str, Any] = (resp.json().get("status") or {}).get("userInfo") or {}
    return str(info.get("username") or "(unknown user)"), list(info.get("groups") or [])


class Sessions:
    def __init__(self, base: ClientConfig, ttl: float = 8 * 3600) -> None:
        self.base = base
        self.ttl = ttl
        self._by_id: dict[str, Session] = {}

    async def login(self, token: str = "", kubeconfig_text: str = "", namespace: str = "") -> Session:
        cfg = credentials(self.base, token, kubeconfig_text, namespace)
        try:
            client = Client(cfg, component="pykube-dashboard", warning_handler=None)
        except (OSError, ValueError) as e:      # a key that does not match its certificate
            raise LoginError(f"the credentials cannot be used: {e}") from e
        try:
            user, groups = await whoami(client)
        except BaseException:
            await client.close()
            raise
        s = Session(secrets.token_urlsafe(32), user, groups, cfg.namespace, client,
                    ClusterView(client, cfg.namespace))
        self._by_id[s.id] = s
        return s

    def get(self, sid: str | None) -> Session | None:
        s = self._by_id.get(sid or "")
        if s is not None:
            s.last_used = time.monotonic()
        return s

    async def logout(self, sid: str | None) -> None:
        s = self._by_id.pop(sid or "", None)
        if s is not None:
            await s.view.stop()
            await s.client.close()

    async def expire(self, now: float | None = None) -> int:
        """Close the sessions idle longer than ttl; returns how many."""
        now = time.monotonic() if now is None else now
        old = [sid for sid, s in self._by_id.items() if now - s.last_used > self.ttl]
        for sid in old:
            await self.logout(sid)
        return len(old)

    async def close(self) -> None:
        for sid in list(self._by_id):
            await self.logout(sid)
