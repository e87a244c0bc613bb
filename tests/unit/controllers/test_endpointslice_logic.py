"""The EndpointSlice controller's decisions: endpoints and their conditions from pods, ports
resolved per pod, 100 endpoints per slice, and a plan that writes only what changed."""
from __future__ import annotations

from typing import Any

from api.models import EndpointSlice, Pod, Service
from controllers import endpointslice_logic as logic
from tests.support.apps_objects import make_pod


def svc(**spec: Any) -> Service:
    return Service.from_dict({"metadata": {"name": "web", "namespace": "default", "uid": "s1"},
                              "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80,
                                                                              "targetPort": "http"}], **spec}})


def pod(name: str, ip: str, *, ready: bool = True, deleting: bool = False, port: int = 8080,
        hostname: str | None = None) -> Pod:
    d = make_pod(name, {"app": "web"}, ready=ready, deleting=deleting).to_dict()
    d["status"]["podIP"] = ip
    d["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": port}]
    p = Pod.from_dict(d)
    if hostname:
        p.spec.hostname, p.spec.subdomain = hostname, "web"  # type: ignore[union-attr]
    return p


def test_conditions_ports_and_hostnames() -> None:
    groups = logic.desired_groups(svc(), [pod("a", "10.0.0.1", hostname="a"), pod("b", "10.0.0.2", ready=False),
                                          pod("c", "10.0.0.3", deleting=True), pod("d", "10.0.0.4", port=9090)],
                                  lambda node: "zone-1")
    assert sorted(groups) == [(("http", 8080, "TCP", ""),), (("http", 9090, "TCP", ""),)]
    eps = {e.target_ref.name: e for e in groups[(("http", 8080, "TCP", ""),)]}  # type: ignore[union-attr]
    assert eps["a"].conditions.to_dict() == {"ready": True, "serving": True, "terminating": False}  # type: ignore[union-attr]
    assert eps["a"].hostname == "a" and eps["a"].zone == "zone-1"
    assert eps["b"].conditions.ready is False and eps["c"].conditions.terminating is True  # type: ignore[union-attr]
    published = logic.desired_groups(svc(publishNotReadyAddresses=True), [pod("b", "10.0.0.2", ready=False)],
                                     lambda node: None)
    assert next(iter(published.values()))[0].conditions.ready is True  # type: ignore[union-attr]


def test_plan_chunks_and_writes_only_changes() -> None:
    s = svc()
    pods = [pod(f"p{i:03}", f"10.0.{i // 250}.{i % 250 + 1}") for i in range(150)]
    groups = logic.desired_groups(s, pods, lambda node: None)
    plan = logic.plan(s, [], groups)
    assert [len(es.endpoints or []) for es in plan.create] == [100, 50] and not plan.update
    existing = [EndpointSlice.from_dict({**es.to_dict(), "metadata": {**es.metadata.to_dict(), "name": f"web-{i}"}})
                for i, es in enumerate(plan.create)]
    again = logic.plan(s, existing, groups)
    assert not again.create and not again.update and not again.delete
    fewer = logic.plan(s, existing, logic.desired_groups(s, pods[:90], lambda node: None))
    assert [es.name for es in fewer.update] == ["web-0"] and [es.name for es in fewer.delete] == ["web-1"]
    empty = logic.plan(s, [], {})
    assert len(empty.create) == 1 and not empty.create[0].endpoints and not empty.create[0].ports
