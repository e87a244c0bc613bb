"""Services and Endpoints as the proxier sees them (pure)."""
from __future__ import annotations

from typing import Any

from api.models import Endpoints, Service
from kubelet.proxy.rules import Endpoint
from kubelet.proxy.state import endpoints_for, ready_endpoints, service_ports, stale_udp_flows


def svc(spec: dict[str, Any], status: dict[str, Any] | None = None, name: str = "web") -> Service:
    d: dict[str, Any] = {"metadata": {"name": name, "namespace": "default"}, "spec": spec}
    if status:
        d["status"] = status
    return Service.from_dict(d)


def test_cluster_ip_ports() -> None:
    s = svc({"clusterIP": "10.96.0.5", "ports": [{"name": "http", "port": 80},
                                                 {"name": "dns", "port": 53, "protocol": "UDP"}]})
    ports = service_ports(s)
    assert [(p.name_string, p.proto, p.port, p.cluster_ip, p.node_port) for p in ports] == [
        ("default/web:http", "tcp", 80, "10.96.0.5", 0), ("default/web:dns", "udp", 53, "10.96.0.5", 0)]


def test_headless_external_name_and_unallocated_get_nothing() -> None:
    assert service_ports(svc({"clusterIP": "None", "ports": [{"port": 80}]})) == []
    assert service_ports(svc({"type": "ExternalName", "externalName": "x.example"})) == []
    assert service_ports(svc({"ports": [{"port": 80}]})) == []
    assert service_ports(svc({"clusterIP": "fd00::10", "ports": [{"port": 80}]})) == []


def test_nodeport_load_balancer_affinity() -> None:
    s = svc({"type": "LoadBalancer", "clusterIP": "10.96.0.7", "sessionAffinity": "ClientIP",
             "externalIPs": ["192.0.2.1"], "ports": [{"port": 80, "nodePort": 30080}]},
            {"loadBalancer": {"ingress": [{"ip": "172.31.1.11"}, {"hostname": "lb.example"}]}})
    (p,) = service_ports(s)
    assert (p.node_port, p.load_balancer_ips, p.external_ips, p.affinity_seconds) == \
        (30080, ("172.31.1.11",), ("192.0.2.1",), 10800)
    assert p.name_string == "default/web"
    cfg = {"clientIP": {"timeoutSeconds": 60}}
    s2 = svc({"clusterIP": "10.96.0.7", "sessionAffinity": "ClientIP", "sessionAffinityConfig": cfg,
              "ports": [{"port": 80, "nodePort": 30080}]})
    (p2,) = service_ports(s2)
    assert (p2.node_port, p2.affinity_seconds) == (0, 60)     # a ClusterIP Service has no node port


def test_only_ready_addresses_count() -> None:
    ep = Endpoints.from_dict({"metadata": {"name": "web", "namespace": "default"}, "subsets": [
        {"addresses": [{"ip": "10.244.1.5"}], "notReadyAddresses": [{"ip": "10.244.1.6"}],
         "ports": [{"name": "http", "port": 8080}]},
        {"addresses": [{"ip": "10.244.2.5"}, {"ip": "fd00::5"}], "ports": [{"name": "http", "port": 8080}]}]})
    by_port = ready_endpoints(ep)
    assert by_port == {("http", "tcp"): (Endpoint("10.244.1.5", 8080), Endpoint("10.244.2.5", 8080))}
    s = svc({"clusterIP": "10.96.0.5", "ports": [{"name": "http", "port": 80}]})
    assert endpoints_for(service_ports(s)[0], by_port) == by_port[("http", "tcp")]
    assert endpoints_for(service_ports(s)[0], None) == ()


def test_stale_udp_flows() -> None:
    s = service_ports(svc({"clusterIP": "10.96.0.10", "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}))[0]
    a, b = Endpoint("10.244.1.5", 53), Endpoint("10.244.1.6", 53)
    assert stale_udp_flows({}, {s.key: (s, (a,))}) == [
        ["-D", "-p", "udp", "--orig-dst", "10.96.0.10", "--orig-port-dst", "53"]]
    assert stale_udp_flows({s.key: (s, (a, b))}, {s.key: (s, (a,))}) == [
        ["-D", "-p", "udp", "--orig-dst", "10.96.0.10", "--dst-nat", "10.244.1.6"]]
    assert stale_udp_flows({s.key: (s, (a,))}, {}) == [
        ["-D", "-p", "udp", "--orig-dst", "10.96.0.10", "--dst-nat", "10.244.1.5"]]
    assert stale_udp_flows({s.key: (s, (a,))}, {s.key: (s, (a,))}) == []
