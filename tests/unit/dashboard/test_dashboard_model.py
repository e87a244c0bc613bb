"""The dashboard's pure parts: topology, timeline entries and filter, change path."""
from __future__ import annotations

from typing import Any

from dashboard import topology
from dashboard.changepath import actors_in_order, change_path
from dashboard.timeline import Filter, Timeline, describe, from_event, from_watch


def obj(kind: str, name: str, uid: str, *, ns: str = "default", rv: str = "1", owner: tuple[str, str] | None = None,
        labels: dict[str, str] | None = None, managers: list[tuple[str, str, str]] = (), **rest: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": uid, "resourceVersion": rv,
                            "creationTimestamp": "2026-01-01T00:00:00Z", "labels": labels or {},
                            "managedFields": [{"manager": m, "operation": "Update", "subresource": sub, "time": t}
                                              for m, sub, t in managers]}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": "o", "uid": owner[1], "controller": True}]
    return {"kind": kind, "metadata": meta, **rest}


def pod(name: str, uid: str, node: str = "", phase: str = "Pending", ready: bool = False, restarts: int = 0,
        **kw: Any) -> dict[str, Any]:
    return obj("Pod", name, uid, spec={"nodeName": node} if node else {},
               status={"phase": phase, "conditions": [{"type": "Ready", "status": str(ready)}],
                       "containerStatuses": [{"restartCount": restarts}]}, **kw)


def test_lanes_group_pods_by_node_with_unscheduled_and_unseen_nodes() -> None:
    nodes = [obj("Node", "n2", "N2", ns="", status={"conditions": [{"type": "Ready", "status": "True"}]}),
             obj("Node", "n1", "N1", ns="", status={"conditions": [{"type": "Ready", "status": "False"}]})]
    pods = [pod("b", "p2", "n1", "Running", True, 2), pod("a", "p1", "n1", "Running"), pod("c", "p3"),
            pod("d", "p4", "ghost", "Running", True)]
    lanes = topology.lanes(nodes, pods)
    assert [(lane["name"], lane["ready"], [p["name"] for p in lane["pods"]]) for lane in lanes] == [
        ("", None, ["c"]), ("ghost", None, ["d"]), ("n1", False, ["a", "b"]), ("n2", True, [])]
    b = lanes[2]["pods"][1]
    assert (b["phase"], b["ready"], b["restarts"]) == ("Running", True, 2)


def test_workloads_and_services_link_by_owner_references_and_selectors() -> None:
    d = obj("Deployment", "web", "D", spec={"replicas": 2})
    rs = obj("ReplicaSet", "web-1", "R", owner=("Deployment", "D"), spec={"replicas": 2})
    lone = obj("ReplicaSet", "solo", "S", spec={"replicas": 1})
    pods = [pod("web-1-a", "P1", owner=("ReplicaSet", "R"), labels={"app": "web"}),
            pod("web-1-b", "P2", owner=("ReplicaSet", "R"), labels={"app": "web", "x": "y"}),
            pod("other", "P3", labels={"app": "web"}, ns="elsewhere")]
    w = topology.workloads([d], [rs, lone], pods)
    assert [(x["kind"], x["name"]) for x in w] == [("Deployment", "web"), ("ReplicaSet", "solo")]
    assert w[0]["replicasets"][0]["pods"] == ["P1", "P2"]
    svc = obj("Service", "web", "SV", spec={"selector": {"app": "web"}})
    none = obj("Service", "ext", "SV2", spec={})
    ing = obj("Ingress", "front", "I", spec={"rules": [{"http": {"paths": [{"backend": {"service": {"name": "web"}}}]}}]})
    s = topology.services([svc, none], pods, [ing])
    assert [(x["name"], x["pods"], x["ingresses"]) for x in s] == [("ext", [], []), ("web", ["P1", "P2"], ["front"])]


def test_describe_says_what_a_change_did() -> None:
    p0, p1 = pod("a", "P"), pod("a", "P", "n1")
    assert describe("Pod", "MODIFIED", p0, p1) == "bound to node n1"
    assert describe("Pod", "MODIFIED", p1, pod("a", "P", "n1", "Running", True)) == "phase Running, ready"
    assert describe("Pod", "MODIFIED", p1, p1) is None
    n = obj("Node", "n", "N", status={"conditions": [{"type": "Ready", "status": "True"}]})
    assert describe("Node", "MODIFIED", n, n) is None            # a heartbeat is no line
    assert describe("Deployment", "MODIFIED", obj("Deployment", "d", "D", spec={"replicas": 2}),
                    obj("Deployment", "d", "D", spec={"replicas": 4})) == "scaled to 4"


