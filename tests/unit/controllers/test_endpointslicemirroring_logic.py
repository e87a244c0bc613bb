"""The EndpointSlice mirroring controller's decisions: which Endpoints are mirrored, how
subsets become slice endpoints, and a plan that writes only what differs."""
from __future__ import annotations

from typing import Any

from api.models import EndpointSlice, Endpoints, Service
from controllers import endpointslicemirroring_logic as logic


def endpoints(subsets: list[dict[str, Any]], **labels: str) -> Endpoints:
    return Endpoints.from_dict({"metadata": {"name": "ext", "namespace": "default", "uid": "u1",
                                             "labels": {"team": "a", **labels}}, "subsets": subsets})


def service(selector: dict[str, str] | None = None) -> Service:
    return Service.from_dict({"metadata": {"name": "ext", "namespace": "default"},
                              "spec": {"selector": selector, "ports": [{"port": 80}]}})


PORTS = [{"name": "http", "port": 8080, "protocol": "TCP"}]


def test_only_endpoints_of_selectorless_services_are_mirrored() -> None:
    ep = endpoints([])
    assert logic.should_mirror(ep, service())
    assert not logic.should_mirror(ep, service({"app": "web"}))
    assert not logic.should_mirror(ep, None)
    assert not logic.should_mirror(endpoints([], **{logic.SKIP_MIRROR_LABEL: "true"}), service())


def test_subsets_become_slices_by_ports_and_address_type() -> None:
    ep = endpoints([
        {"addresses": [{"ip": "10.0.0.1", "hostname": "a", "nodeName": "n1"}, {"ip": "fd00::1"}],
         "notReadyAddresses": [{"ip": "10.0.0.2"}], "ports": PORTS},
        {"addresses": [{"ip": "10.0.0.3"}, {"ip": "10.0.0.1"}], "ports": PORTS},
        {"addresses": [{"ip": "10.0.0.4"}], "ports": [{"port": 53, "protocol": "UDP"}]}])
    groups = logic.desired_groups(ep)
    http = ("IPv4", (("http", 8080, "TCP", ""),))
    assert [(e.addresses[0], e.conditions.ready, e.hostname, e.node_name) for e in groups[http]] == [  # type: ignore[union-attr]
        ("10.0.0.1", True, "a", "n1"), ("10.0.0.2", False, None, None), ("10.0.0.3", True, None, None)]
    assert [e.addresses for e in groups[("IPv6", http[1])]] == [["fd00::1"]]
    assert [e.addresses for e in groups[("IPv4", (("", 53, "UDP", ""),))]] == [["10.0.0.4"]]
    plan = logic.plan(ep, [], groups)
    assert len(plan.create) == 3 and not plan.update and not plan.delete
    s = plan.create[0].to_dict()
    assert s["metadata"]["generateName"] == "ext-"
    assert s["metadata"]["labels"] == {"team": "a", "kubernetes.io/service-name": "ext",
                                       "endpointslice.kubernetes.io/managed-by":
                                           "endpointslicemirroring-controller.k8s.io"}
    assert s["metadata"]["ownerReferences"][0]["kind"] == "Endpoints"
    assert s["ports"] == [{"name": "http", "protocol": "TCP", "port": 8080}]


def test_plan_writes_only_what_changed() -> None:
    ep = endpoints([{"addresses": [{"ip": "10.0.0.1"}], "ports": PORTS}])
    made = logic.plan(ep, [], logic.desired_groups(ep)).create[0]
    made.metadata.name = "ext-abcde"
    assert logic.plan(ep, [made], logic.desired_groups(ep)) == logic.SlicePlan()
    moved = endpoints([{"addresses": [{"ip": "10.0.0.9"}], "ports": PORTS}])
    plan = logic.plan(moved, [made], logic.desired_groups(moved))
    assert [e.addresses for e in plan.update[0].endpoints or []] == [["10.0.0.9"]] and not plan.create
    other_port = endpoints([{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 9090}]}])
    plan = logic.plan(other_port, [made], logic.desired_groups(other_port))
    assert len(plan.create) == 1 and [s.name for s in plan.delete] == ["ext-abcde"]
    many = endpoints([{"addresses": [{"ip": f"10.0.{i // 250}.{i % 250 + 1}"} for i in range(1200)], "ports": PORTS}])
    chunks = logic.plan(many, [], logic.desired_groups(many)).create
    assert [len(c.endpoints or []) for c in chunks] == [100] * 10     # at most 1000 mirrored


def test_slices_are_typed_endpoint_slices() -> None:
    ep = endpoints([{"addresses": [{"ip": "10.0.0.1"}], "ports": PORTS}])
    assert isinstance(logic.plan(ep, [], logic.desired_groups(ep)).create[0], EndpointSlice)
