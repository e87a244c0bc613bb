"""The PersistentVolume controller (binder): binds claims to volumes and keeps both phases.

Owns the I/O around controllers.pv_logic (Kubernetes' PersistentVolumeController): two
kinds of keys on one queue, `("claim", "ns/name")` and `("volume", name)`; informers of
claims, volumes and StorageClasses; and the writes of `bind()` in Kubernetes' order - the
volume's claimRef, the volume's phase (Bound), the claim's volumeName and bind-completed
annotation, the claim's status (Bound, with the volume's access modes and capacity) - each
compare-and-swap on the cached resourceVersion, so a stale cache costs a retry.

Dynamic provisioning is external, as with CSI: an unbound claim of a class is annotated
with the class's provisioner (`volume.kubernetes.io/storage-provisioner`), which creates a
volume pre-bound to it; a released volume with reclaimPolicy Delete that such a
provisioner made is left for it to delete. WaitForFirstConsumer claims wait until the
scheduler names a node (`volume.kubernetes.io/selected-node`). A volume or claim change
re-queues the pending claims, and every claim and volume is re-checked every
`resync_period` seconds (Kubernetes' 15 s sync period).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from api.models import PersistentVolume, PersistentVolumeClaim, StorageClass
from api.volumematch import bound_volume
from client.errors import NotFound
from client.events import EventRecorder
from client.rest import Client
from client.store import object_key
from controllers import pv_logic as logic
from controllers.base import Controller, SharedInformers

log = logging.getLogger(__name__)
CLAIM, VOLUME = "claim", "volume"


class PersistentVolumeController(Controller):
    NAME = "persistentvolume-binder-controller"

    def __init__(self, client: Client, informers: SharedInformers,
                 recorder: EventRecorder | None = None, *, resync_period: float = 15.0) -> None:
        super().__init__(client, informers, recorder)
        self.resync_period = resync_period
        self.claims = self.watch(PersistentVolumeClaim, lambda c: (CLAIM, object_key(c)))
        self.volumes = self.watch(PersistentVolume, self._volume_keys)
        self.classes = self.watch(StorageClass, lambda sc: self._pending_claims())
        self.claims.add_handlers(on_update=lambda o, n: self._enqueue(self._volume_of(n)),
                                 on_delete=lambda c: self._enqueue(self._volume_of(c)))

    # ---------------------------------------------------------------- keys
    def _volume_keys(self, pv: PersistentVolume) -> list[tuple[str, str]]:
        keys = [(VOLUME, pv.name)]
        ref = pv.spec.claim_ref if pv.spec else None
        if ref is not None and ref.name:
            keys.append((CLAIM, f"{ref.namespace}/{ref.name}"))
        return keys + self._pending_claims()

    def _volume_of(self, claim: PersistentVolumeClaim) -> list[tuple[str, str]]:
        name = claim.spec.volume_name if claim.spec else None
        return [(VOLUME, name)] if name else []

    def _pending_claims(self) -> list[tuple[str, str]]:
        return [(CLAIM, c.key) for c in self.claims.store.list()
                if not (c.spec and c.spec.volume_name) and not c.metadata.deletion_timestamp]

    async def run(self, workers: int = 1) -> None:
        resync = asyncio.create_task(self._resync(), name="pv-controller-resync")
        try:
            await super().run(workers)
        finally:
            resync.cancel()
            await asyncio.gather(resync, return_exceptions=True)

    async def _resync(self) -> None:
        if self.resync_period <= 0:
            return
        while not self.queue.shutting_down:
            await asyncio.sleep(self.resync_period)
            for c in self.claims.store.list():
                self.queue.add((CLAIM, c.key))
            for v in self.volumes.store.list():
                self.queue.add((VOLUME, v.name))

    # ---------------------------------------------------------------- sync
    async def reconcile(self, key: tuple[str, str]) -> None:
        kind, name = key
        try:
            if kind == CLAIM:
                claim = self.claims.store.get(name)
                if claim is not None and not claim.metadata.deletion_timestamp:
                    await self.sync_claim(claim)
            else:
                pv = self.volumes.store.get(name)
                if pv is not None:
                    await self.sync_volume(pv)
        except NotFound:
            pass            # gone meanwhile: its delete event brings the next step

    def _classes(self) -> dict[str, StorageClass]:
        return {sc.name: sc for sc in self.classes.store.list()}

    async def sync_claim(self, claim: PersistentVolumeClaim) -> None:
        volumes = {pv.name: pv for pv in self.volumes.store.list()}
        d = logic.decide_claim(claim, volumes, self._classes())
        if d.event is not None:
            self.record(claim, *d.event)
        if d.action == "bind" and d.volume is not None:
            await self.bind(d.volume, claim)
        elif d.action == "provision":
            annotated = logic.provisioning_claim(claim, d.provisioner)
            if annotated is not None:
                claim = await self.client.update(annotated)
            await self._claim_phase(claim, "Pending")
        elif d.action == "lost":
            await self._claim_phase(claim, "Lost")
        else:
            await self._claim_phase(claim, "Pending")

    async def bind(self, pv: PersistentVolume, claim: PersistentVolumeClaim) -> None:
        """bind(): volume claimRef, volume phase, claim volumeName, claim phase."""
        linked = bound_volume(pv, claim)
        if linked is not None:
            pv = await self.client.update(linked)
        status = logic.volume_status(pv, "Bound")
        if status is not None:
            pv = await self._write_volume_status(pv, status)
        linked_claim = logic.bound_claim(claim, pv)
        if linked_claim is not None:
            claim = await self.client.update(linked_claim)
        await self._claim_phase(claim, "Bound", pv)

    async def _claim_phase(self, claim: PersistentVolumeClaim, phase: str,
                           pv: PersistentVolume | None = None) -> None:
        status = logic.claim_status(claim, phase, pv)
        if status is not None:
            target = claim.model_copy(deep=True)
            target.status = status
            await self.client.update_status(target)

    async def _write_volume_status(self, pv: PersistentVolume, status: Any) -> PersistentVolume:
        target = pv.model_copy(deep=True)
        target.status = status
        return await self.client.update_status(target)  # type: ignore[no-any-return]

    async def sync_volume(self, pv: PersistentVolume) -> None:
        d = logic.decide_volume(pv, lambda ns, n: self.claims.store.get_by_name(ns, n))
        if d.claim_key is not None:
            self.queue.add((CLAIM, d.claim_key))
        if d.unbind:
            pv = await self.client.update(logic.unbound_volume(pv))
        if d.phase is not None:
            status = logic.volume_status(pv, d.phase)
            if status is not None:
                pv = await self._write_volume_status(pv, status)
        if d.reclaim:
            r = logic.reclaim(pv, lambda provisioner: bool(provisioner))
            if r.event is not None:
                self.record(pv, *r.event)
            if r.phase is not None:
                status = logic.volume_status(pv, r.phase, r.message)
                if status is not None:
                    await self._write_volume_status(pv, status)
