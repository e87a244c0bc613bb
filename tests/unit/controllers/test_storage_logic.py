"""Decisions of the storage pieces: claim/volume matching, the PV controller's claim and
volume verdicts, the local-path provisioner's volumes, and the scheduler's VolumeBinding
filter - over plain objects."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from api.models import PersistentVolume, PersistentVolumeClaim, StorageClass
from api.volumematch import bound_volume, find_matching_volume
from controllers import pv_logic
from kubelet.localpath import logic as lp
from scheduler.framework import CycleState
from scheduler.nodeinfo import NodeInfo
from scheduler.plugins.volume_binding import VolumeBinding
from scheduler.podinfo import pod_info
from scheduler.volumebinding import VolumeCache


def pvc(name: str = "data", size: str = "1Gi", cls: str | None = "fast", *, modes: list[str] | None = None,
        volume: str | None = None, annotations: dict[str, str] | None = None, uid: str = "c1") -> PersistentVolumeClaim:
    spec: dict[str, Any] = {"accessModes": modes or ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if cls is not None:
        spec["storageClassName"] = cls
    if volume:
        spec["volumeName"] = volume
    return PersistentVolumeClaim.from_dict({"metadata": {"name": name, "namespace": "default", "uid": uid,
                                                         "resourceVersion": "1", "annotations": annotations or {}},
                                            "spec": spec, "status": {"phase": "Pending"}})


def pv(name: str, size: str = "1Gi", cls: str = "fast", *, phase: str = "Available", node: str | None = None,
       claim: PersistentVolumeClaim | None = None, claim_uid: str | None = None,
       annotations: dict[str, str] | None = None, policy: str = "Retain") -> PersistentVolume:
    spec: dict[str, Any] = {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                            "storageClassName": cls, "hostPath": {"path": f"/tmp/{name}"},
                            "persistentVolumeReclaimPolicy": policy}
    if node:
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}
    if claim is not None:
        spec["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": "default", "name": claim.name,
                            "uid": claim_uid if claim_uid is not None else claim.metadata.uid}
    return PersistentVolume.from_dict({"metadata": {"name": name, "resourceVersion": "1",
                                                    "annotations": annotations or {}},
                                       "spec": spec, "status": {"phase": phase}})


def sc(name: str = "fast", mode: str = "Immediate", provisioner: str = "example.com/fast") -> StorageClass:
    return StorageClass.from_dict({"metadata": {"name": name}, "provisioner": provisioner,
                                   "volumeBindingMode": mode, "reclaimPolicy": "Delete"})


# ---------------------------------------------------------------- matching
def test_the_smallest_fitting_available_volume_of_the_class_wins() -> None:
    claim = pvc(size="2Gi")
    vols = [pv("small", "1Gi"), pv("big", "10Gi"), pv("right", "3Gi"), pv("other", "2Gi", cls="slow"),
            pv("taken", "2Gi", phase="Bound")]
    assert find_matching_volume(claim, vols).name == "right"  # type: ignore[union-attr]
    assert find_matching_volume(pvc(modes=["ReadWriteMany"]), vols) is None
    prebound = pv("mine", "1Gi", cls="x", phase="Bound", claim=claim)
    assert find_matching_volume(claim, vols + [prebound]).name == "mine"  # type: ignore[union-attr]


def test_node_affinity_and_delayed_binding() -> None:
    claim = pvc()
    vols = [pv("on-a", node="a"), pv("on-b", node="b")]
    assert find_matching_volume(claim, vols, ("b", {"kubernetes.io/hostname": "b"})).name == "on-b"  # type: ignore[union-attr]
    assert find_matching_volume(claim, vols, None, delay_binding=True) is None


def test_binding_a_volume_sets_a_full_claim_ref() -> None:
    claim = pvc()
    linked = bound_volume(pv("v"), claim)
    assert linked is not None and linked.spec.claim_ref.uid == "c1"  # type: ignore[union-attr]
    assert linked.metadata.annotations == {"pv.kubernetes.io/bound-by-controller": "yes"}
    assert bound_volume(linked, claim) is None


# ---------------------------------------------------------------- the PV controller
def test_claim_decisions() -> None:
    classes = {"fast": sc(), "wait": sc("wait", "WaitForFirstConsumer")}
    vols = {"v": pv("v")}
    assert pv_logic.decide_claim(pvc(), vols, classes).action == "bind"
    d = pv_logic.decide_claim(pvc(size="5Gi"), vols, classes)
    assert (d.action, d.provisioner, d.event[1]) == ("provision", "example.com/fast", "ExternalProvisioning")  # type: ignore[index]
    d = pv_logic.decide_claim(pvc(cls="wait"), {}, classes)
    assert (d.action, d.event[1]) == ("pending", "WaitForFirstConsumer")  # type: ignore[index]
    selected = pvc(cls="wait", annotations={"volume.kubernetes.io/selected-node": "n1"})
    assert pv_logic.decide_claim(selected, {}, classes).action == "provision"
    d = pv_logic.decide_claim(pvc(cls=""), {}, classes)
    assert d.event == ("Normal", "FailedBinding", "no persistent volumes available for this claim and no storage class is set")
    lost = pvc(volume="gone", annotations={"pv.kubernetes.io/bind-completed": "yes"})
    assert pv_logic.decide_claim(lost, {}, classes).event[1] == "ClaimLost"  # type: ignore[index]
    other = pvc("other", uid="c2")
    misbound = pvc(volume="v", annotations={"pv.kubernetes.io/bind-completed": "yes"})
    d = pv_logic.decide_claim(misbound, {"v": pv("v", claim=other)}, classes)
    assert d.event[1] == "ClaimMisbound"  # type: ignore[index]


def test_volume_decisions_and_reclaim() -> None:
    claim = pvc(volume="v")
    assert pv_logic.decide_volume(pv("v"), lambda ns, n: None).phase == "Available"
    assert pv_logic.decide_volume(pv("v", claim=claim), lambda ns, n: claim).phase == "Bound"
    released = pv_logic.decide_volume(pv("v", claim=claim, phase="Bound"), lambda ns, n: None)
    assert released.phase == "Released" and released.reclaim
    keep = pv("v", policy="Retain")
    assert pv_logic.reclaim(keep, bool).phase is None
    external = pv("v", policy="Delete", annotations={"pv.kubernetes.io/provisioned-by": "x"})
    assert pv_logic.reclaim(external, bool).phase is None
    d = pv_logic.reclaim(pv("v", policy="Delete"), bool)
    assert d.phase == "Failed" and d.event[1] == "VolumeFailedDelete"  # type: ignore[index]
    unbound = pv_logic.unbound_volume(pv("v", claim=claim, annotations={"pv.kubernetes.io/bound-by-controller": "yes"}))
    assert unbound.spec.claim_ref is None and unbound.metadata.annotations is None  # type: ignore[union-attr]


# ---------------------------------------------------------------- local-path
def test_local_path_provisions_only_its_nodes_claims(tmp_path: Path) -> None:
    cls = lp.default_class()
    claim = pvc(cls="local-path", annotations={"volume.kubernetes.io/storage-provisioner": lp.PROVISIONER,
                                               "volume.kubernetes.io/selected-node": "n1"})
    assert lp.should_provision(claim, "n1", cls) and not lp.should_provision(claim, "n2", cls)
    path = lp.directory(tmp_path, claim)
    vol = lp.new_volume(claim, cls, "n1", path)
    assert vol.name == "pvc-c1" and path.name == "pvc-c1_default_data"
    assert vol.spec.host_path.type == "DirectoryOrCreate" and vol.spec.claim_ref.uid == "c1"  # type: ignore[union-attr]
    assert vol.spec.capacity == {"storage": "1Gi"} and vol.spec.persistent_volume_reclaim_policy == "Delete"  # type: ignore[union-attr]
    released = vol.model_copy(update={"status": pv("x", phase="Released").status})
    assert lp.should_delete(released, "n1") and not lp.should_delete(released, "n2")
    assert lp.owned_directory(released, tmp_path) == path
    assert lp.owned_directory(released, tmp_path / "elsewhere") is None


# ---------------------------------------------------------------- the scheduler's filter
def _node(name: str) -> NodeInfo:
    ni = NodeInfo(name)
    ni.set_node({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}}, "spec": {}, "status": {}})
    return ni


def _pod(claim: str) -> Any:
    return pod_info({"metadata": {"name": "p", "namespace": "default", "uid": "p1"},
                     "spec": {"containers": [{"name": "c"}],
                              "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}]}})


def test_volume_binding_filter() -> None:
    cache = VolumeCache()
    plugin = VolumeBinding()
    plugin.use_volumes(cache)
    state = CycleState()
    st = plugin.pre_filter(state, _pod("missing"))
    assert st is not None and st.message == 'persistentvolumeclaim "missing" not found'
    bound_claim = pvc("bound", volume="v-a", cls="wait")
    for obj in (sc("wait", "WaitForFirstConsumer", "kubernetes.io/no-provisioner"), bound_claim,
                pv("v-a", node="a", claim=bound_claim, phase="Bound"), pvc("free", cls="wait", uid="c3"),
                pv("static-b", node="b", cls="wait")):
        cache.put(obj)
    state = CycleState()
    assert plugin.pre_filter(state, _pod("bound")) is None
    assert plugin.filter(state, _pod("bound"), _node("a")) is None
    assert plugin.filter(state, _pod("bound"), _node("b")).message == "node(s) had volume node affinity conflict"  # type: ignore[union-attr]
    state = CycleState()
    assert plugin.pre_filter(state, _pod("free")) is None
    assert plugin.filter(state, _pod("free"), _node("b")) is None
    assert plugin.filter(state, _pod("free"), _node("a")).message == \
        "node(s) didn't find available persistent volumes to bind"  # type: ignore[union-attr]
    cache.put(pvc("now", cls="fast", uid="c4"))
    cache.put(sc())
    st = plugin.pre_filter(CycleState(), _pod("now"))
    assert st is not None and st.message == "pod has unbound immediate PersistentVolumeClaims"