def test_a_watch_entry_names_the_manager_of_the_write() -> None:
    old = pod("a", "P", managers=[("kube-scheduler", "binding", "2026-01-01T00:00:01Z")])
    new = pod("a", "P", "n1", "Running", True, rv="9", managers=[
        ("kube-scheduler", "binding", "2026-01-01T00:00:01Z"), ("kubelet", "status", "2026-01-01T00:00:05Z")])
    e = from_watch("Pod", "MODIFIED", old, new, "now")
    assert e is not None and (e["component"], e["subresource"], e["time"], e["rv"]) == (
        "kubelet", "status", "2026-01-01T00:00:05Z", "9")


def test_filter_and_timeline_buffer() -> None:
    t = Timeline(size=3)
    ev = {"metadata": {"name": "a.1", "namespace": "ns", "resourceVersion": "5"}, "reason": "Started",
          "involvedObject": {"kind": "Pod", "name": "web-a", "namespace": "ns", "uid": "P"},
          "source": {"component": "kubelet"}, "type": "Normal"}
    assert t.add(from_event(ev)) is not None
    assert t.add(from_event(ev)) is None                          # the same Event again (a relist)
    assert t.add(from_event({**ev, "metadata": {**ev["metadata"], "resourceVersion": "7"}})) is not None
    for i in range(3):
        t.add(from_event({**ev, "metadata": {"name": f"b.{i}", "namespace": "other", "resourceVersion": str(10 + i)},
                          "involvedObject": {"kind": "Node", "name": f"n{i}", "uid": f"N{i}"},
                          "source": {"component": "node-controller"}}))
    assert [e["seq"] for e in t.entries] == [3, 4, 5]            # bounded
    assert [e["name"] for e in t.query(Filter(kind="node", component="NODE"))] == ["n0", "n1", "n2"]
    assert [e["seq"] for e in t.query(Filter.from_query({"name": "n", "since": "3"}))] == [4, 5]
    assert t.query(Filter(namespace="ns")) == []


def test_change_path_of_a_deployment_create() -> None:
    """kubectl creates a Deployment; then, arriving from different watches out of order,
    its ReplicaSet, pods, binding, start and endpoints; unrelated changes are left out."""
    t = Timeline()
    d = obj("Deployment", "web", "D", rv="10", managers=[("kubectl-client-side-apply", "", "t1")])
    rs = obj("ReplicaSet", "web-1", "R", rv="11", owner=("Deployment", "D"),
             managers=[("kube-controller-manager", "", "t2")])
    p = pod("web-1-a", "P", rv="13", owner=("ReplicaSet", "R"), managers=[("kube-controller-manager", "", "t3")])
    bound = pod("web-1-a", "P", "n1", rv="15", owner=("ReplicaSet", "R"),
                managers=[("kube-controller-manager", "", "t3"), ("kube-scheduler", "binding", "t4")])
    running = pod("web-1-a", "P", "n1", "Running", True, rv="17", owner=("ReplicaSet", "R"),
                  managers=[("kube-controller-manager", "", "t3"), ("kube-scheduler", "binding", "t4"),
                            ("kubelet", "status", "t5")])
    es = obj("EndpointSlice", "web-x", "E", rv="18", owner=("Service", "SV"),
             managers=[("kube-controller-manager", "", "t6")],
             endpoints=[{"targetRef": {"kind": "Pod", "uid": "P"}}])
    before = obj("Deployment", "old", "X", rv="5", managers=[("kubectl", "", "t0")])
    def event(rv: str, kind: str, uid: str, reason: str, comp: str) -> dict[str, Any]:
        return from_event({"metadata": {"name": f"e{rv}", "namespace": "default", "resourceVersion": rv},
                           "involvedObject": {"kind": kind, "name": "x", "namespace": "default", "uid": uid},
                           "reason": reason, "source": {"component": comp}, "type": "Normal"})
    for e in [from_watch("Deployment", "ADDED", None, before, "n"), from_watch("Deployment", "ADDED", None, d, "n"),
              from_watch("Pod", "ADDED", None, p, "n"),                   # before its ReplicaSet arrives
              event("12", "Deployment", "D", "ScalingReplicaSet", "controller-manager"),
              from_watch("ReplicaSet", "ADDED", None, rs, "n"),
              event("14", "ReplicaSet", "R", "SuccessfulCreate", "controller-manager"),
              from_watch("Pod", "MODIFIED", p, bound, "n"),
              event("16", "Pod", "P", "Scheduled", "default-scheduler"),
              from_watch("Pod", "MODIFIED", bound, running, "n"),
              from_watch("EndpointSlice", "ADDED", None, es, "n"),
              event("19", "Pod", "OTHER", "Started", "kubelet")]:
        assert e is not None
        t.add(e)
    root = next(e for e in t.entries if e["name"] == "web" and e["kind"] == "Deployment")
    steps = change_path(t.entries, root["seq"])
    assert [(s["actor"], s["kind"], s["what"]) for s in steps] == [
        ("kubectl", "Deployment", "created"),
        ("deployment controller", "ReplicaSet", "created"),
        ("deployment controller", "Deployment", "ScalingReplicaSet"),
        ("replicaset controller", "Pod", "created"),
        ("replicaset controller", "ReplicaSet", "SuccessfulCreate"),
        ("scheduler", "Pod", "bound to node n1"),
        ("scheduler", "Pod", "Scheduled"),
        ("kubelet", "Pod", "phase Running, ready"),
        ("endpointslice controller", "EndpointSlice", "created")]
    assert actors_in_order(steps) == ["kubectl", "deployment controller", "replicaset controller", "scheduler",
                                      "kubelet", "endpointslice controller"]


