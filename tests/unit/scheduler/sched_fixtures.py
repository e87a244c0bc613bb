"""Builders for the scheduler unit tests: pod and node wire dicts, PodInfo and NodeInfo."""
from __future__ import annotations

from typing import Any

from scheduler.nodeinfo import NodeInfo, new_node_info
from scheduler.podinfo import PodInfo, pod_info


def pod(name: str = "p", *, ns: str = "default", cpu: str | None = None,
        memory: str | None = None, node_name: str | None = None,
        node_selector: dict[str, str] | None = None, tolerations: list[dict[str, Any]] | None = None,
        host_ports: list[int] | None = None, affinity: dict[str, Any] | None = None,
        owner_uid: str | None = None, priority: int | None = None,
        labels: dict[str, str] | None = None) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: dict[str, Any] = {"name": "c", "image": "nginx"}
    if requests:
        container["resources"] = {"requests": requests}
    if host_ports:
        container["ports"] = [{"containerPort": p, "hostPort": p} for p in host_ports]
    spec: dict[str, Any] = {"containers": [container], "schedulerName": "default-scheduler"}
    for key, value in (("nodeName", node_name), ("nodeSelector", node_selector),
                       ("tolerations", tolerations), ("affinity", affinity),
                       ("priority", priority)):
        if value is not None:
            spec[key] = value
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": f"uid-{name}"}
    if labels:
        meta["labels"] = labels
    if owner_uid:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs",
                                    "uid": owner_uid, "controller": True}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
            "status": {"phase": "Pending"}}


def pinfo(name: str = "p", **kw: Any) -> PodInfo:
    return pod_info(pod(name, **kw))


def node(name: str = "n", *, cpu: str = "4", memory: str = "8Gi", pods: int = 110,
         labels: dict[str, str] | None = None, taints: list[dict[str, str]] | None = None,
         unschedulable: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    alloc = {"cpu": cpu, "memory": memory, "pods": str(pods)}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": spec, "status": {"capacity": alloc, "allocatable": alloc}}


def ninfo(name: str = "n", running: tuple[PodInfo, ...] = (), **kw: Any) -> NodeInfo:
    return new_node_info(node(name, **kw), running)


def bound(name: str, node_name: str, **kw: Any) -> PodInfo:
    return pinfo(name, node_name=node_name, **kw)
