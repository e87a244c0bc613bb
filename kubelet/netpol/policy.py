"""NetworkPolicy semantics, pure: for each pod of this node, is it isolated for ingress
and/or egress, and what each direction allows.

A pod is isolated for a direction when some NetworkPolicy of its namespace selects it and
lists that direction in `policyTypes` (default: Ingress, plus Egress when the policy has
egress rules). Then only what some such policy's rule allows passes: each rule is a list of
peers (pods by podSelector within the policy's namespace, or in the namespaces a
namespaceSelector picks, or both combined; or an ipBlock with its excepts; none: anyone)
times a list of ports (numbers, ranges with endPort, or names resolved against the pods'
container ports; none: every port). Replies to allowed connections always pass.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api import selectors

Obj = dict[str, Any]


@dataclass(frozen=True)
class PodInfo:
    namespace: str
    name: str
    ip: str
    labels: dict[str, str]
    ports: dict[str, tuple[int, str]] = field(default_factory=dict)   # name -> (port, protocol)

    @staticmethod
    def from_pod(pod: Obj) -> "PodInfo | None":
        ip = (pod.get("status") or {}).get("podIP")
        if not ip or (pod.get("spec") or {}).get("hostNetwork"):
            return None
        ports: dict[str, tuple[int, str]] = {}
        for c in (pod.get("spec") or {}).get("containers") or []:
            for p in c.get("ports") or []:
                if p.get("name"):
                    ports[p["name"]] = (int(p["containerPort"]), p.get("protocol") or "TCP")
        meta = pod.get("metadata") or {}
        return PodInfo(meta.get("namespace") or "default", meta.get("name") or "", ip,
                       dict(meta.get("labels") or {}), ports)


@dataclass(frozen=True)
class Port:
    protocol: str            # TCP | UDP | SCTP
    port: int | None = None  # None: every port of the protocol
    end: int | None = None


@dataclass
class Peers:
    """Who: `all` (anyone), or these addresses (/32 pod IPs, CIDRs) minus `excepts`."""
    all: bool = False
    nets: list[str] = field(default_factory=list)
    excepts: list[str] = field(default_factory=list)


@dataclass
class Allow:
    peers: Peers
    ports: list[Port] | None   # None: every port and protocol


@dataclass
class PodRules:
    pod: PodInfo
    ingress: list[Allow] | None = None   # None: not isolated for ingress
    egress: list[Allow] | None = None


def _types(policy: Obj) -> list[str]:
    spec = policy.get("spec") or {}
    types = spec.get("policyTypes")
    if types:
        return list(types)
    return ["Ingress"] + (["Egress"] if spec.get("egress") else [])


def _select(sel: Any, labels: dict[str, str]) -> bool:
    return selectors.selector_from_model(sel if sel is not None else {}).matches(labels)


def _peer_pods(peer: Obj, policy_ns: str, pods: list[PodInfo], ns_labels: dict[str, dict[str, str]]) -> list[PodInfo]:
    pod_sel, ns_sel = peer.get("podSelector"), peer.get("namespaceSelector")
    out = []
    for p in pods:
        if ns_sel is not None:
            if not _select(ns_sel, ns_labels.get(p.namespace, {"kubernetes.io/metadata.name": p.namespace})):
                continue
        elif p.namespace != policy_ns:
            continue
        if pod_sel is not None and not _select(pod_sel, p.labels):
            continue
        out.append(p)
    return out


def _ports(rule_ports: list[Obj] | None, named_in: list[PodInfo]) -> list[Port] | None:
    if not rule_ports:
        return None
    out: list[Port] = []
    for rp in rule_ports:
        proto = rp.get("protocol") or "TCP"
        port = rp.get("port")
        if port is None:
            out.append(Port(proto))
        elif isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
            out.append(Port(proto, int(port), rp.get("endPort")))
        else:   # a named port: what it means in each pod that names it
            for p in named_in:
                if port in p.ports and p.ports[port][1] == proto:
                    out.append(Port(proto, p.ports[port][0]))
    return out


def _allows(policy: Obj, direction: str, target: PodInfo, pods: list[PodInfo],
            ns_labels: dict[str, dict[str, str]]) -> list[Allow]:
    spec = policy.get("spec") or {}
    key, peer_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    ns = (policy.get("metadata") or {}).get("namespace") or "default"
    out = []
    for rule in spec.get(key) or []:
        peer_list = rule.get(peer_key)
        if not peer_list:
            named = [target] if direction == "Ingress" else pods
            ports = _ports(rule.get("ports"), named)
            if ports == []:
                continue
            out.append(Allow(Peers(all=True), ports))
            continue
        peers = Peers()
        peer_pods: list[PodInfo] = []
        for peer in peer_list:
            block = peer.get("ipBlock")
            if block is not None:
                peers.nets.append(block["cidr"])
                peers.excepts.extend(block.get("except") or [])
            else:
                found = _peer_pods(peer, ns, pods, ns_labels)
                peer_pods.extend(found)
                peers.nets.extend(f"{p.ip}/32" for p in found)
        named = [target] if direction == "Ingress" else peer_pods
        ports = _ports(rule.get("ports"), named)
        if ports == [] or not peers.nets:
            continue
        out.append(Allow(peers, ports))
    return out


def pod_rules(local: list[PodInfo], pods: list[PodInfo], policies: list[Obj],
              ns_labels: dict[str, dict[str, str]]) -> list[PodRules]:
    """What each pod of this node may receive and send (pods: every pod of the cluster)."""
    out = []
    for target in local:
        rules = PodRules(target)
        for pol in policies:
            meta, spec = pol.get("metadata") or {}, pol.get("spec") or {}
            if (meta.get("namespace") or "default") != target.namespace or \
                    not _select(spec.get("podSelector"), target.labels):
                continue
            for direction in _types(pol):
                allows = _allows(pol, direction, target, pods, ns_labels)
                if direction == "Ingress":
                    rules.ingress = (rules.ingress or []) + allows
                else:
                    rules.egress = (rules.egress or []) + allows
        if rules.ingress is not None or rules.egress is not None:
            out.append(rules)
    return out
