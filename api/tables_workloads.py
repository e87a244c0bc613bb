"""`kubectl get` columns of DaemonSet, StatefulSet, ControllerRevision, the storage kinds,
PodDisruptionBudget and EndpointSlice (Kubernetes' pkg/printers/internalversion), as pure
functions of wire dicts. `TABLES` is merged into api.tables'.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.tables import (Column, Obj, _containers_images, age, format_label_selector, meta_of,
                        spec_of, status_of)

_NAME = Column("Name", format="name", description="Name must be unique within a namespace.")
_AGE = Column("Age", description="CreationTimestamp")
_MODE_ABBREV = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"),
                ("ReadWriteOncePod", "RWOP"))


def access_modes_text(modes: list[str] | None) -> str:
    """GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, each once."""
    have = set(modes or [])
    return ",".join(short for mode, short in _MODE_ABBREV if mode in have)


def _daemon_set_row(d: Obj) -> list[Any]:
    st, spec = status_of(d), spec_of(d)
    tspec = spec_of(spec.get("template") or {})
    names, images = _containers_images(tspec)
    node_sel = tspec.get("nodeSelector") or {}
    return [meta_of(d).get("name"), st.get("desiredNumberScheduled") or 0,
            st.get("currentNumberScheduled") or 0, st.get("numberReady") or 0,
            st.get("updatedNumberScheduled") or 0, st.get("numberAvailable") or 0,
            ",".join(f"{k}={v}" for k, v in sorted(node_sel.items())) or "<none>", age(d),
            names, images, format_label_selector(spec.get("selector"))]


def _stateful_set_row(s: Obj) -> list[Any]:
    st, spec = status_of(s), spec_of(s)
    names, images = _containers_images(spec_of(spec.get("template") or {}))
    return [meta_of(s).get("name"), f"{st.get('readyReplicas') or 0}/{spec.get('replicas', 0)}",
            age(s), names, images]


def _controller_revision_row(r: Obj) -> list[Any]:
    owner = next((o for o in meta_of(r).get("ownerReferences") or [] if o.get("controller")), None)
    controller = "<none>"
    if owner is not None:
        group = (owner.get("apiVersion") or "").rpartition("/")[0]
        kind = owner.get("kind") or ""
        controller = f"{kind}.{group}".lower() if group else kind.lower()
        controller += f"/{owner.get('name')}"
    return [meta_of(r).get("name"), controller, r.get("revision") or 0, age(r)]


def _phase(o: Obj) -> str:
    return "Terminating" if meta_of(o).get("deletionTimestamp") else status_of(o).get("phase") or ""


def _pv_row(pv: Obj) -> list[Any]:
    spec = spec_of(pv)
    ref = spec.get("claimRef") or {}
    claim = f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref else ""
    return [meta_of(pv).get("name"), str((spec.get("capacity") or {}).get("storage", "")),
            access_modes_text(spec.get("accessModes")), spec.get("persistentVolumeReclaimPolicy") or "",
            _phase(pv), claim, spec.get("storageClassName") or "",
            spec.get("volumeAttributesClassName") or "<unset>", status_of(pv).get("reason") or "",
            age(pv), spec.get("volumeMode") or "<unset>"]


def _pvc_row(pvc: Obj) -> list[Any]:
    spec, st = spec_of(pvc), status_of(pvc)
    capacity, modes = "", ""
    if spec.get("volumeName"):
        modes = access_modes_text(st.get("accessModes"))
        capacity = str((st.get("capacity") or {}).get("storage", ""))
    return [meta_of(pvc).get("name"), _phase(pvc), spec.get("volumeName") or "", capacity, modes,
            spec.get("storageClassName") or "", spec.get("volumeAttributesClassName") or "<unset>",
            age(pvc), spec.get("volumeMode") or "<unset>"]


def is_default_class(sc: Obj) -> bool:
    ann = meta_of(sc).get("annotations") or {}
    return "true" in (ann.get("storageclass.kubernetes.io/is-default-class"),
                      ann.get("storageclass.beta.kubernetes.io/is-default-class"))


def _storage_class_row(sc: Obj) -> list[Any]:
    name = meta_of(sc).get("name") or ""
    if is_default_class(sc):
        name += " (default)"
    return [name, sc.get("provisioner") or "", sc.get("reclaimPolicy") or "Delete",
            sc.get("volumeBindingMode") or "Immediate", bool(sc.get("allowVolumeExpansion")), age(sc)]


def _pdb_row(p: Obj) -> list[Any]:
    spec = spec_of(p)
    min_available = spec.get("minAvailable")
    max_unavailable = spec.get("maxUnavailable")
    return [meta_of(p).get("name"), "N/A" if min_available is None else str(min_available),
            "N/A" if max_unavailable is None else str(max_unavailable),
            status_of(p).get("disruptionsAllowed") or 0, age(p)]


def _list_with_more(items: list[str], count: int, limit: int = 3) -> str:
    text = ",".join(items[:limit])
    if count > limit:
        return f"{text} + {count - limit} more..."
    return text or "<unset>"


def _endpoint_slice_row(s: Obj) -> list[Any]:
    ports = [str(p["port"]) if p.get("port") is not None else (p.get("name") or "*")
             for p in s.get("ports") or []]
    addresses = [a for ep in s.get("endpoints") or [] for a in ep.get("addresses") or []]
    return [meta_of(s).get("name"), s.get("addressType") or "", _list_with_more(ports, len(ports)),
            _list_with_more(addresses, len(addresses)), age(s)]


TABLES: dict[str, tuple[list[Column], Callable[[Obj], list[Any]]]] = {
    "DaemonSet": ([_NAME, Column("Desired", "integer"), Column("Current", "integer"),
                   Column("Ready", "integer"), Column("Up-to-date", "integer"),
                   Column("Available", "integer"), Column("Node Selector"), _AGE,
                   Column("Containers", priority=1), Column("Images", priority=1),
                   Column("Selector", priority=1)], _daemon_set_row),
    "StatefulSet": ([_NAME, Column("Ready"), _AGE, Column("Containers", priority=1),
                     Column("Images", priority=1)], _stateful_set_row),
    "ControllerRevision": ([_NAME, Column("Controller"), Column("Revision", "integer"), _AGE],
                           _controller_revision_row),
    "PersistentVolume": ([_NAME, Column("Capacity"), Column("Access Modes"), Column("Reclaim Policy"),
                          Column("Status"), Column("Claim"), Column("StorageClass"),
                          Column("VolumeAttributesClass"), Column("Reason"), _AGE,
                          Column("VolumeMode", priority=1)], _pv_row),
    "PersistentVolumeClaim": ([_NAME, Column("Status"), Column("Volume"), Column("Capacity"),
                               Column("Access Modes"), Column("StorageClass"),
                               Column("VolumeAttributesClass"), _AGE,
                               Column("VolumeMode", priority=1)], _pvc_row),
    "StorageClass": ([_NAME, Column("Provisioner"), Column("ReclaimPolicy"),
                      Column("VolumeBindingMode"), Column("AllowVolumeExpansion"), _AGE],
                     _storage_class_row),
    "PodDisruptionBudget": ([_NAME, Column("Min Available"), Column("Max Unavailable"),
                             Column("Allowed Disruptions", "integer"), _AGE], _pdb_row),
    "EndpointSlice": ([_NAME, Column("AddressType"), Column("Ports"), Column("Endpoints"), _AGE],
                      _endpoint_slice_row),
}
