"""Validation of networking.k8s.io/v1 NetworkPolicy, in Kubernetes' words
(pkg/apis/networking/validation)."""
from __future__ import annotations

import ipaddress
from typing import Any

from api.field import FieldError, forbidden, invalid, not_supported, required

Obj = dict[str, Any]
PROTOCOLS = ("TCP", "UDP", "SCTP")
POLICY_TYPES = ("Ingress", "Egress")


def _ports(ports: list[Obj], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, p in enumerate(ports or []):
        pp = f"{path}[{i}]"
        proto = p.get("protocol")
        if proto is not None and proto not in PROTOCOLS:
            errs.append(not_supported(f"{pp}.protocol", proto, list(PROTOCOLS)))
        port, end = p.get("port"), p.get("endPort")
        if isinstance(port, int) and not 1 <= port <= 65535:
            errs.append(invalid(f"{pp}.port", port, "must be between 1 and 65535, inclusive"))
        if end is not None:
            if not isinstance(port, int):
                errs.append(invalid(f"{pp}.endPort", end, "may not be specified when `port` is non-numeric"
                                    if port is not None else "may not be specified when `port` is not specified"))
            elif end < port:
                errs.append(invalid(f"{pp}.endPort", end, "must be greater than or equal to `port`"))
    return errs


def _peers(peers: list[Obj], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, peer in enumerate(peers or []):
        pp = f"{path}[{i}]"
        kinds = [k for k in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(k) is not None]
        if not kinds:
            errs.append(required(pp, "must specify a peer"))
        if "ipBlock" in kinds and len(kinds) > 1:
            errs.append(forbidden(pp, "may not specify more than 1 peer type"))
        block = peer.get("ipBlock")
        if block is not None:
            try:
                net = ipaddress.ip_network(block.get("cidr") or "", strict=False)
            except ValueError:
                errs.append(invalid(f"{pp}.ipBlock.cidr", block.get("cidr") or "", "must be a valid CIDR"))
                continue
            for j, ex in enumerate(block.get("except") or []):
                try:
                    exn = ipaddress.ip_network(ex, strict=False)
                except ValueError:
                    errs.append(invalid(f"{pp}.ipBlock.except[{j}]", ex, "must be a valid CIDR"))
                    continue
                if exn.version != net.version or not exn.subnet_of(net):  # type: ignore[arg-type]
                    errs.append(invalid(f"{pp}.ipBlock.except[{j}]", ex, "must be a strict subset of `cidr`"))
    return errs


def validate_network_policy(obj: Obj) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs: list[FieldError] = []
    for i, t in enumerate(spec.get("policyTypes") or []):
        if t not in POLICY_TYPES:
            errs.append(not_supported(f"spec.policyTypes[{i}]", t, list(POLICY_TYPES)))
    for direction, peer_key in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction) or []):
            errs.extend(_ports(rule.get("ports") or [], f"spec.{direction}[{i}].ports"))
            errs.extend(_peers(rule.get(peer_key) or [], f"spec.{direction}[{i}].{peer_key}"))
    return errs
