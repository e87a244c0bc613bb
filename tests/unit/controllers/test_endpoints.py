"""Endpoints controller: the pure subset computation and one reconcile against fakes."""
from __future__ import annotations

from typing import Any

from api.models import Endpoints, Pod, Service
from controllers.endpoints import EndpointsController, compute_subsets, desired_endpoints
from tests.support.controller_fakes import RecordingClient, informers_for, obj, seed


def svc(name: str = "web", selector: dict[str, str] | None = None,
        ports: list[dict[str, Any]] | None = None, **spec: Any) -> Service:
    s: dict[str, Any] = {"ports": ports if ports is not None else
                         [{"name": "http", "port": 80, "targetPort": 8080}]}
    if selector is not None:
        s["selector"] = selector
    s.update(spec)
    return obj(Service, name, spec=s)


def pod(name: str, ip: str | None = "10.244.0.5", ready: bool = True,
        labels: dict[str, str] | None = None, ports: list[dict[str, Any]] | None = None,
        node: str = "n1", deleting: bool = False, phase: str = "Running") -> Pod:
    meta: dict[str, Any] = {"labels": labels or {"app": "web"}}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    status: dict[str, Any] = {"phase": phase,
                              "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if ip:
        status["podIP"] = ip
    return obj(Pod, name, metadata=meta, spec={"nodeName": node, "containers": [
        {"name": "c", "image": "x", "ports": ports or []}]}, status=status)


def test_ready_and_unready_addresses() -> None:
    s = svc(selector={"app": "web"})
    subsets = compute_subsets(s, [pod("a", "10.244.0.9"), pod("b", "10.244.0.10", ready=False),
                                  pod("c", "10.244.0.2")])
    assert len(subsets) == 1
    sub = subsets[0]
    assert [a.ip for a in sub.addresses or []] == ["10.244.0.2", "10.244.0.9"]
    assert [a.ip for a in sub.not_ready_addresses or []] == ["10.244.0.10"]
    a = (sub.addresses or [])[0]
    assert a.node_name == "n1" and a.target_ref is not None
    assert a.target_ref.kind == "Pod" and a.target_ref.name == "c" and a.target_ref.uid
    assert [(p.name, p.port, p.protocol) for p in sub.ports or []] == [("http", 8080, "TCP")]


def test_excluded_pods() -> None:
    s = svc(selector={"app": "web"})
    subsets = compute_subsets(s, [pod("noip", ip=None), pod("gone", deleting=True),
                                  pod("done", phase="Succeeded")])
    assert subsets == []


def test_named_target_port_resolves_per_pod_and_groups_by_port_set() -> None:
    s = svc(selector={"app": "web"}, ports=[{"name": "http", "port": 80, "targetPort": "web"}])
    p1 = pod("a", "10.0.0.1", ports=[{"name": "web", "containerPort": 8080}])
    p2 = pod("b", "10.0.0.2", ports=[{"name": "web", "containerPort": 9090}])
    p3 = pod("c", "10.0.0.3", ports=[{"name": "other", "containerPort": 1}])   # lacks it
    subsets = compute_subsets(s, [p1, p2, p3])
    got = {(sub.ports or [])[0].port: [a.ip for a in sub.addresses or []] for sub in subsets}
    assert got == {8080: ["10.0.0.1"], 9090: ["10.0.0.2"]}


def test_target_port_defaults_to_port_and_publish_not_ready() -> None:
    s = svc(selector={"app": "web"}, ports=[{"port": 53, "protocol": "UDP"}],
            publishNotReadyAddresses=True)
    subsets = compute_subsets(s, [pod("a", ready=False)])
    assert [a.ip for a in subsets[0].addresses or []] == ["10.244.0.5"]
    assert subsets[0].not_ready_addresses is None
    assert [(p.port, p.protocol) for p in subsets[0].ports or []] == [(53, "UDP")]


def test_desired_unchanged_is_none() -> None:
    s = svc(selector={"app": "web"})
    same_pod = pod("a")
    ep = desired_endpoints(s, [same_pod], None)
    assert ep is not None and ep.metadata.name == "web"
    assert desired_endpoints(s, [same_pod], ep) is None
    assert desired_endpoints(s, [same_pod, pod("b", ip="10.244.0.7")], ep) is not None


async def _controller(*objs: Any) -> tuple[EndpointsController, RecordingClient]:
    client = RecordingClient()
    informers = informers_for(client)
    c = EndpointsController(client, informers)   # type: ignore[arg-type]
    seed(informers, *objs)
    return c, client


async def test_reconcile_creates_then_only_writes_on_change() -> None:
    s = svc(selector={"app": "web"})
    p = pod("a")
    c, client = await _controller(s, p)
    await c.reconcile("default/web")
    created = client.verbs("create")
    assert len(created) == 1 and created[0][1] == "Endpoints/web"
    seed(c.informers, created[0][2])
    client.actions.clear()
    await c.reconcile("default/web")
    assert client.writes() == []
    seed(c.informers, pod("a2", ip="10.244.0.6", labels={"app": "web"}))
    await c.reconcile("default/web")
    assert [a[0] for a in client.writes()] == ["update"]


async def test_pod_maps_to_matching_services() -> None:
    s1, s2 = svc("web", selector={"app": "web"}), svc("db", selector={"app": "db"})
    c, _ = await _controller(s1, s2)
    assert c._services_for_pod(pod("a")) == ["default/web"]


async def test_service_gone_deletes_endpoints_and_kubernetes_is_left_alone() -> None:
    ep = obj(Endpoints, "web")
    kube = obj(Service, "kubernetes", spec={"ports": [{"port": 443}]})
    c, client = await _controller(ep, kube)
    await c.reconcile("default/web")
    assert [(a[0], a[1]) for a in client.writes()] == [("delete", "Endpoints/web")]
    client.actions.clear()
    await c.reconcile("default/kubernetes")
    assert client.writes() == []


async def test_service_without_selector_untouched() -> None:
    c, client = await _controller(svc("manual"), pod("a"))
    await c.reconcile("default/manual")
    assert client.writes() == []
