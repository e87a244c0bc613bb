"""HTTPRoutes as locations and the Gateway API status (pure)."""
from __future__ import annotations

from typing import Any

from ingress import gateway
from ingress.nginxconf import render
from ingress.routes import Backends, build_plan

GC = {"metadata": {"name": "nginx"}, "spec": {"controllerName": gateway.CONTROLLER_NAME}}
OTHER = {"metadata": {"name": "envoy"}, "spec": {"controllerName": "example.io/envoy"}}


def gw(name: str = "web", cls: str = "nginx", origin: str | None = None) -> dict[str, Any]:
    listener: dict[str, Any] = {"name": "http", "protocol": "HTTP", "port": 80}
    if origin:
        listener["allowedRoutes"] = {"namespaces": {"from": origin}}
    return {"metadata": {"name": name, "namespace": "default", "generation": 1},
            "spec": {"gatewayClassName": cls, "listeners": [listener]}}


def route(rules: list[dict[str, Any]], ns: str = "default", parent: str = "web", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "r", "namespace": ns, "generation": 2},
            "spec": {"parentRefs": [{"name": parent, "namespace": "default"}], "rules": rules, **spec}}


def backends() -> Backends:
    services = {("default", n): {"metadata": {"name": n, "namespace": "default"}, "spec": {"ports": [{"port": 80}]}}
                for n in ("v1", "v2")}
    slices = [{"metadata": {"namespace": "default", "labels": {"kubernetes.io/service-name": n}},
               "ports": [{"port": 8080}],
               "endpoints": [{"addresses": [ip]} for ip in ips]}
              for n, ips in (("v1", ["10.0.0.1", "10.0.0.2", "10.0.0.3"]), ("v2", ["10.0.0.9"]))]
    return Backends(services, slices)


def test_attachment_by_class_and_namespace() -> None:
    gws = gateway.our_gateways([GC, OTHER], [gw(), gw("e", "envoy")])
    assert [g["metadata"]["name"] for g in gws] == ["web"]
    assert gateway.attachments(route([]), gws)
    assert not gateway.attachments(route([], parent="e"), gws)
    assert not gateway.attachments(route([], ns="team"), gws)                 # allowedRoutes: Same
    assert gateway.attachments(route([], ns="team"), [gw(origin="All")])


def test_weights_headers_and_problems() -> None:
    locs, problems, issues = gateway.route_locations([route([
        {"matches": [{"path": {"type": "Exact", "value": "/a"},
                      "headers": [{"name": "X-A", "value": "1"}, {"name": "X-B", "value": "2"}]},
                     {"path": {"type": "Exact", "value": "/a"}, "headers": [{"name": "X-A", "value": "1"}]}],
         "backendRefs": [{"name": "v2", "port": 80}]},
        {"matches": [{"path": {"type": "Exact", "value": "/a"}},
                     {"path": {"type": "RegularExpression", "value": ".*"}}],
         "backendRefs": [{"name": "v1", "port": 80, "weight": 90}, {"name": "v2", "port": 80, "weight": 10},
                         {"name": "gone", "port": 80}]},
    ], hostnames=["a.io"])], [gw()], backends())
    (host, loc), = locs
    assert host == "a.io" and (loc.path, loc.exact) == ("/a", True)
    assert [b.headers for b in loc.branches] == [(("X-A", "1"), ("X-B", "2")), (("X-A", "1"),)]
    assert loc.upstream is not None and loc.upstream.weights == (3, 3, 3, 1)   # 90 over 3 pods, 10 over 1
    assert issues["default/r"] == ['service "default/gone" not found',
                                   "path match type RegularExpression is not supported"]
    assert {p.reason for p in problems} == {"HTTPRouteNotFullyServed"}

    plan = build_plan([], {}, [], {}, routes=lambda b: (locs, problems))
    text = render(plan).text
    assert "server 10.0.0.9:8080 weight=1 max_fails=0;" in text
    assert '            set $pykube_match0 "";' in text
    assert '            if ($http_x_a = "1") { set $pykube_match0 "${pykube_match0}1"; }' in text
    assert '            if ($pykube_match0 = "11") {' in text
    assert '            if ($http_x_a = "1") {' in text


def test_status() -> None:
    st = gateway.route_status(route([]), [gw()], ['service "default/gone" not found'])
    (parent,) = st["parents"]
    assert parent["controllerName"] == gateway.CONTROLLER_NAME
    assert [(c["type"], c["status"], c["reason"], c["observedGeneration"]) for c in parent["conditions"]] == [
        ("Accepted", "True", "Accepted", 2), ("ResolvedRefs", "False", "BackendNotFound", 2)]
    g = gateway.gateway_status(gw(), ["192.0.2.1"], 3)
    assert g["addresses"] == [{"type": "IPAddress", "value": "192.0.2.1"}]
    assert g["listeners"][0]["attachedRoutes"] == 3
    again = gateway.gateway_status({**gw(), "status": g}, ["192.0.2.1"], 3)
    assert again == g                                       # unchanged: lastTransitionTime kept, no write
