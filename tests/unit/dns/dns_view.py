"""A dict-backed `ClusterView` and a small cluster for the DNS unit tests."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from api.models import Endpoints, Service


class DictView:
    def __init__(self, services: Iterable[Service] = (), endpoints: Iterable[Endpoints] = ()) -> None:
        self.svcs = {(s.metadata.namespace, s.metadata.name): s for s in services}
        self.eps = {(e.metadata.namespace, e.metadata.name): e for e in endpoints}

    def service(self, namespace: str, name: str) -> Service | None:
        return self.svcs.get((namespace, name))

    def endpoints(self, namespace: str, name: str) -> Endpoints | None:
        return self.eps.get((namespace, name))

    def services(self) -> Iterable[Service]:
        return self.svcs.values()


def svc(name: str, spec: dict[str, Any], ns: str = "default") -> Service:
    return Service.from_dict({"metadata": {"name": name, "namespace": ns}, "spec": spec})


def eps(name: str, addrs: list[dict[str, Any]], ports: list[dict[str, Any]], ns: str = "default") -> Endpoints:
    return Endpoints.from_dict({"metadata": {"name": name, "namespace": ns},
                                "subsets": [{"addresses": addrs, "ports": ports}] if addrs else []})


def cluster() -> DictView:
    return DictView(
        [svc("nginx-svc", {"clusterIP": "10.96.0.20", "ports": [{"name": "http", "port": 80}]}),
         svc("db", {"clusterIP": "None", "ports": [{"name": "pg", "port": 5432}]}),
         svc("empty", {"clusterIP": "None", "ports": [{"port": 80}]}),
         svc("ext", {"type": "ExternalName", "externalName": "example.org"}),
         svc("kube-dns", {"clusterIP": "10.96.0.10", "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]},
             ns="kube-system")],
        [eps("db", [{"ip": "10.244.1.7", "hostname": "db-0"}, {"ip": "10.244.2.7"}],
             [{"name": "pg", "port": 5432}]),
         eps("nginx-svc", [{"ip": "10.244.1.5"}], [{"name": "http", "port": 8080}])])
