"""Cluster DNS answers (pure), after the Kubernetes DNS specification and CoreDNS.

Owns `answer(qname, qtype, view)`: what the cluster's DNS says about a name, from the
Services and Endpoints in a `ClusterView` (the informer caches in the server, plain
dicts in tests). `None` means "not ours": the server forwards the query upstream.

Names under the cluster domain (`cluster.local`):
- `<svc>.<ns>.svc.<domain>` A: the ClusterIP; for a headless Service the ready endpoint
  IPs (NXDOMAIN when it has none); CNAME for an ExternalName Service; SRV: one per port.
- `_<port>._<proto>.<svc>.<ns>.svc.<domain>` SRV: the named port, target the Service
  name (headless: each endpoint, `<hostname or a-b-c-d>.<svc>...`), with the A records
  as additional answers.
- `<hostname>.<svc>.<ns>.svc.<domain>` A: that endpoint of a headless Service.
- `<a-b-c-d>.<ns>.pod.<domain>` A: that address.
- `<d>.<c>.<b>.<a>.in-addr.arpa` PTR for a ClusterIP or an endpoint with a hostname;
  other reverse names are not ours.
Unknown names in the domain are NXDOMAIN; a known name asked for another type is NODATA;
both carry the zone's SOA, so negative answers are cached for the TTL.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from api.models import Endpoints, Service

DEFAULT_TTL = 5


class ClusterView(Protocol):
    def service(self, namespace: str, name: str) -> Service | None: ...

    def endpoints(self, namespace: str, name: str) -> Endpoints | None: ...

    def services(self) -> Iterable[Service]: ...


@dataclass(frozen=True)
class RR:
    name: str          # absolute, with the trailing dot
    rtype: str         # A, AAAA, SRV, CNAME, PTR, SOA
    data: tuple[object, ...]
    ttl: int = DEFAULT_TTL


@dataclass
class Answer:
    rcode: str = "NOERROR"   # or NXDOMAIN
    answers: list[RR] = field(default_factory=list)
    additional: list[RR] = field(default_factory=list)
    authority: list[RR] = field(default_factory=list)


def soa(domain: str, ttl: int) -> RR:
    return RR(f"{domain}.", "SOA", (f"ns.dns.{domain}.", f"hostmaster.{domain}.", 1, 7200, 1800, 86400, ttl), ttl)


def dashed(ip: str) -> str:
    return ip.replace(".", "-").replace(":", "-")


def _ready(ep: Endpoints | None) -> list[tuple[str, str | None]]:
    """(ip, hostname) of every ready address, in order, without repeats."""
    seen: dict[str, str | None] = {}
    for subset in (ep.subsets if ep else None) or []:
        for a in subset.addresses or []:
            seen.setdefault(a.ip, a.hostname)
    return list(seen.items())


def _addr_rr(name: str, ip: str, ttl: int) -> RR:
    return RR(name, "AAAA" if ":" in ip else "A", (ip,), ttl)


class Resolver:
    def __init__(self, view: ClusterView, domain: str = "cluster.local", ttl: int = DEFAULT_TTL) -> None:
        self.view, self.domain, self.ttl = view, domain.strip(".").lower(), ttl

    def _neg(self, rcode: str = "NOERROR") -> Answer:
        return Answer(rcode=rcode, authority=[soa(self.domain, self.ttl)])

    def _filter(self, rrs: list[RR], qtype: str, extra: list[RR] | None = None) -> Answer:
        picked = [r for r in rrs if qtype in (r.rtype, "ANY") or r.rtype == "CNAME"]
        if not picked:
            return self._neg()
        return Answer(answers=picked, additional=extra or [])

    def answer(self, qname: str, qtype: str) -> Answer | None:
        name = qname.lower().rstrip(".")
        if name.endswith(".in-addr.arpa"):
            return self._ptr(name, qtype)
        if name != self.domain and not name.endswith("." + self.domain):
            return None
        labels = name[: -len(self.domain)].rstrip(".").split(".") if name != self.domain else []
        if not labels:
            return self._filter([soa(self.domain, self.ttl)], qtype)
        kind = labels[-1]
        rest = labels[:-1]
        if kind == "svc":
            return self._svc(rest, qtype, name)
        if kind == "pod" and len(rest) == 2:
            try:
                ip = str(ipaddress.ip_address(rest[0].replace("-", ".")))
            except ValueError:
                return self._neg("NXDOMAIN")
            return self._filter([_addr_rr(name + ".", ip, self.ttl)], qtype)
        if kind == "pod" and len(rest) <= 1:
            return self._neg()
        return self._neg("NXDOMAIN")

    def _svc(self, rest: list[str], qtype: str, name: str) -> Answer:
        if len(rest) <= 1:
            return self._neg()   # `svc.<domain>`, `<ns>.svc.<domain>`: names without records
        ns, svc_name = rest[-1], rest[-2]
        svc = self.view.service(ns, svc_name)
        if svc is None or svc.spec is None:
            return self._neg("NXDOMAIN")
        fqdn = f"{svc_name}.{ns}.svc.{self.domain}."
        if len(rest) == 2:
            return self._service(svc, fqdn, qtype)
        if len(rest) == 4 and rest[0].startswith("_") and rest[1].startswith("_"):
            return self._srv(svc, fqdn, rest[0][1:], rest[1][1:], qtype)
        if len(rest) == 3 and svc.spec.cluster_ip == "None":
            for ip, host in _ready(self.view.endpoints(ns, svc_name)):
                if rest[0] in (host, dashed(ip)):
                    return self._filter([_addr_rr(name + ".", ip, self.ttl)], qtype)
        return self._neg("NXDOMAIN")

    def _addresses(self, svc: Service, fqdn: str) -> list[RR] | None:
        spec = svc.spec
        assert spec is not None
        if spec.type == "ExternalName" and spec.external_name:
            return [RR(fqdn, "CNAME", (spec.external_name.rstrip(".") + ".",), self.ttl)]
        if spec.cluster_ip == "None":
            ns, name = svc.metadata.namespace or "default", svc.metadata.name or ""
            ready = _ready(self.view.endpoints(ns, name))
            return [_addr_rr(fqdn, ip, self.ttl) for ip, _ in ready] or None
        if spec.cluster_ip:
            return [_addr_rr(fqdn, spec.cluster_ip, self.ttl)]
        return []

    def _service(self, svc: Service, fqdn: str, qtype: str) -> Answer:
        addrs = self._addresses(svc, fqdn)
        if addrs is None:
            return self._neg("NXDOMAIN")
        if qtype == "SRV":
            srvs: list[RR] = []
            extra: list[RR] = []
            for p in (svc.spec.ports if svc.spec else None) or []:
                if p.name:
                    a = self._srv(svc, fqdn, p.name, (p.protocol or "TCP").lower(), "SRV")
                    srvs += [RR(fqdn, "SRV", r.data, r.ttl) for r in a.answers]
                    extra += [r for r in a.additional if r not in extra]
            return self._filter(srvs, qtype, extra)
        return self._filter(addrs, qtype)

    def _srv(self, svc: Service, fqdn: str, port_name: str, proto: str, qtype: str) -> Answer:
        spec = svc.spec
        assert spec is not None
        port = next((p for p in spec.ports or [] if p.name == port_name
                     and (p.protocol or "TCP").lower() == proto), None)
        if port is None:
            return self._neg("NXDOMAIN")
        srv_name = f"_{port_name}._{proto}.{fqdn}"
        if spec.cluster_ip != "None":
            addrs = self._addresses(svc, fqdn) or []
            return self._filter([RR(srv_name, "SRV", (0, 100, port.port, fqdn), self.ttl)], qtype, addrs)
        ns, name = svc.metadata.namespace or "default", svc.metadata.name or ""
        ep = self.view.endpoints(ns, name)
        records, extra = [], []
        for subset in (ep.subsets if ep else None) or []:
            ep_port = next((p for p in subset.ports or [] if p.name == port_name
                            and (p.protocol or "TCP").lower() == proto), None)
            if ep_port is None:
                continue
            addrs = subset.addresses or []
            for a in addrs:
                target = f"{a.hostname or dashed(a.ip)}.{fqdn}"
                records.append(RR(srv_name, "SRV", (0, max(1, 100 // len(addrs)), ep_port.port, target),
                                  self.ttl))
                extra.append(_addr_rr(target, a.ip, self.ttl))
        if not records:
            return self._neg("NXDOMAIN")
        return self._filter(records, qtype, extra)

    def _ptr(self, name: str, qtype: str) -> Answer | None:
        parts = name[: -len(".in-addr.arpa")].split(".")
        if len(parts) != 4:
            return None
        ip = ".".join(reversed(parts))
        for svc in self.view.services():
            spec = svc.spec
            if spec is None:
                continue
            ns, svc_name = svc.metadata.namespace or "default", svc.metadata.name or ""
            fqdn = f"{svc_name}.{ns}.svc.{self.domain}."
            if spec.cluster_ip == ip:
                return self._filter([RR(name + ".", "PTR", (fqdn,), self.ttl)], qtype)
            if spec.cluster_ip == "None":
                for a_ip, host in _ready(self.view.endpoints(ns, svc_name)):
                    if a_ip == ip and host:
                        return self._filter([RR(name + ".", "PTR", (f"{host}.{fqdn}",), self.ttl)], qtype)
        return None


def answer(qname: str, qtype: str, view: ClusterView, domain: str = "cluster.local",
           ttl: int = DEFAULT_TTL) -> Answer | None:
    return Resolver(view, domain, ttl).answer(qname, qtype)
