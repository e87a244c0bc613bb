"""The `describe node` page: conditions, addresses, capacity, system info, the pods on
the node with their requests and limits as shares of allocatable, and the totals — as
kubectl's NodeDescriber prints them. Pure: the node, its pods and its lease in, text out.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from api.tables import meta_of as _meta, spec_of as _spec, status_of as _status
from kubectl import describe_util as du

Obj = dict[str, Any]


def _quantity_sum(values: list[str]) -> Any:
    from api.quantity import parse_quantity
    total = sum((parse_quantity(v) for v in values), start=parse_quantity("0"))
    return total


def _fmt_q(value: Any, like: str = "") -> str:
    from api.quantity import format_quantity
    if value == 0:
        return "0"
    try:
        return format_quantity(value, "BinarySI" if like.endswith("i") else None)
    except Exception:  # noqa: BLE001 - a display nicety only
        return str(value)


def _pod_resources(pod: Obj) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {"requests": {}, "limits": {}}
    for c in _spec(pod).get("containers") or []:
        res = c.get("resources") or {}
        for kind in ("requests", "limits"):
            for name, q in (res.get(kind) or {}).items():
                out[kind].setdefault(name, []).append(str(q))
    return out


def describe_node(node: Obj, pods: list[Obj], lease: Obj | None, events: list[Obj] | None = None,
                  now: datetime | None = None) -> str:
    from api.quantity import parse_quantity
    w = du.PrefixWriter()
    meta, spec, st = _meta(node), _spec(node), _status(node)
    labels = meta.get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Roles:\t{','.join(roles) or '<none>'}\n")
    du.labels_multiline(w, "Labels", labels)
    du.annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"CreationTimestamp:\t{du.rfc1123z(meta.get('creationTimestamp'))}\n")
    du.taints_multiline(w, "Taints", spec.get("taints"))
    w.write(0, f"Unschedulable:\t{str(bool(spec.get('unschedulable'))).lower()}\n")
    if lease is not None and lease.get("kind") == "Status":
        w.write(0, f"Lease:\tFailed to get lease: {lease.get('message', '')}\n")
    else:
        lspec = (lease or {}).get("spec") or {}
        w.write(0, "Lease:\n")
        w.write(1, f"HolderIdentity:\t{lspec.get('holderIdentity') or '<unset>'}\n")
        w.write(1, f"AcquireTime:\t{du.rfc1123z(lspec.get('acquireTime'))}\n")
        w.write(1, f"RenewTime:\t{du.rfc1123z(lspec.get('renewTime'))}\n")
    if st.get("conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
        w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in st["conditions"]:
            w.write(1, f"{c.get('type')} \t{c.get('status')} \t{du.rfc1123z(c.get('lastHeartbeatTime'))} \t"
                       f"{du.rfc1123z(c.get('lastTransitionTime'))} \t{c.get('reason', '')} \t{c.get('message', '')}\n")
    w.write(0, "Addresses:\n")
    for a in st.get("addresses") or []:
        w.write(1, f"{a.get('type')}:\t{a.get('address')}\n")
    for key, title in (("capacity", "Capacity"), ("allocatable", "Allocatable")):
        if st.get(key):
            w.write(0, f"{title}:\n")
            for name in sorted(st[key]):
                w.write(0, f"  {name}:\t{st[key][name]}\n")
    info = st.get("nodeInfo") or {}
    w.write(0, "System Info:\n")
    for label, field in (("Machine ID", "machineID"), ("System UUID", "systemUUID"), ("Boot ID", "bootID"),
                         ("Kernel Version", "kernelVersion"), ("OS Image", "osImage"),
                         ("Operating System", "operatingSystem"), ("Architecture", "architecture"),
                         ("Container Runtime Version", "containerRuntimeVersion"),
                         ("Kubelet Version", "kubeletVersion")):
        w.write(0, f"  {label}:\t{info.get(field, '')}\n")
    if spec.get("podCIDR"):
        w.write(0, f"PodCIDR:\t{spec['podCIDR']}\n")
    if spec.get("podCIDRs"):
        w.write(0, f"PodCIDRs:\t{','.join(spec['podCIDRs'])}\n")
    if spec.get("providerID"):
        w.write(0, f"ProviderID:\t{spec['providerID']}\n")
    alloc = st.get("allocatable") or st.get("capacity") or {}

    def pct(value: Any, res: str, millis: bool) -> int:
        total = alloc.get(res)
        if not total:
            return 0
        t = parse_quantity(total)
        return int(value / t * 100) if t else 0

    w.write(0, f"Non-terminated Pods:\t({len(pods)} in total)\n")
    w.write(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
    w.write(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
    totals: dict[str, dict[str, list[str]]] = {"requests": {}, "limits": {}}
    for p in pods:
        r = _pod_resources(p)
        for kind in totals:
            for name, qs in r[kind].items():
                totals[kind].setdefault(name, []).extend(qs)
        cells = []
        for kind, res in (("requests", "cpu"), ("limits", "cpu"), ("requests", "memory"), ("limits", "memory")):
            v = _quantity_sum(r[kind].get(res, []))
            like = (r[kind].get(res) or [""])[0]
            cells.append(f"{_fmt_q(v, like)} ({pct(v, res, res == 'cpu')}%)")
        w.write(1, f"{_meta(p).get('namespace')}\t{_meta(p).get('name')}\t\t" + "\t".join(cells)
                + f"\t{du.since(_meta(p).get('creationTimestamp'), now)}\n")
    w.write(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
    w.write(1, "Resource\tRequests\tLimits\n")
    w.write(1, "--------\t--------\t------\n")
    for res in ("cpu", "memory", "ephemeral-storage"):
        req = _quantity_sum(totals["requests"].get(res, []))
        lim = _quantity_sum(totals["limits"].get(res, []))
        lreq = (totals["requests"].get(res) or [""])[0]
        llim = (totals["limits"].get(res) or [""])[0]
        w.write(1, f"{res}\t{_fmt_q(req, lreq)} ({pct(req, res, False)}%)\t{_fmt_q(lim, llim)} ({pct(lim, res, False)}%)\n")
    du.events(w, events, now)
    return w.text()
