"""How pods reach the cluster DNS: Service `kube-system/kube-dns` at 10.96.0.10.

Owns the Service (no selector, ports `dns` 53/UDP and `dns-tcp` 53/TCP, the well-known
ClusterIP) and its Endpoints, which name the address and port where `pykube dns`
listens; kube-proxy on every node then DNATs 10.96.0.10:53 there. The Endpoints
controller leaves selector-less Services alone, so these Endpoints are ours to write.

`ensure_registered` creates or repairs both (ports, labels, addresses) and is idempotent:
run it at start and periodically. A Service that already holds another ClusterIP keeps it
(ClusterIPs are immutable) and a warning says so.
"""
from __future__ import annotations

import logging

from api.models import Endpoints, ObjectMeta, Service
from api.models.core import EndpointAddress, EndpointPort, EndpointSubset, ServicePort, ServiceSpec
from client.errors import AlreadyExists, Conflict, NotFound
from client.rest import Client

log = logging.getLogger("dns")

NAMESPACE, NAME = "kube-system", "kube-dns"
DEFAULT_CLUSTER_IP = "10.96.0.10"
LABELS = {"k8s-app": "kube-dns", "kubernetes.io/name": "pykube-dns", "kubernetes.io/cluster-service": "true"}


def service_ports(target_port: int) -> list[ServicePort]:
    return [ServicePort(name="dns", port=53, protocol="UDP", target_port=target_port),
            ServicePort(name="dns-tcp", port=53, protocol="TCP", target_port=target_port)]


def dns_service(cluster_ip: str, target_port: int) -> Service:
    return Service(metadata=ObjectMeta(name=NAME, namespace=NAMESPACE, labels=dict(LABELS)),
                   spec=ServiceSpec(type="ClusterIP", cluster_ip=cluster_ip, ports=service_ports(target_port)))


def dns_subsets(address: str, port: int) -> list[EndpointSubset]:
    return [EndpointSubset(addresses=[EndpointAddress(ip=address)],
                           ports=[EndpointPort(name="dns", port=port, protocol="UDP"),
                                  EndpointPort(name="dns-tcp", port=port, protocol="TCP")])]


def _ports_differ(svc: Service, target_port: int) -> bool:
    have = [(p.name, p.port, p.protocol, p.target_port) for p in (svc.spec.ports if svc.spec else None) or []]
    want = [(p.name, p.port, p.protocol, p.target_port) for p in service_ports(target_port)]
    return have != want


async def ensure_registered(client: Client, address: str, port: int,
                            cluster_ip: str = DEFAULT_CLUSTER_IP) -> None:
    try:
        svc = await client.get(Service, NAME, namespace=NAMESPACE)
        if svc.spec is not None and svc.spec.cluster_ip != cluster_ip:
            log.warning("%s/%s has ClusterIP %s, not %s; pods configured for %s will not reach it",
                        NAMESPACE, NAME, svc.spec.cluster_ip, cluster_ip, cluster_ip)
        if svc.spec is not None and (_ports_differ(svc, port) or svc.spec.selector):
            svc.spec.ports = service_ports(port)
            svc.spec.selector = None
            await client.update(svc)
    except NotFound:
        try:
            await client.create(dns_service(cluster_ip, port))
            log.info("created Service %s/%s at %s", NAMESPACE, NAME, cluster_ip)
        except AlreadyExists:
            pass
    subsets = dns_subsets(address, port)
    try:
        ep = await client.get(Endpoints, NAME, namespace=NAMESPACE)
        if [s.to_dict() for s in ep.subsets or []] != [s.to_dict() for s in subsets]:
            ep.subsets = subsets
            ep.metadata.labels = dict(LABELS)
            await client.update(ep)
            log.info("Endpoints %s/%s -> %s:%d", NAMESPACE, NAME, address, port)
    except NotFound:
        try:
            await client.create(Endpoints(metadata=ObjectMeta(name=NAME, namespace=NAMESPACE, labels=dict(LABELS)),
                                          subsets=subsets))
            log.info("Endpoints %s/%s -> %s:%d", NAMESPACE, NAME, address, port)
        except AlreadyExists:
            pass
    except Conflict:
        pass  # somebody else wrote it; the next round looks again
