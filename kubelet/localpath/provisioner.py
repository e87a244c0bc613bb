"""The local-path provisioner of one node: makes and removes the directories behind
`local-path` PersistentVolumes on this node.

Owns the I/O around kubelet.localpath.logic: make sure the default StorageClass exists
(never changing one a user edited), watch claims and volumes, and
- for a claim this node must provision: create its directory (mode 0777, as k3s), then the
  PersistentVolume pre-bound to it (the PV controller completes the binding); events
  `Provisioning` and `ProvisioningSucceeded` on the claim, as the external provisioner
  library records them;
- for a Released volume of ours with reclaimPolicy Delete: remove its directory, then the
  PersistentVolume.
A volume already existing for a claim is not made twice (the name is the claim's uid).
"""
from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

from api.models import PersistentVolume, PersistentVolumeClaim, StorageClass
from client.errors import AlreadyExists, APIError, NotFound
from client.events import NORMAL, WARNING, EventRecorder
from client.informer import Informer
from client.rest import Client
from client.store import object_key
from client.workqueue import WorkQueue, run_workers
from kubelet.localpath import logic

log = logging.getLogger(__name__)


class LocalPathProvisioner:
    def __init__(self, client: Client, node_name: str, root: Path, *, ensure_class: bool = True) -> None:
        self.client = client
        self.node = node_name
        self.root = root
        self.ensure_class = ensure_class
        self.queue = WorkQueue("local-path-provisioner")
        self.claims = Informer(client, PersistentVolumeClaim)
        self.volumes = Informer(client, PersistentVolume)
        self.classes = Informer(client, StorageClass)
        self.claims.add_handlers(on_add=self._claim, on_update=lambda o, n: self._claim(n))
        self.volumes.add_handlers(on_add=self._volume, on_update=lambda o, n: self._volume(n))
        self.recorder = EventRecorder(client, f"{logic.PROVISIONER}_{node_name}")

    def _claim(self, claim: PersistentVolumeClaim) -> None:
        self.queue.add(("claim", object_key(claim)))

    def _volume(self, pv: PersistentVolume) -> None:
        self.queue.add(("volume", pv.name))

    async def run(self) -> None:
        if self.ensure_class:
            await self.ensure_default_class()
        informers = (self.classes, self.claims, self.volumes)
        try:
            for inf in informers:
                await inf.start()
            for inf in informers:
                await inf.wait_synced()
            await run_workers(self.queue, self.reconcile, 2)
        finally:
            self.queue.shutdown()
            for inf in informers:
                await inf.stop()
            await self.recorder.close(1.0)

    async def ensure_default_class(self) -> None:
        try:
            await self.client.get(StorageClass, logic.CLASS_NAME)
        except NotFound:
            try:
                await self.client.create(logic.default_class())
                log.info("created the default StorageClass %s", logic.CLASS_NAME)
            except AlreadyExists:
                pass

    async def reconcile(self, key: tuple[str, str]) -> None:
        kind, name = key
        if kind == "claim":
            claim = self.claims.store.get(name)
            if claim is not None:
                await self.provision(claim)
        else:
            pv = self.volumes.store.get(name)
            if pv is not None and logic.should_delete(pv, self.node):
                await self.delete(pv)

    async def provision(self, claim: PersistentVolumeClaim) -> None:
        cls = (claim.spec.storage_class_name if claim.spec else None) or ""
        sc = self.classes.store.get(cls)
        if not logic.should_provision(claim, self.node, sc):
            return
        assert sc is not None
        if self.volumes.store.get(logic.volume_name(claim)) is not None:
            return
        self.recorder.record(claim, NORMAL, "Provisioning",
                             f'External provisioner is provisioning volume for claim "{claim.namespace}/{claim.name}"')
        path = logic.directory(self.root, claim)
        try:
            await asyncio.to_thread(_make_dir, path)
        except OSError as e:
            self.recorder.record(claim, WARNING, "ProvisioningFailed", f"failed to provision volume with StorageClass "
                                 f'"{sc.name}": {e}')
            raise
        try:
            pv = await self.client.create(logic.new_volume(claim, sc, self.node, path))
        except AlreadyExists:
            return
        except APIError as e:
            self.recorder.record(claim, WARNING, "ProvisioningFailed",
                                 f'failed to provision volume with StorageClass "{sc.name}": {e}')
            raise
        log.info("provisioned %s for %s at %s", pv.name, claim.key, path)
        self.recorder.record(claim, NORMAL, "ProvisioningSucceeded", f"Successfully provisioned volume {pv.name}")

    async def delete(self, pv: PersistentVolume) -> None:
        path = logic.owned_directory(pv, self.root)
        if path is not None:
            await asyncio.to_thread(shutil.rmtree, path, True)
        try:
            await self.client.delete(PersistentVolume, pv.name)
        except NotFound:
            return
        log.info("deleted %s and its directory %s", pv.name, path)


def _make_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o777)


__all__ = ["LocalPathProvisioner"]
