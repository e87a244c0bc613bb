"""The EndpointSlice mirroring controller's decisions (Kubernetes'
pkg/controller/endpointslicemirroring), pure.

Endpoints that someone other than the endpoints controller writes - those of a Service
without a selector, such as the cluster DNS's registration or a hand-made Endpoints naming
an outside address - are mirrored into EndpointSlices so that consumers reading only slices
(kube-proxy, the cluster DNS) still see them:
- `should_mirror`: the Service exists, has no selector, and the Endpoints is not labelled
  `endpointslice.kubernetes.io/skip-mirror: "true"` (the apiserver's own `kubernetes`
  Endpoints is);
- each subset becomes endpoints (its `addresses` ready, its `notReadyAddresses` not), with
  hostname, nodeName and targetRef kept; endpoints with the same ports and address type
  share slices of at most 100, and at most 1000 endpoints are mirrored in all, as upstream;
- slices carry the Endpoints' labels plus `kubernetes.io/service-name` and
  `endpointslice.kubernetes.io/managed-by: endpointslicemirroring-controller.k8s.io`, are
  named `<endpoints>-<random>` and owned by the Endpoints (so they go with it);
- `plan` writes only what differs.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from api.meta import new_controller_ref
from api.models import EndpointSlice, Endpoints, Service
from api.models.base import ObjectMeta
from api.models.discovery import MANAGED_BY_LABEL, SERVICE_NAME_LABEL, Endpoint, EndpointConditions
from controllers.endpointslice_logic import MAX_ENDPOINTS_PER_SLICE, PortSet, SlicePlan, ports_key, slice_ports

MIRROR_CONTROLLER_NAME = "endpointslicemirroring-controller.k8s.io"
SKIP_MIRROR_LABEL = "endpointslice.kubernetes.io/skip-mirror"
MAX_ENDPOINTS_MIRRORED = 1000
Key = tuple[str, PortSet]            # (addressType, ports)


def should_mirror(endpoints: Endpoints, service: Service | None) -> bool:
    if service is None or (service.spec and service.spec.selector):
        return False
    return (endpoints.metadata.labels or {}).get(SKIP_MIRROR_LABEL) != "true"


def address_type(ip: str) -> str | None:
    try:
        return "IPv6" if ipaddress.ip_address(ip).version == 6 else "IPv4"
    except ValueError:
        return None


def desired_groups(endpoints: Endpoints) -> dict[Key, list[Endpoint]]:
    groups: dict[Key, list[Endpoint]] = {}
    seen: set[tuple[Key, str]] = set()
    total = 0
    for subset in endpoints.subsets or []:
        ports: PortSet = tuple((p.name or "", p.port, p.protocol or "TCP", p.app_protocol or "")
                               for p in subset.ports or [])
        for ready, addrs in ((True, subset.addresses or []), (False, subset.not_ready_addresses or [])):
            for a in addrs:
                kind = address_type(a.ip)
                if kind is None or total >= MAX_ENDPOINTS_MIRRORED or ((kind, ports), a.ip) in seen:
                    continue
                seen.add(((kind, ports), a.ip))
                total += 1
                groups.setdefault((kind, ports), []).append(Endpoint(
                    addresses=[a.ip], conditions=EndpointConditions(ready=ready),
                    hostname=a.hostname, node_name=a.node_name, target_ref=a.target_ref))
    return groups


def mirror_labels(endpoints: Endpoints) -> dict[str, str]:
    labels = {k: v for k, v in (endpoints.metadata.labels or {}).items()
              if k not in (SERVICE_NAME_LABEL, MANAGED_BY_LABEL, SKIP_MIRROR_LABEL)}
    labels[SERVICE_NAME_LABEL] = endpoints.name
    labels[MANAGED_BY_LABEL] = MIRROR_CONTROLLER_NAME
    return labels


def new_slice(endpoints: Endpoints, key: Key, items: list[Endpoint]) -> EndpointSlice:
    return EndpointSlice(
        metadata=ObjectMeta(generate_name=f"{endpoints.name}-", namespace=endpoints.namespace,
                            labels=mirror_labels(endpoints), owner_references=[new_controller_ref(endpoints)]),
        address_type=key[0], endpoints=items, ports=slice_ports(key[1]))


def plan(endpoints: Endpoints, existing: Sequence[EndpointSlice], groups: dict[Key, list[Endpoint]]) -> SlicePlan:
    out = SlicePlan()
    by_key: dict[Key, list[EndpointSlice]] = {}
    for es in sorted(existing, key=lambda s: s.name):
        by_key.setdefault((es.address_type, ports_key(es)), []).append(es)
    labels = mirror_labels(endpoints)
    for key, items in groups.items():
        chunks = [items[i:i + MAX_ENDPOINTS_PER_SLICE] for i in range(0, len(items), MAX_ENDPOINTS_PER_SLICE)]
        have = by_key.pop(key, [])
        for i, chunk in enumerate(chunks):
            if i < len(have):
                cur = have[i]
                if [e.to_dict() for e in cur.endpoints or []] != [e.to_dict() for e in chunk] or \
                        (cur.metadata.labels or {}) != labels:
                    upd = cur.model_copy(deep=True)
                    upd.endpoints, upd.metadata.labels = chunk, labels
                    out.update.append(upd)
            else:
                out.create.append(new_slice(endpoints, key, chunk))
        out.delete.extend(have[len(chunks):])
    for rest in by_key.values():
        out.delete.extend(rest)
    return out