def test_change_path_of_a_pod_delete_follows_its_replacement() -> None:
    t = Timeline()
    alive = pod("web-1-a", "P", "n1", rv="29", owner=("ReplicaSet", "R"))
    terminating = pod("web-1-a", "P", "n1", rv="30", owner=("ReplicaSet", "R"))
    terminating["metadata"]["deletionTimestamp"] = "t"
    gone = pod("web-1-a", "P", "n1", rv="31", owner=("ReplicaSet", "R"))
    new = pod("web-1-b", "P2", rv="32", owner=("ReplicaSet", "R"), managers=[("kube-controller-manager", "", "t")])
    unrelated = pod("x", "Q", rv="33", owner=("ReplicaSet", "OTHER"), managers=[("kube-controller-manager", "", "t")])
    for e in [from_watch("Pod", "MODIFIED", alive, terminating, "n"), from_watch("Pod", "DELETED", None, gone, "n"),
              from_watch("Pod", "ADDED", None, new, "n"), from_watch("Pod", "ADDED", None, unrelated, "n")]:
        t.add(e)  # type: ignore[arg-type]
    nobody = "(deleted; the API does not record by whom)"
    assert [(s["name"], s["what"], s["actor"]) for s in change_path(t.entries, 2)] == [
        ("web-1-a", "deleted", nobody), ("web-1-b", "created", "replicaset controller")]
    assert [(s["name"], s["what"], s["actor"]) for s in change_path(t.entries, 1)] == [
        ("web-1-a", "terminating", nobody), ("web-1-a", "deleted", nobody),
        ("web-1-b", "created", "replicaset controller")]


def test_a_rewrite_of_owned_fields_is_the_owners() -> None:
    """No managedFields time moved: the writer is the manager owning the changed fields."""
    fields = [{"manager": "kubectl-client-side-apply", "operation": "Update", "time": "t1",
               "fieldsV1": {"f:spec": {"f:replicas": {}}}},
              {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status", "time": "t0",
               "fieldsV1": {"f:status": {"f:readyReplicas": {}, "f:conditions": {'k:{"type":"Available"}': {}}}}}]
    old = obj("Deployment", "d", "D", spec={"replicas": 2}, status={"readyReplicas": 1})
    old["metadata"]["managedFields"] = fields
    new = obj("Deployment", "d", "D", rv="2", spec={"replicas": 2}, status={"readyReplicas": 2})
    new["metadata"]["managedFields"] = fields
    e = from_watch("Deployment", "MODIFIED", old, new, "now")
    assert e is not None and (e["component"], e["reason"]) == ("kube-controller-manager", "ready 2/2")


def test_the_path_ends_at_the_users_next_write() -> None:
    t = Timeline()
    d1 = obj("Deployment", "web", "D", rv="10", spec={"replicas": 2}, managers=[("kubectl", "", "t1")])
    d2 = obj("Deployment", "web", "D", rv="20", spec={"replicas": 4}, managers=[("kubectl", "", "t2")])
    rs = obj("ReplicaSet", "web-1", "R", rv="11", owner=("Deployment", "D"), managers=[("kube-controller-manager", "", "t")])
    for e in [from_watch("Deployment", "ADDED", None, d1, "n"), from_watch("ReplicaSet", "ADDED", None, rs, "n"),
              from_watch("Deployment", "MODIFIED", d1, d2, "n")]:
        t.add(e)  # type: ignore[arg-type]
    assert [s["what"] for s in change_path(t.entries, 1)] == ["created", "created"]
    assert [s["what"] for s in change_path(t.entries, 3)] == ["scaled to 4"]
