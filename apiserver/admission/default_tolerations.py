"""DefaultTolerationSeconds: every pod tolerates the not-ready and unreachable NoExecute
taints for a while (300 s by default), so a short node outage does not evict it at once.

Like kube's plugin it runs on create and on update: a re-applied manifest whose tolerations
replace the stored list gets the defaults back, so the update keeps every toleration the pod
had (pod updates may only add tolerations)."""
from __future__ import annotations

from typing import Any

from api.resources import ResourceInfo
from apiserver.admission import AdmissionPlugin, Obj, Reservation

NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"


class DefaultTolerationSeconds(AdmissionPlugin):
    NAME = "DefaultTolerationSeconds"
    MUTATING = True

    def __init__(self, seconds: int = 300) -> None:
        self.seconds = seconds

    def handles(self, resource: ResourceInfo) -> bool:
        return resource.group == "" and resource.kind == "Pod"

    async def admit_create(self, resource: ResourceInfo, obj: Obj, res: Reservation) -> None:
        self._add_defaults(obj)

    async def admit_update(self, resource: ResourceInfo, new: Obj, old: Obj, res: Reservation) -> None:
        self._add_defaults(new)

    def _add_defaults(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        tols: list[dict[str, Any]] = spec.get("tolerations") or []
        for key in (NOT_READY_TAINT, UNREACHABLE_TAINT):
            if any(t.get("key") == key and t.get("effect") in (None, "", "NoExecute") or
                   (t.get("operator") == "Exists" and not t.get("key")) for t in tols):
                continue
            tols.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                         "tolerationSeconds": self.seconds})
        spec["tolerations"] = tols
