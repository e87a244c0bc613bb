"""The scheduler's view of storage, and the volume binding it does for a pod before the pod
is bound (kube-scheduler's VolumeBinding plugin: its cache, AssumePodVolumes and
BindPodVolumes).

Owns `VolumeCache`: the claims, volumes and StorageClasses the scheduler's informers hold,
and the pod's claims sorted out (`pod_claims`): bound ones (with their volume) and unbound
WaitForFirstConsumer ones; an unbound claim of an Immediate class is the PV controller's to
bind first. `VolumeBinder.bind_pod_volumes(pod, node)` runs after the node is chosen and
before the `pods/binding` POST: each unbound claim gets a matching static volume on that
node (its claimRef set, the PV controller completes the binding) or, failing one, the
`volume.kubernetes.io/selected-node` annotation (its provisioner makes a volume there);
then it waits until every claim is Bound, up to `bind_timeout` seconds.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from api.models import PersistentVolume, PersistentVolumeClaim, StorageClass
from api.models.persistentvolume import SELECTED_NODE
from api.volumematch import bound_volume, claim_class, find_matching_volume
from client.rest import Client

log = logging.getLogger(__name__)
WFFC = "WaitForFirstConsumer"
DEFAULT_BIND_TIMEOUT = 600.0


class ClaimError(Exception):
    """A claim the pod names cannot be used (missing, being deleted, unbound Immediate)."""


@dataclass
class PodClaims:
    bound: list[tuple[PersistentVolumeClaim, PersistentVolume | None]] = field(default_factory=list)
    to_bind: list[PersistentVolumeClaim] = field(default_factory=list)


def claim_names(pod: dict[str, Any]) -> list[str]:
    return [str(v["persistentVolumeClaim"].get("claimName") or "")
            for v in (pod.get("spec") or {}).get("volumes") or []
            if isinstance(v.get("persistentVolumeClaim"), dict)]


class VolumeCache:
    def __init__(self) -> None:
        self.claims: dict[str, PersistentVolumeClaim] = {}
        self.volumes: dict[str, PersistentVolume] = {}
        self.classes: dict[str, StorageClass] = {}
        self.changed = asyncio.Event()

    # informer handlers: keep the dicts, wake the binders waiting for a claim to bind
    def put(self, obj: Any) -> None:
        self._store(obj)[self._key(obj)] = obj
        self.changed.set()

    def remove(self, obj: Any) -> None:
        self._store(obj).pop(self._key(obj), None)
        self.changed.set()

    def _store(self, obj: Any) -> dict[str, Any]:
        if isinstance(obj, PersistentVolumeClaim):
            return self.claims
        return self.volumes if isinstance(obj, PersistentVolume) else self.classes

    @staticmethod
    def _key(obj: Any) -> str:
        return obj.key

    def pod_claims(self, pod: dict[str, Any]) -> PodClaims:
        """The pod's claims; ClaimError (its message is kube-scheduler's) when one is unusable."""
        ns = (pod.get("metadata") or {}).get("namespace") or "default"
        out = PodClaims()
        for name in claim_names(pod):
            claim = self.claims.get(f"{ns}/{name}")
            if claim is None:
                raise ClaimError(f'persistentvolumeclaim "{name}" not found')
            if claim.metadata.deletion_timestamp:
                raise ClaimError(f'persistentvolumeclaim "{name}" is being deleted')
            volume_name = claim.spec.volume_name if claim.spec else None
            if volume_name:
                out.bound.append((claim, self.volumes.get(volume_name)))
                continue
            sc = self.classes.get(claim_class(claim))
            if sc is None or sc.volume_binding_mode != WFFC:
                raise ClaimError("pod has unbound immediate PersistentVolumeClaims")
            out.to_bind.append(claim)
        return out

    def can_provision(self, claim: PersistentVolumeClaim) -> bool:
        sc = self.classes.get(claim_class(claim))
        return sc is not None and bool(sc.provisioner) and sc.provisioner != "kubernetes.io/no-provisioner"

    def is_bound(self, namespace: str, name: str) -> bool:
        claim = self.claims.get(f"{namespace}/{name}")
        return claim is not None and bool(claim.spec and claim.spec.volume_name) and \
            (claim.status.phase if claim.status else None) == "Bound"


class VolumeBinder:
    def __init__(self, client: Client, cache: VolumeCache, bind_timeout: float = DEFAULT_BIND_TIMEOUT) -> None:
        self.client = client
        self.cache = cache
        self.bind_timeout = bind_timeout

    async def bind_pod_volumes(self, pod: dict[str, Any], node_name: str, labels: dict[str, str]) -> None:
        """Assume and bind the pod's unbound claims on `node_name`; wait for them to bind."""
        try:
            claims = self.cache.pod_claims(pod).to_bind
        except ClaimError:
            return            # the filter saw it fit; the kubelet will say what is wrong now
        if not claims:
            return
        chosen: set[str] = set()
        for claim in claims:
            pv = find_matching_volume(claim, list(self.cache.volumes.values()), (node_name, labels),
                                      excluded=chosen)
            if pv is not None:
                chosen.add(pv.name)
                await self._assume_volume(pv, claim)
            elif SELECTED_NODE not in (claim.metadata.annotations or {}) or \
                    (claim.metadata.annotations or {}).get(SELECTED_NODE) != node_name:
                await self.client.patch(PersistentVolumeClaim, claim.name, {"metadata": {
                    "annotations": {SELECTED_NODE: node_name}}}, claim.namespace)
        await self._wait_bound([(c.namespace or "default", c.name) for c in claims])

    async def _assume_volume(self, pv: PersistentVolume, claim: PersistentVolumeClaim) -> None:
        linked = bound_volume(pv, claim)
        if linked is not None:
            await self.client.update(linked)

    async def _wait_bound(self, claims: list[tuple[str, str]]) -> None:
        deadline = time.monotonic() + self.bind_timeout
        while not all(self.cache.is_bound(ns, n) for ns, n in claims):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("binding volumes: timed out waiting for the condition")
            self.cache.changed.clear()
            try:
                await asyncio.wait_for(self.cache.changed.wait(), min(left, 1.0))
            except TimeoutError:
                pass
