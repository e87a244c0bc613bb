"""The PVC and PV protection controllers: the finalizers `kubernetes.io/pvc-protection` and
`kubernetes.io/pv-protection` (added when the objects are created) are removed only when
nothing uses the object any more, so deleting a claim under a running pod, or a bound
volume, waits instead of pulling storage out from under it.

- a claim being deleted is released once no pod of its namespace that is not yet
  terminated (Succeeded/Failed) names it in a persistentVolumeClaim volume; pod events
  re-queue the claims they name;
- a volume being deleted is released once it is not Bound.
Each removal is a merge patch carrying the cached resourceVersion.
"""
from __future__ import annotations

from typing import Any

from api.models import PersistentVolume, PersistentVolumeClaim, Pod
from api.models.persistentvolume import PV_PROTECTION, PVC_PROTECTION
from client.errors import NotFound
from client.events import EventRecorder
from client.rest import Client
from controllers.base import Controller, SharedInformers


def claims_of(pod: Pod) -> list[str]:
    """`ns/claim` of every persistentVolumeClaim volume of the pod."""
    ns = pod.metadata.namespace or "default"
    return [f"{ns}/{v.persistent_volume_claim.get('claimName')}"
            for v in (pod.spec.volumes if pod.spec else None) or []
            if v.persistent_volume_claim and v.persistent_volume_claim.get("claimName")]


def pod_uses(pod: Pod, claim_key: str) -> bool:
    phase = pod.status.phase if pod.status else None
    return phase not in ("Succeeded", "Failed") and claim_key in claims_of(pod)


def without(meta: Any, finalizer: str) -> dict[str, Any]:
    fins = [f for f in meta.finalizers or [] if f != finalizer]
    return {"metadata": {"finalizers": fins or None, "resourceVersion": meta.resource_version}}


class PVCProtectionController(Controller):
    NAME = "pvc-protection-controller"

    def __init__(self, client: Client, informers: SharedInformers,
                 recorder: EventRecorder | None = None) -> None:
        super().__init__(client, informers, recorder)
        self.claims = self.watch(PersistentVolumeClaim)
        self.pods = informers.get(Pod)
        self.pods.add_handlers(on_add=lambda p: self._enqueue(claims_of(p)),
                               on_update=lambda o, n: self._enqueue(claims_of(n)),
                               on_delete=lambda p: self._enqueue(claims_of(p)))
        self._watched.append(self.pods)

    async def reconcile(self, key: str) -> None:
        claim = self.claims.store.get(key)
        if claim is None or not claim.metadata.deletion_timestamp or \
                PVC_PROTECTION not in (claim.metadata.finalizers or []):
            return
        ns = claim.metadata.namespace or ""
        if any(pod_uses(p, key) for p in self.pods.store.by_index("namespace", ns)):
            return
        try:
            await self.client.patch(PersistentVolumeClaim, claim.name, without(claim.metadata, PVC_PROTECTION), ns)
        except NotFound:
            pass


class PVProtectionController(Controller):
    NAME = "pv-protection-controller"

    def __init__(self, client: Client, informers: SharedInformers,
                 recorder: EventRecorder | None = None) -> None:
        super().__init__(client, informers, recorder)
        self.volumes = self.watch(PersistentVolume)

    async def reconcile(self, key: str) -> None:
        pv = self.volumes.store.get(key)
        if pv is None or not pv.metadata.deletion_timestamp or \
                PV_PROTECTION not in (pv.metadata.finalizers or []):
            return
        if (pv.status.phase if pv.status else None) == "Bound":
            return
        try:
            await self.client.patch(PersistentVolume, pv.name, without(pv.metadata, PV_PROTECTION))
        except NotFound:
            pass
