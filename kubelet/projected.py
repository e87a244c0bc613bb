"""Projected and downwardAPI volumes: files made from several sources into one directory.

- `serviceAccountToken`: a token for the pod's ServiceAccount, bound to the pod, from the
  TokenRequest API (`POST .../serviceaccounts/<name>/token`), re-requested when 80 % of its
  life has passed (as the kubelet's token manager does);
- `configMap` / `secret`: keys as files (items, modes, optional), as their own volumes do;
- `downwardAPI`: pod fields (`metadata.name`, `namespace`, `uid`, `labels`, `annotations`,
  ...) and container resources as files.
`downward_files` is pure; `ProjectedVolumes.files` fetches what the sources name.
"""
from __future__ import annotations

import time
from typing import Any, Awaitable, Callable

from api.models.core import KeyToPath
from api.models.pod import Pod
from client.errors import NotFound
from client.rest import Client
from kubelet.env import EnvError, PodContext, field_ref

Files = dict[str, tuple[bytes, int]]
Fetch = Callable[[str, str, str], Awaitable[dict[str, bytes]]]


class ProjectionError(Exception):
    pass


def downward_files(pod: Pod, items: list[dict[str, Any]], mode: int, ctx: PodContext) -> Files:
    out: Files = {}
    for it in items:
        ref = it.get("fieldRef")
        if ref is None:
            raise ProjectionError(f"downwardAPI item {it.get('path')!r}: only fieldRef is supported")
        try:
            value = field_ref(pod, ref.get("fieldPath", ""), ctx)
        except EnvError as e:
            raise ProjectionError(str(e)) from None
        out[it["path"]] = (value.encode(), it.get("mode") or mode)
    return out


def _keys(data: dict[str, bytes], items: list[dict[str, Any]] | None, mode: int, what: str) -> Files:
    from kubelet.volumes import project
    keys = [KeyToPath.model_validate(i) for i in items] if items else None
    return project(data, keys, mode, what)


class ProjectedVolumes:
    def __init__(self, client: Client, fetch: Fetch) -> None:
        self.client, self.fetch = client, fetch
        self._tokens: dict[tuple[str, str, str, int], tuple[bytes, float, float]] = {}

    async def token(self, pod: Pod, audience: str | None, seconds: int) -> bytes:
        ns, uid = pod.metadata.namespace or "default", pod.metadata.uid or ""
        sa = (pod.spec.service_account_name if pod.spec else None) or "default"
        key = (uid, sa, audience or "", seconds)
        cached = self._tokens.get(key)
        now = time.time()
        if cached and now < cached[1] + 0.8 * (cached[2] - cached[1]):
            return cached[0]
        spec: dict[str, Any] = {"expirationSeconds": seconds, "boundObjectRef": {
            "kind": "Pod", "apiVersion": "v1", "name": pod.metadata.name, "uid": uid}}
        if audience:
            spec["audiences"] = [audience]
        resp = await self.client.request("POST", f"/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token",
                                         json={"apiVersion": "authentication.k8s.io/v1",
                                               "kind": "TokenRequest", "spec": spec})
        token = resp.json()["status"]["token"].encode()
        self._tokens[key] = (token, now, now + seconds)
        return token

    def forget(self, uid: str) -> None:
        for k in [k for k in self._tokens if k[0] == uid]:
            del self._tokens[k]

    async def files(self, pod: Pod, volume: dict[str, Any], ctx: PodContext, downward_only: bool) -> Files:
        """The files of a projected (or, `downward_only`, a downwardAPI) volume."""
        mode = volume.get("defaultMode")
        mode = 0o644 if mode is None else mode
        if downward_only:
            return downward_files(pod, volume.get("items") or [], mode, ctx)
        ns = pod.metadata.namespace or "default"
        out: Files = {}
        for src in volume.get("sources") or []:
            if "serviceAccountToken" in src:
                t = src["serviceAccountToken"]
                token = await self.token(pod, t.get("audience"), t.get("expirationSeconds") or 3600)
                out[t.get("path") or "token"] = (token, mode)
            elif "downwardAPI" in src:
                out.update(downward_files(pod, src["downwardAPI"].get("items") or [], mode, ctx))
            elif "configMap" in src or "secret" in src:
                what = "configmap" if "configMap" in src else "secret"
                s = src.get("configMap") or src.get("secret") or {}
                try:
                    data = await self.fetch(what, ns, s.get("name", ""))
                except NotFound:
                    if s.get("optional"):
                        continue
                    raise ProjectionError(f'{what} "{s.get("name")}" not found') from None
                out.update(_keys(data, s.get("items"), mode, what))
            elif "clusterTrustBundle" in src:
                raise ProjectionError("clusterTrustBundle projections are not supported")
        return out
