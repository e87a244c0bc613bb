"""The topology model (pure): nodes as lanes with their pods, Deployments -> ReplicaSets ->
pods by owner references, Services linked to the pods they select, Ingresses to their
Services. Input: the objects the user may list, as dicts; output: JSON for the browser.

A pod with no node yet sits in the lane `""` (unscheduled); a pod whose node the user
cannot see (RBAC) still gets a lane named after `spec.nodeName`.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dashboard.objects import (Obj, controller_ref, meta, name, namespace, node_ready, pod_phase, pod_ready,
                               pod_restarts, selects, uid)


def pod_summary(pod: Obj) -> Obj:
    ref = controller_ref(pod)
    return {"uid": uid(pod), "namespace": namespace(pod), "name": name(pod),
            "node": (pod.get("spec") or {}).get("nodeName") or "",
            "phase": pod_phase(pod), "ready": pod_ready(pod), "restarts": pod_restarts(pod),
            "owner": (ref or {}).get("uid") or "", "ownerKind": (ref or {}).get("kind") or ""}


def lanes(nodes: Iterable[Obj], pods: Iterable[Obj]) -> list[Obj]:
    """One lane per node (sorted by name; unscheduled pods in lane "" first), each with its
    pods sorted by namespace/name."""
    by_node: dict[str, list[Obj]] = {}
    for p in pods:
        s = pod_summary(p)
        by_node.setdefault(s["node"], []).append(s)
    out: dict[str, Obj] = {name(n): {"name": name(n), "ready": node_ready(n), "known": True,
                                     "unschedulable": bool((n.get("spec") or {}).get("unschedulable")),
                                     "pods": []} for n in nodes}
    for node_name in by_node:
        out.setdefault(node_name, {"name": node_name, "ready": None, "known": False,
                                   "unschedulable": False, "pods": []})
    for node_name, ps in by_node.items():
        out[node_name]["pods"] = sorted(ps, key=lambda s: (s["namespace"], s["name"]))
    return [out[k] for k in sorted(out)]


def workloads(deployments: Iterable[Obj], replicasets: Iterable[Obj], pods: Iterable[Obj]) -> list[Obj]:
    """Deployments with their ReplicaSets with their pods' uids (by controller owner
    reference); ReplicaSets without a Deployment are their own entries."""
    pods_of: dict[str, list[str]] = {}
    for p in sorted(pods, key=name):
        ref = controller_ref(p)
        if ref and ref.get("uid"):
            pods_of.setdefault(str(ref["uid"]), []).append(uid(p))
    rs_of: dict[str, list[Obj]] = {}
    loose: list[Obj] = []
    for rs in sorted(replicasets, key=lambda r: (namespace(r), name(r))):
        entry = {"kind": "ReplicaSet", "uid": uid(rs), "namespace": namespace(rs), "name": name(rs),
                 "replicas": (rs.get("spec") or {}).get("replicas", 1),
                 "ready": (rs.get("status") or {}).get("readyReplicas") or 0,
                 "revision": (meta(rs).get("annotations") or {}).get("deployment.kubernetes.io/revision", ""),
                 "pods": pods_of.get(uid(rs), [])}
        ref = controller_ref(rs)
        if ref and ref.get("kind") == "Deployment":
            rs_of.setdefault(str(ref.get("uid")), []).append(entry)
        else:
            loose.append(entry)
    out = []
    for d in sorted(deployments, key=lambda d: (namespace(d), name(d))):
        st = d.get("status") or {}
        out.append({"kind": "Deployment", "uid": uid(d), "namespace": namespace(d), "name": name(d),
                    "replicas": (d.get("spec") or {}).get("replicas", 1),
                    "ready": st.get("readyReplicas") or 0, "updated": st.get("updatedReplicas") or 0,
                    "replicasets": rs_of.get(uid(d), [])})
    return out + loose


def services(svcs: Iterable[Obj], pods: Iterable[Obj], ingresses: Iterable[Obj] = ()) -> list[Obj]:
    """Services with the uids of the pods they select (same namespace) and the Ingresses
    that route to them."""
    pod_list = list(pods)
    routed: dict[tuple[str, str], list[str]] = {}
    for ing in ingresses:
        for svc_name in ingress_services(ing):
            routed.setdefault((namespace(ing), svc_name), []).append(name(ing))
    out = []
    for s in sorted(svcs, key=lambda s: (namespace(s), name(s))):
        spec = s.get("spec") or {}
        sel = spec.get("selector") or {}
        out.append({"uid": uid(s), "namespace": namespace(s), "name": name(s),
                    "type": spec.get("type") or "ClusterIP", "clusterIP": spec.get("clusterIP") or "",
                    "selector": sel,
                    "pods": [uid(p) for p in pod_list if namespace(p) == namespace(s)
                             and selects(sel, (p.get("metadata") or {}).get("labels"))],
                    "ingresses": sorted(routed.get((namespace(s), name(s)), []))})
    return out


def ingress_services(ing: Obj) -> list[str]:
    spec = ing.get("spec") or {}
    backends = [spec.get("defaultBackend") or {}]
    for rule in spec.get("rules") or []:
        backends += [p.get("backend") or {} for p in (rule.get("http") or {}).get("paths") or []]
    return sorted({str(b["service"]["name"]) for b in backends if (b.get("service") or {}).get("name")})


def build(objects: dict[str, list[Obj]]) -> dict[str, Any]:
    """The whole topology from `{"Node": [...], "Pod": [...], ...}` (missing kinds: none
    visible to this user)."""
    pods = objects.get("Pod", [])
    return {"lanes": lanes(objects.get("Node", []), pods),
            "workloads": workloads(objects.get("Deployment", []), objects.get("ReplicaSet", []), pods),
            "services": services(objects.get("Service", []), pods, objects.get("Ingress", []))}
