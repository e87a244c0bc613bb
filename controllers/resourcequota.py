"""The ResourceQuota controller: keeps each quota's `status.hard` and `status.used` equal to
what its namespace holds (kube-controller-manager's resourcequota-controller).

Admission raises `status.used` as objects are created; this controller recomputes it from
the objects themselves, so deletions free their share and a charge for a create that
failed is given back. A quota is re-synced when it changes, when a pod of its namespace
changes, and every `resync_seconds`. What a quota counts comes from api/quota.py.
"""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from api import quota
from api.models import Pod, ResourceQuota
from api.resources import ResourceInfo, by_plural
from client.errors import Conflict, NotFound
from controllers.base import Controller

log = logging.getLogger(__name__)

_LEGACY = {"pods": ("", "pods"), "services": ("", "services"), "configmaps": ("", "configmaps"),
           "secrets": ("", "secrets"), "replicationcontrollers": ("", "replicationcontrollers"),
           "persistentvolumeclaims": ("", "persistentvolumeclaims"), "resourcequotas": ("", "resourcequotas"),
           "services.nodeports": ("", "services"), "services.loadbalancers": ("", "services"),
           "requests.storage": ("", "persistentvolumeclaims")}


def counted_resources(hard: dict[str, Any]) -> set[tuple[str, str]]:
    """(group, plural) of every resource a quota's hard keys count."""
    out: set[tuple[str, str]] = set()
    for key in hard:
        if key.startswith("count/"):
            plural, _, group = key[6:].partition(".")
            out.add((group, plural))
        elif key in _LEGACY:
            out.add(_LEGACY[key])
        else:   # compute: cpu, memory, requests.*, limits.*
            out.add(("", "pods"))
    return out


def _as_dict(o: Any) -> dict[str, Any]:
    return o.to_dict() if hasattr(o, "to_dict") else dict(o)


class ResourceQuotaController(Controller):
    NAME = "resourcequota"

    def __init__(self, *args: Any, resync_seconds: float = 30.0, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.resync_seconds = resync_seconds
        self.quotas = self.watch(ResourceQuota)
        self.pods = self.watch(Pod, key_fn=self._quotas_of)

    def _quotas_of(self, obj: Any) -> list[str]:
        ns = obj.metadata.namespace
        return [k for k in self.quotas.store.keys() if k.startswith(f"{ns}/")]

    async def _objects(self, res: ResourceInfo, namespace: str) -> list[dict[str, Any]]:
        if res.group == "" and res.plural == "pods":
            return [_as_dict(p) for p in self.pods.store.list() if p.metadata.namespace == namespace]
        return [_as_dict(o) for o in (await self.client.list_all(res, namespace)).items]

    async def reconcile(self, key: str) -> None:
        cur = self.quotas.store.get(key)
        if cur is None:
            return
        q = _as_dict(cur)
        ns = q["metadata"]["namespace"]
        hard = (q.get("spec") or {}).get("hard") or {}
        used: dict[str, Decimal] = {}
        for group, plural in counted_resources(hard):
            res = by_plural(group, plural)
            if res is None:
                continue
            try:
                objs = await self._objects(res, ns)
            except NotFound:
                continue
            for o in objs:
                if plural == "pods" and o.get("metadata", {}).get("deletionTimestamp"):
                    continue
                if quota.matches_scopes(q, group, plural, o):
                    quota.add(used, {k: v for k, v in quota.usage(group, plural, o).items() if k in hard})
        status = {"hard": hard, "used": quota.used_for(q, used)}
        if q.get("status") != status:
            q["status"] = status
            try:
                await self.client.update_status(q)
            except (NotFound, Conflict):
                self.requeue_after(key, 0.2)
                return
        self.requeue_after(key, self.resync_seconds)
