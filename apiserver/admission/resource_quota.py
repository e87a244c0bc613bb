"""ResourceQuota admission: a create that would take a namespace past one of its quotas is
refused with Kubernetes' text (`exceeded quota: team-quota, requested: pods=1, used:
pods=4, limited: pods=4`), and a pod that leaves a constrained resource unstated with
`failed quota: ... must specify ...`.

Charges are made the way kube-apiserver makes them: the quota's `status.used` is raised by a
compare-and-swap write on the quota object before the object is stored, so concurrent
creates cannot both take the last unit. Should the create then fail, the charge is given
back; the resourcequota controller recomputes `status.used` from what exists in any case.
A quota whose usage was never computed (no controller yet) is computed here from the
watch cache.
"""
from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from api import quota
from api.quantity import parse_quantity
from api.resources import ResourceInfo, by_plural
from apiserver import errors, wire
from apiserver.admission import AdmissionPlugin, Obj, Reservation
from apiserver.storage.interface import Backend, ConflictError
from apiserver.watchcache import WatchCache


class ResourceQuotaAdmission(AdmissionPlugin):
    NAME = "ResourceQuota"

    def __init__(self, cache: WatchCache, backend: Backend) -> None:
        self.cache, self.backend = cache, backend
        self.quotas = cache.cache(by_plural("", "resourcequotas"))  # type: ignore[arg-type]

    def handles(self, resource: ResourceInfo) -> bool:
        return resource.namespaced

    def computed_usage(self, q: Obj, namespace: str) -> dict[str, Decimal]:
        """Usage of the quota's resources from what the watch cache holds."""
        hard = set(((q.get("spec") or {}).get("hard") or {}))
        total: dict[str, Decimal] = {}
        for rc in list(self.cache.caches.values()):
            res = rc.resource
            if res is None or not res.namespaced:
                continue
            for co in rc.select(namespace, None):
                obj = co.obj    # decoded once: the cache keeps only the bytes
                if obj.get("metadata", {}).get("deletionTimestamp") and res.plural == "pods":
                    continue
                if quota.matches_scopes(q, res.group, res.plural, obj):
                    quota.add(total, {k: v for k, v in quota.usage(res.group, res.plural, obj).items()
                                      if k in hard})
        return total

    async def admit_create(self, resource: ResourceInfo, obj: Obj, res: Reservation) -> None:
        ns = (obj.get("metadata") or {}).get("namespace") or ""
        if not self.quotas.by_namespace.get(ns):
            return
        delta = quota.usage(resource.group, resource.plural, obj)
        if not delta:
            return
        name = (obj.get("metadata") or {}).get("name") or ""
        for co in list(self.quotas.select(ns, None)):
            q = co.obj
            hard = (q.get("spec") or {}).get("hard") or {}
            if not quota.matches_scopes(q, resource.group, resource.plural, obj):
                continue
            missing = quota.missing_limits(q, resource.group, resource.plural, obj)
            if missing:
                raise errors.forbidden(f'{resource.group_resource} "{name}" is forbidden: {missing}', resource, name)
            if not set(hard) & set(delta):
                continue
            charge = {k: v for k, v in delta.items() if k in hard}
            await self._charge(resource, name, co.key, ns, charge)
            res.on_abort(lambda key=co.key, charge=charge: _later(self._refund(key, charge)))

    async def _charge(self, resource: ResourceInfo, name: str, key: str, ns: str,
                      charge: dict[str, Decimal]) -> None:
        for _ in range(10):
            kv = await self.backend.get(key)
            if kv is None:
                return
            q = wire.loads(kv.value)
            status = q.setdefault("status", {})
            used_raw = status.get("used")
            used = ({k: parse_quantity(v) for k, v in used_raw.items()} if used_raw is not None
                    else self.computed_usage(q, ns))
            text = quota.exceeded(q, used, charge)
            if text:
                raise errors.forbidden(f'{resource.group_resource} "{name}" is forbidden: {text}', resource, name)
            quota.add(used, charge)
            status["hard"] = (q.get("spec") or {}).get("hard") or {}
            status["used"] = quota.used_for(q, used)
            try:
                await self.backend.update(key, wire.dumps(q), kv.mod_revision)
                return
            except ConflictError:
                continue
        raise errors.APIError(409, "Conflict", "Operation cannot be fulfilled on resourcequotas: "
                              "too many concurrent changes to the quota; please retry")

    async def _refund(self, key: str, charge: dict[str, Decimal]) -> None:
        for _ in range(10):
            kv = await self.backend.get(key)
            if kv is None:
                return
            q = wire.loads(kv.value)
            used_raw = (q.get("status") or {}).get("used") or {}
            used = {k: parse_quantity(v) for k, v in used_raw.items()}
            quota.add(used, {k: -v for k, v in charge.items()})
            q["status"]["used"] = quota.used_for(q, {k: max(v, Decimal(0)) for k, v in used.items()})
            try:
                await self.backend.update(key, wire.dumps(q), kv.mod_revision)
                return
            except ConflictError:
                continue


_pending: set[asyncio.Task[Any]] = set()


def _later(coro: Any) -> None:
    """Run a refund after the failed write (abort callbacks are synchronous)."""
    task = asyncio.ensure_future(coro)
    _pending.add(task)
    task.add_done_callback(_pending.discard)
