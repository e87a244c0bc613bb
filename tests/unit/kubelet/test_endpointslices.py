"""EndpointSlices as kube-proxy and the cluster DNS read them: grouped per Service, merged
into ready and not-ready addresses per port set, each address once; and the DNS view
answering a headless Service's names from its slices."""
from __future__ import annotations

from typing import Any

from api.models import EndpointSlice, Service
from kubelet.dns.records import Resolver
from kubelet.dns.server import InformerView
from kubelet.endpointslices import SliceCache
from kubelet.proxy.rules import Endpoint
from kubelet.proxy.state import ready_endpoints

PORTS = [{"name": "http", "port": 8080, "protocol": "TCP"}]


def es(name: str, service: str, endpoints: list[dict[str, Any]], ports: list[dict[str, Any]] = PORTS,
       address_type: str = "IPv4") -> EndpointSlice:
    return EndpointSlice.from_dict({"metadata": {"name": name, "namespace": "default",
                                                 "labels": {"kubernetes.io/service-name": service}},
                                    "addressType": address_type, "ports": ports, "endpoints": endpoints})


def test_slices_of_a_service_merge() -> None:
    cache = SliceCache()
    assert cache.update(es("web-a", "web", [{"addresses": ["10.0.0.1"], "conditions": {"ready": True}},
                                            {"addresses": ["10.0.0.2"], "conditions": {"ready": False}}])) == ["default/web"]
    cache.update(es("web-b", "web", [{"addresses": ["10.0.0.3"]},                       # unset: ready
                                     {"addresses": ["10.0.0.1"], "conditions": {"ready": True}}]))
    cache.update(es("web-c", "web", [{"addresses": ["10.0.0.4"]}], [{"name": "metrics", "port": 9090}]))
    cache.update(es("other-a", "other", [{"addresses": ["10.0.9.9"]}]))
    merged = cache.endpoints("default/web")
    assert merged is not None
    by_port = ready_endpoints(merged)
    assert by_port[("http", "tcp")] == (Endpoint("10.0.0.1", 8080), Endpoint("10.0.0.3", 8080))
    assert by_port[("metrics", "tcp")] == (Endpoint("10.0.0.4", 9090),)
    assert [a.ip for s in merged.subsets or [] for a in s.not_ready_addresses or []] == ["10.0.0.2"]
    assert cache.delete(es("web-a", "web", [])) == ["default/web"]
    assert ready_endpoints(cache.endpoints("default/web"))[("http", "tcp")] == (  # type: ignore[arg-type]
        Endpoint("10.0.0.3", 8080), Endpoint("10.0.0.1", 8080))
    for name in ("web-b", "web-c"):
        cache.delete(es(name, "web", []))
    assert cache.endpoints("default/web") is None
    assert cache.update(EndpointSlice.from_dict({"metadata": {"name": "x", "namespace": "default"},
                                                 "addressType": "IPv4"})) == []          # no service label


def test_a_slice_moving_to_another_service_changes_both() -> None:
    cache = SliceCache()
    cache.update(es("s", "a", [{"addresses": ["10.0.0.1"]}]))
    assert cache.update(es("s", "b", [{"addresses": ["10.0.0.1"]}])) == ["default/a", "default/b"]
    assert cache.endpoints("default/a") is None and cache.endpoints("default/b") is not None


class FakeInformer:
    def __init__(self, objs: list[Any] = ()) -> None:  # type: ignore[assignment]
        self.handlers: list[Any] = []
        self.store = self
        self.objs = {f"{o.metadata.namespace}/{o.metadata.name}": o for o in objs}

    def add_handlers(self, on_add: Any, on_update: Any, on_delete: Any) -> None:
        self.handlers = [on_add, on_update, on_delete]

    def get(self, key: str) -> Any:
        return self.objs.get(key)

    def list(self) -> list[Any]:
        return list(self.objs.values())


def test_dns_answers_a_headless_service_from_its_slices() -> None:
    svc = Service.from_dict({"metadata": {"name": "nginx", "namespace": "default"},
                             "spec": {"clusterIP": "None", "ports": [{"name": "web", "port": 80}]}})
    slices = FakeInformer()
    view = InformerView(FakeInformer([svc]), slices)  # type: ignore[arg-type]
    resolver = Resolver(view)
    assert resolver.answer("nginx.default.svc.cluster.local", "A").rcode == "NXDOMAIN"   # nothing ready yet
    add, update, delete = slices.handlers
    one = es("nginx-x", "nginx", [{"addresses": ["10.244.1.5"], "hostname": "web-0", "conditions": {"ready": True}},
                                  {"addresses": ["10.244.1.6"], "hostname": "web-1", "conditions": {"ready": False}}],
             [{"name": "web", "port": 80}])
    add(one)
    assert [r.data for r in resolver.answer("nginx.default.svc.cluster.local", "A").answers] == [("10.244.1.5",)]
    assert [r.data for r in resolver.answer("web-0.nginx.default.svc.cluster.local", "A").answers] == [("10.244.1.5",)]
    ready = es("nginx-x", "nginx", [{"addresses": ["10.244.1.5"], "hostname": "web-0"},
                                    {"addresses": ["10.244.1.6"], "hostname": "web-1"}], [{"name": "web", "port": 80}])
    update(one, ready)
    assert sorted(r.data for r in resolver.answer("nginx.default.svc.cluster.local", "A").answers) == \
        [("10.244.1.5",), ("10.244.1.6",)]
    delete(ready)
    assert resolver.answer("nginx.default.svc.cluster.local", "A").rcode == "NXDOMAIN"
