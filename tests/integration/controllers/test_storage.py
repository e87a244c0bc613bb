"""Storage on hollow nodes against the in-process apiserver: the PV controller, the
local-path provisioner of each node, the scheduler's volume binding and the kubelet's
claim mounts. A claim of the default class waits for its first consumer, is provisioned on
the node the scheduler picks and bound; its directory outlives the pod and goes with the
claim (reclaim Delete); a static Retain volume binds and stays Released; an unbound
Immediate claim keeps its pod unschedulable; a claim in use is protected from deletion;
and a StatefulSet's pods each get their own claim, kept across a pod's deletion."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.meta import is_pod_ready
from api.models import (Event, PersistentVolume, PersistentVolumeClaim, Pod, StatefulSet,
                        StorageClass)
from client.errors import NotFound
from client.rest import Client
from tests.support.apps_cluster import eventually
from tests.support.workloads_cluster import WorkloadsCluster

CONTROLLERS = ("persistentvolume-binder", "pvc-protection", "pv-protection", "statefulset")


def claim(name: str, storage_class: str | None = None, size: str = "1Gi") -> PersistentVolumeClaim:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return PersistentVolumeClaim.from_dict({"metadata": {"name": name, "namespace": "default"}, "spec": spec})


def pod_with(name: str, claim_name: str) -> Pod:
    return Pod.from_dict({"metadata": {"name": name, "namespace": "default"}, "spec": {
        "containers": [{"name": "c", "image": "busybox", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}]}})


@pytest.fixture
async def cluster(kube: Client, tmp_path: Path) -> AsyncIterator[WorkloadsCluster]:
    async with WorkloadsCluster(kube, tmp_path / "nodes", nodes=2, controllers=CONTROLLERS,
                                local_path=True) as c:
        yield c


async def claim_phase(kube: Client, name: str) -> str:
    c = await kube.get(PersistentVolumeClaim, name, "default")
    return (c.status.phase if c.status else None) or ""


async def running(kube: Client, name: str) -> Pod | None:
    p = await kube.get(Pod, name, "default")
    return p if is_pod_ready(p) else None


async def gone(kube: Client, kind: Any, name: str, ns: str | None = None) -> bool:
    try:
        await kube.get(kind, name, ns)
    except NotFound:
        return True
    return False


async def test_a_claim_waits_for_its_pod_then_is_provisioned_on_its_node(kube: Client,
                                                                         cluster: WorkloadsCluster) -> None:
    sc = await kube.get(StorageClass, "local-path")
    assert sc.volume_binding_mode == "WaitForFirstConsumer" and sc.reclaim_policy == "Delete"
    created = await kube.create(claim("data"))
    assert created.spec.storage_class_name == "local-path"                 # the default class

    async def waiting_event() -> bool:
        return any(e.reason == "WaitForFirstConsumer" and e.involved_object.name == "data"
                   for e in (await kube.list(Event, "default")).items)
    await eventually(waiting_event, what="the WaitForFirstConsumer event")
    assert await claim_phase(kube, "data") == "Pending"
    await kube.create(pod_with("app", "data"))
    pod = await eventually(lambda: running(kube, "app"), timeout=30, what="the pod to run")
    node = pod.spec.node_name  # type: ignore[union-attr]
    bound = await kube.get(PersistentVolumeClaim, "data", "default")
    assert bound.status.phase == "Bound" and bound.status.capacity == {"storage": "1Gi"}  # type: ignore[union-attr]
    assert bound.metadata.annotations["volume.kubernetes.io/selected-node"] == node  # type: ignore[index]
    pv = await kube.get(PersistentVolume, bound.spec.volume_name)  # type: ignore[union-attr,arg-type]
    assert pv.name == f"pvc-{bound.metadata.uid}" and pv.status.phase == "Bound"  # type: ignore[union-attr]
    assert pv.spec.claim_ref.uid == bound.metadata.uid  # type: ignore[union-attr]
    assert pv.spec.persistent_volume_reclaim_policy == "Delete" and pv.spec.storage_class_name == "local-path"  # type: ignore[union-attr]
    term = pv.spec.node_affinity.required.node_selector_terms[0].match_expressions[0]  # type: ignore[union-attr,index]
    assert (term.key, term.values) == ("kubernetes.io/hostname", [node])
    path = Path(pv.spec.host_path.path)  # type: ignore[union-attr]
    assert path.parent == cluster.storage_root(node or "") and path.is_dir()
    (path / "keep.txt").write_text("still here")
    await kube.delete(Pod, "app", "default")
    await eventually(lambda: gone(kube, Pod, "app", "default"), timeout=30, what="the pod to go")
    assert (path / "keep.txt").read_text() == "still here"
    assert await claim_phase(kube, "data") == "Bound"
    await kube.delete(PersistentVolumeClaim, "data", "default")
    await eventually(lambda: gone(kube, PersistentVolume, pv.name), timeout=30, what="the volume to be deleted")
    assert not path.exists()


async def test_a_static_retain_volume_binds_and_stays_released(kube: Client, cluster: WorkloadsCluster,
                                                              tmp_path: Path) -> None:
    await kube.create(PersistentVolume.from_dict({"metadata": {"name": "manual-1"}, "spec": {
        "capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "",
        "hostPath": {"path": str(tmp_path / "manual-1")}}}))
    await kube.create(claim("static", storage_class=""))

    async def bound() -> bool:
        return await claim_phase(kube, "static") == "Bound"
    await eventually(bound, timeout=20, what="the static claim to bind")
    pv = await kube.get(PersistentVolume, "manual-1")
    assert pv.metadata.annotations["pv.kubernetes.io/bound-by-controller"] == "yes"  # type: ignore[index]
    await kube.delete(PersistentVolumeClaim, "static", "default")

    async def released() -> bool:
        pv = await kube.get(PersistentVolume, "manual-1")
        return (pv.status.phase if pv.status else None) == "Released"
    await eventually(released, timeout=20, what="the volume to be Released")


async def test_an_unbound_immediate_claim_keeps_its_pod_pending(kube: Client, cluster: WorkloadsCluster) -> None:
    await kube.create(StorageClass.from_dict({"metadata": {"name": "manual"}, "provisioner": "kubernetes.io/no-provisioner"}))
    await kube.create(claim("nothing", storage_class="manual"))
    await kube.create(pod_with("stuck", "nothing"))

    async def unschedulable() -> str | None:      # (a scheduler that had not seen the claim yet
        p = await kube.get(Pod, "stuck", "default")  # says it is not found, then looks again)
        for c in (p.status.conditions if p.status else None) or []:
            if c.type == "PodScheduled" and c.reason == "Unschedulable" and "immediate" in (c.message or ""):
                return c.message
        return None
    msg = await eventually(unschedulable, what="the FailedScheduling condition")
    assert msg == "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims."
    assert (await kube.get(Pod, "stuck", "default")).spec.node_name is None  # type: ignore[union-attr]


async def test_a_claim_in_use_is_not_removed_before_its_pod(kube: Client, cluster: WorkloadsCluster) -> None:
    await kube.create(claim("busy"))
    await kube.create(pod_with("user", "busy"))
    await eventually(lambda: running(kube, "user"), timeout=30, what="the pod to run")
    await kube.delete(PersistentVolumeClaim, "busy", "default")
    c = await kube.get(PersistentVolumeClaim, "busy", "default")
    assert c.metadata.deletion_timestamp and c.metadata.finalizers == ["kubernetes.io/pvc-protection"]
    assert await running(kube, "user") is not None
    await kube.delete(Pod, "user", "default")
    await eventually(lambda: gone(kube, PersistentVolumeClaim, "busy", "default"), timeout=30,
                     what="the claim to go after its pod")


async def test_statefulset_pods_keep_their_own_claims(kube: Client, cluster: WorkloadsCluster) -> None:
    await kube.create(StatefulSet.from_dict({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 3, "serviceName": "nginx", "selector": {"matchLabels": {"app": "nginx"}},
                 "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [
                     {"name": "nginx", "image": "nginx", "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]}]}},
                 "volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {
                     "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}))

    async def ready3() -> bool:
        sts = await kube.get(StatefulSet, "web", "default")
        return (sts.status.ready_replicas if sts.status else 0) == 3
    await eventually(ready3, timeout=60, what="3 ready replicas with claims")
    claims = {c.name: c for c in (await kube.list(PersistentVolumeClaim, "default")).items}
    assert {"www-web-0", "www-web-1", "www-web-2"} <= set(claims)
    assert all(claims[f"www-web-{i}"].status.phase == "Bound" for i in range(3))  # type: ignore[union-attr]
    assert claims["www-web-0"].metadata.labels == {"app": "nginx"}
    old = await kube.get(Pod, "web-1", "default")
    volume = claims["www-web-1"].spec.volume_name  # type: ignore[union-attr]
    await kube.delete(Pod, "web-1", "default")

    async def back() -> Pod | None:
        try:
            p = await kube.get(Pod, "web-1", "default")
        except NotFound:
            return None
        return p if p.metadata.uid != old.metadata.uid and is_pod_ready(p) else None
    new = await eventually(back, timeout=30, what="web-1 back")
    assert new.spec.node_name == old.spec.node_name                           # its volume's node  # type: ignore[union-attr]
    again = await kube.get(PersistentVolumeClaim, "www-web-1", "default")
    assert again.metadata.uid == claims["www-web-1"].metadata.uid and again.spec.volume_name == volume  # type: ignore[union-attr]


async def test_claim_retention_policy_deletes_claims_on_scale_down_and_delete(kube: Client,
                                                                             cluster: WorkloadsCluster) -> None:
    await kube.create(StatefulSet.from_dict({
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {"replicas": 2, "serviceName": "db", "podManagementPolicy": "Parallel",
                 "selector": {"matchLabels": {"app": "db"}},
                 "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Delete"},
                 "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [
                     {"name": "db", "image": "db", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
                 "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                     "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}))

    async def claims() -> list[str]:
        return sorted(c.name for c in (await kube.list(PersistentVolumeClaim, "default")).items
                      if c.name.startswith("data-db-") and not c.metadata.deletion_timestamp)

    async def ready(n: int) -> bool:
        sts = await kube.get(StatefulSet, "db", "default")
        return (sts.status.ready_replicas if sts.status else 0) == n and len(await claims()) == n
    await eventually(lambda: ready(2), timeout=60, what="2 ready replicas with claims")
    owners = {c.name: [(r.kind, r.name) for r in c.metadata.owner_references or []]
              for c in (await kube.list(PersistentVolumeClaim, "default")).items}
    assert owners["data-db-0"] == [("StatefulSet", "db")]
    await kube.patch(StatefulSet, "db", {"spec": {"replicas": 1}}, "default")

    async def one_claim() -> bool:
        return await claims() == ["data-db-0"]
    await eventually(one_claim, timeout=60, what="data-db-1 deleted with its scaled-away pod")
    await kube.delete(StatefulSet, "db", "default")

    async def none_left() -> bool:
        return await claims() == []
    await eventually(none_left, timeout=60, what="the claims deleted with the StatefulSet")
