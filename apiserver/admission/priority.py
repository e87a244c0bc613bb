"""Priority: a new pod's `priorityClassName` becomes its `spec.priority` and
`preemptionPolicy` (the cluster's globalDefault class when it names none, else priority 0);
a class that does not exist, or a priority the pod states itself that differs, is refused
with kube-apiserver's words. A second globalDefault PriorityClass is refused too."""
from __future__ import annotations

from api.resources import ResourceInfo
from apiserver import errors
from apiserver.admission import AdmissionPlugin, Obj, Reservation
from apiserver.watchcache import ResourceCache


class Priority(AdmissionPlugin):
    NAME = "Priority"
    MUTATING = True

    def __init__(self, classes: ResourceCache) -> None:
        self.classes = classes

    def handles(self, resource: ResourceInfo) -> bool:
        return (resource.group, resource.kind) in (("", "Pod"), ("scheduling.k8s.io", "PriorityClass"))

    def _all(self) -> list[Obj]:
        return [co.obj for co in self.classes.select(None, None)]

    async def admit_create(self, resource: ResourceInfo, obj: Obj, res: Reservation) -> None:
        if resource.kind == "PriorityClass":
            self._only_one_default(resource, obj)
            return
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        meta = obj.get("metadata") or {}
        pod = meta.get("name") or meta.get("generateName") or ""
        name = spec.get("priorityClassName") or ""
        if name:
            pc = next((c for c in self._all() if c["metadata"]["name"] == name), None)
            if pc is None:
                raise errors.forbidden(f'pods "{pod}" is forbidden: no PriorityClass with name {name} was found',
                                       resource, pod)
        else:
            pc = next((c for c in self._all() if c.get("globalDefault")), None)
        value = int(pc.get("value") or 0) if pc else 0
        if spec.get("priority") is not None and spec["priority"] != value:
            raise errors.forbidden(f'pods "{pod}" is forbidden: the integer value of priority ({spec["priority"]}) '
                                   "must not be provided in pod spec; priority admission controller computed "
                                   f"{value} from the given PriorityClass name", resource, pod)
        spec["priority"] = value
        if pc is None:
            return
        spec["priorityClassName"] = pc["metadata"]["name"]
        policy = pc.get("preemptionPolicy") or "PreemptLowerPriority"
        if spec.get("preemptionPolicy") not in (None, policy):
            raise errors.forbidden(f'pods "{pod}" is forbidden: the string value of PreemptionPolicy '
                                   f'({spec["preemptionPolicy"]}) must not be provided in pod spec; priority '
                                   f"admission controller computed {policy} from the given PriorityClass name",
                                   resource, pod)
        spec["preemptionPolicy"] = policy

    async def admit_update(self, resource: ResourceInfo, new: Obj, old: Obj, res: Reservation) -> None:
        if resource.kind == "PriorityClass":
            self._only_one_default(resource, new)

    def _only_one_default(self, resource: ResourceInfo, obj: Obj) -> None:
        if not obj.get("globalDefault"):
            return
        name = (obj.get("metadata") or {}).get("name") or ""
        for c in self._all():
            if c.get("globalDefault") and c["metadata"]["name"] != name:
                raise errors.forbidden(f'priorityclasses.scheduling.k8s.io "{name}" is forbidden: PriorityClass '
                                       f'{c["metadata"]["name"]} is already marked as default. Only one default can '
                                       "exist", resource, name)
