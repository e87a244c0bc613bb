"""DefaultTolerationSeconds: every new pod tolerates the not-ready and unreachable NoExecute
taints for a while (300 s by default), so a short node outage does not evict it at once."""
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
        spec = obj.setdefault("spec", {})
        tols: list[dict[str, Any]] = spec.get("tolerations") or []
        for key in (NOT_READY_TAINT, UNREACHABLE_TAINT):
            if any(t.get("key") == key and t.get("effect") in (None, "", "NoExecute") or
                   (t.get("operator") == "Exists" and not t.get("key")) for t in tols):
                continue
            tols.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                         "tolerationSeconds": self.seconds})
        spec["tolerations"] = tols
