"""From API objects to the proxier's internal state (pure).

Owns how a `Service` becomes `ServicePortInfo`s and an `Endpoints` becomes ready
`Endpoint`s per (port name, protocol), as kube-proxy's service and endpoints change
trackers do:
- No rules for headless Services (clusterIP None), ExternalName Services, or Services
  whose ClusterIP is not yet allocated.
- NodePort and LoadBalancer Services carry their node ports; LoadBalancer ones the IPs in
  `status.loadBalancer.ingress` (what ServiceLB writes); any type its `externalIPs`.
- `sessionAffinity: ClientIP` carries `sessionAffinityConfig.clientIP.timeoutSeconds`
  (default 10800).
- Only `addresses` (ready) of an Endpoints subset count; `notReadyAddresses` never do.
- This proxier programs IPv4 (`iptables`): IPv6 cluster, load-balancer, external and
  endpoint addresses are left out, so one dual-stack object can never break a restore.
- `stale_udp_flows` lists the conntrack entries to drop after a UDP service changes
  (kube-proxy's conntrack cleanup): a service that gains endpoints from none, and an
  endpoint that went away.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from api.models import Endpoints, Service
from kubelet.proxy.rules import DEFAULT_AFFINITY_SECONDS, Endpoint, ServicePortInfo

PortKey = tuple[str, str]          # (ServicePortName string, lower-case protocol)
EndpointsByPort = dict[tuple[str, str], tuple[Endpoint, ...]]  # (port name, protocol) -> ready


def is_ipv4(text: str | None) -> bool:
    try:
        return ipaddress.ip_address(text or "").version == 4
    except ValueError:
        return False


def _affinity_seconds(svc: Service) -> int:
    spec = svc.spec
    if spec is None or spec.session_affinity != "ClientIP":
        return 0
    cfg: dict[str, Any] = spec.session_affinity_config or {}
    seconds = (cfg.get("clientIP") or {}).get("timeoutSeconds")
    return int(seconds) if seconds else DEFAULT_AFFINITY_SECONDS


def service_ports(svc: Service) -> list[ServicePortInfo]:
    spec = svc.spec
    if spec is None or spec.type == "ExternalName":
        return []
    cip = spec.cluster_ip
    if not is_ipv4(cip):
        return []            # headless ("None"), not yet allocated, or IPv6
    stype = spec.type or "ClusterIP"
    lb_ips: tuple[str, ...] = ()
    if stype == "LoadBalancer" and svc.status and svc.status.load_balancer:
        lb_ips = tuple(i.ip for i in svc.status.load_balancer.ingress or [] if is_ipv4(i.ip))
    external = tuple(ip for ip in spec.external_ips or [] if is_ipv4(ip))
    affinity = _affinity_seconds(svc)
    out = []
    for p in spec.ports or []:
        out.append(ServicePortInfo(
            namespace=svc.metadata.namespace or "default", name=svc.metadata.name or "",
            port_name=p.name or "", protocol=(p.protocol or "TCP").upper(), port=p.port,
            cluster_ip=str(cip),
            node_port=(p.node_port or 0) if stype in ("NodePort", "LoadBalancer") else 0,
            load_balancer_ips=lb_ips, external_ips=external, affinity_seconds=affinity))
    return out


def ready_endpoints(ep: Endpoints) -> EndpointsByPort:
    out: dict[tuple[str, str], list[Endpoint]] = {}
    for subset in ep.subsets or []:
        addrs = [a for a in subset.addresses or [] if is_ipv4(a.ip)]
        for port in subset.ports or []:
            bucket = out.setdefault((port.name or "", (port.protocol or "TCP").lower()), [])
            bucket.extend(Endpoint(a.ip, port.port) for a in addrs)
    return {k: tuple(v) for k, v in out.items()}


def endpoints_for(sp: ServicePortInfo, by_port: EndpointsByPort | None) -> tuple[Endpoint, ...]:
    if not by_port:
        return ()
    return by_port.get((sp.port_name, sp.proto), ())


def stale_udp_flows(old: Mapping[PortKey, tuple[ServicePortInfo, tuple[Endpoint, ...]]],
                    new: Mapping[PortKey, tuple[ServicePortInfo, tuple[Endpoint, ...]]]) -> list[list[str]]:
    """conntrack argument lists deleting UDP flows the new rules no longer serve."""
    flows: list[list[str]] = []
    for key, (sp, eps) in new.items():
        if sp.proto != "udp":
            continue
        before = old.get(key)
        old_eps = before[1] if before else ()
        if eps and not old_eps:
            flows.append(["-D", "-p", "udp", "--orig-dst", sp.cluster_ip, "--orig-port-dst", str(sp.port)])
        gone = {e.ip for e in old_eps} - {e.ip for e in eps}
        for ip in sorted(gone):
            flows.append(["-D", "-p", "udp", "--orig-dst", sp.cluster_ip, "--dst-nat", ip])
    for key, (sp, eps) in old.items():
        if sp.proto == "udp" and key not in new:
            for ip in sorted({e.ip for e in eps}):
                flows.append(["-D", "-p", "udp", "--orig-dst", sp.cluster_ip, "--dst-nat", ip])
    return flows
