"""DefaultIngressClass: a new Ingress that names no class (neither spec.ingressClassName nor
the old `kubernetes.io/ingress.class` annotation) gets the cluster's default IngressClass,
the one annotated `ingressclass.kubernetes.io/is-default-class: "true"` (the newest, should
there be several), as kube-apiserver's plugin of that name does."""
from __future__ import annotations

from api.resources import ResourceInfo
from apiserver.admission import AdmissionPlugin, Obj, Reservation
from apiserver.admission.default_storage_class import newest
from apiserver.watchcache import ResourceCache

DEFAULT_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"


def default_class(classes: list[Obj]) -> str | None:
    defaults = [c for c in classes
                if ((c.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_ANNOTATION) == "true"]
    return newest(defaults)


class DefaultIngressClass(AdmissionPlugin):
    NAME = "DefaultIngressClass"
    MUTATING = True

    def __init__(self, classes: ResourceCache) -> None:
        self.classes = classes

    def handles(self, resource: ResourceInfo) -> bool:
        return resource.group == "networking.k8s.io" and resource.plural == "ingresses"

    async def admit_create(self, resource: ResourceInfo, obj: Obj, res: Reservation) -> None:
        spec = obj.get("spec")
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if not isinstance(spec, dict) or spec.get("ingressClassName") is not None or CLASS_ANNOTATION in annotations:
            return
        name = default_class([co.obj for co in self.classes.select(None, None)])
        if name is not None:
            spec["ingressClassName"] = name
