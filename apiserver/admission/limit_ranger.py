"""LimitRanger: a namespace's LimitRanges fill in container requests and limits a pod does
not state (`default`, `defaultRequest`) and refuse one outside `min` / `max` /
`maxLimitRequestRatio`, in Kubernetes' words (the decisions are api/quota.py's)."""
from __future__ import annotations

from api import quota
from api.resources import ResourceInfo
from apiserver import errors
from apiserver.admission import AdmissionPlugin, Obj, Reservation
from apiserver.watchcache import ResourceCache


class LimitRanger(AdmissionPlugin):
    NAME = "LimitRanger"
    MUTATING = True

    def __init__(self, limit_ranges: ResourceCache) -> None:
        self.limit_ranges = limit_ranges

    def handles(self, resource: ResourceInfo) -> bool:
        return resource.group == "" and resource.plural == "pods"

    async def admit_create(self, resource: ResourceInfo, obj: Obj, res: Reservation) -> None:
        ns = (obj.get("metadata") or {}).get("namespace") or ""
        ranges = [co.obj for co in self.limit_ranges.select(ns, None)]
        if not ranges:
            return
        problems = quota.apply_limit_ranges(obj, ranges)
        if problems:
            name = (obj.get("metadata") or {}).get("name") or ""
            text = problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]"
            raise errors.forbidden(f'pods "{name}" is forbidden: {text}', resource, name)
