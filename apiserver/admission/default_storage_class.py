"""DefaultStorageClass: a new PersistentVolumeClaim that names no storageClassName (the
field absent, not "") gets the cluster's default StorageClass, the one annotated
`storageclass.kubernetes.io/is-default-class: "true"` (the newest, should there be
several), as kube-apiserver's plugin of that name does."""
from __future__ import annotations

from api.resources import ResourceInfo
from apiserver.admission import AdmissionPlugin, Obj, Reservation
from apiserver.watchcache import ResourceCache

DEFAULT_ANNOTATIONS = ("storageclass.kubernetes.io/is-default-class",
                       "storageclass.beta.kubernetes.io/is-default-class")


def default_class(classes: list[Obj]) -> str | None:
    defaults = [c for c in classes
                if any(((c.get("metadata") or {}).get("annotations") or {}).get(a) == "true"
                       for a in DEFAULT_ANNOTATIONS)]
    if not defaults:
        return None
    newest = max(defaults, key=lambda c: ((c["metadata"].get("creationTimestamp") or ""),
                                          c["metadata"].get("name") or ""))
    return str(newest["metadata"]["name"])


class DefaultStorageClass(AdmissionPlugin):
    NAME = "DefaultStorageClass"
    MUTATING = True

    def __init__(self, classes: ResourceCache) -> None:
        self.classes = classes

    def handles(self, resource: ResourceInfo) -> bool:
        return resource.group == "" and resource.plural == "persistentvolumeclaims"

    async def admit_create(self, resource: ResourceInfo, obj: Obj, res: Reservation) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict) or spec.get("storageClassName") is not None:
            return
        name = default_class([co.obj for co in self.classes.select(None, None)])
        if name is not None:
            spec["storageClassName"] = name
