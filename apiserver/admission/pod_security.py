"""PodSecurity admission: a namespace labelled `pod-security.kubernetes.io/enforce=baseline`
(or `restricted`) refuses pods that break that Pod Security Standard, with Kubernetes'
message (`violates PodSecurity "baseline:latest": privileged (...)`); the checks are
api/podsecurity.py's. Namespaces without the label are `privileged` (anything goes).
`warn` and `audit` labels are accepted but not acted on (no warnings are returned)."""
from __future__ import annotations

from api import podsecurity
from api.resources import ResourceInfo
from apiserver import errors
from apiserver.admission import AdmissionPlugin, Obj, Reservation
from apiserver.watchcache import ResourceCache

ENFORCE = "pod-security.kubernetes.io/enforce"


class PodSecurity(AdmissionPlugin):
    NAME = "PodSecurity"

    def __init__(self, namespaces: ResourceCache) -> None:
        self.namespaces = namespaces

    def handles(self, resource: ResourceInfo) -> bool:
        return resource.group == "" and resource.plural == "pods"

    async def admit_create(self, resource: ResourceInfo, obj: Obj, res: Reservation) -> None:
        meta = obj.get("metadata") or {}
        ns = self.namespaces.objects.get(self.namespaces.resource.storage_key(None, meta.get("namespace") or ""))
        labels = ((ns.obj.get("metadata") or {}).get("labels") or {}) if ns else {}
        level = labels.get(ENFORCE, "privileged")
        if level not in podsecurity.LEVELS:
            return
        problems = podsecurity.violations(level, obj.get("spec") or {})
        if problems:
            version = labels.get(f"{ENFORCE}-version", "latest")
            name = meta.get("name") or ""
            raise errors.forbidden(f'pods "{name}" is forbidden: violates PodSecurity "{level}:{version}": '
                                   + ", ".join(problems), resource, name)
