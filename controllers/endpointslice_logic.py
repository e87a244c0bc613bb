"""The EndpointSlice controller's decisions (Kubernetes' pkg/controller/endpointslice), pure.

Owns, for one Service with a selector over the pods it picks:
- the endpoint of each pod with an IP that has not finished: its address, conditions
  (ready; serving = the pod's readiness; terminating while being deleted; ready forced
  with publishNotReadyAddresses), hostname (a pod whose hostname and subdomain name the
  Service), nodeName, zone (the node's `topology.kubernetes.io/zone`) and targetRef;
- the ports of each endpoint (a service port's targetPort resolved per pod; pods that
  resolve to the same ports share slices), at most 100 endpoints per slice;
- `plan`: which existing slices (those labelled `kubernetes.io/service-name` and managed
  by `endpointslice-controller.k8s.io`) to keep, update or delete and which to create, so
  that an unchanged world costs no writes.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from api.meta import is_pod_ready, new_controller_ref
from api.models import EndpointSlice, Pod, Service
from api.models.base import ObjectMeta
from api.models.core import ObjectReference
from api.models.discovery import (CONTROLLER_NAME, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, Endpoint,
                                  EndpointConditions, EndpointPort)
from controllers.endpoints import HEADLESS_LABEL, resolve_port

MAX_ENDPOINTS_PER_SLICE = 100
ZONE_LABEL = "topology.kubernetes.io/zone"
PortSet = tuple[tuple[str, int, str, str], ...]     # (name, port, protocol, appProtocol)


def include(pod: Pod) -> bool:
    st = pod.status
    return st is not None and bool(st.pod_ip) and st.phase not in ("Succeeded", "Failed")


def endpoint_of(pod: Pod, service: Service, zone: str | None) -> Endpoint:
    assert pod.status is not None and pod.status.pod_ip
    publish = bool(service.spec and service.spec.publish_not_ready_addresses)
    ready = is_pod_ready(pod)
    terminating = pod.metadata.deletion_timestamp is not None
    spec = pod.spec
    hostname = spec.hostname if spec and spec.hostname and spec.subdomain == service.metadata.name else None
    return Endpoint(
        addresses=[pod.status.pod_ip],
        conditions=EndpointConditions(ready=publish or (ready and not terminating), serving=ready,
                                      terminating=terminating),
        hostname=hostname, node_name=spec.node_name if spec else None, zone=zone,
        target_ref=ObjectReference(kind="Pod", namespace=pod.metadata.namespace, name=pod.metadata.name,
                                   uid=pod.metadata.uid))


def ports_of(pod: Pod, service: Service) -> PortSet | None:
    """The slice ports this pod serves (None: the Service has ports and none resolves)."""
    ports = (service.spec.ports if service.spec else None) or []
    out = []
    for p in ports:
        number = resolve_port(pod, p)
        if number is not None:
            out.append((p.name or "", number, p.protocol or "TCP", p.app_protocol or ""))
    if ports and not out:
        return None
    return tuple(out)


def desired_groups(service: Service, pods: Iterable[Pod],
                   zone_of: Callable[[str], str | None]) -> dict[PortSet, list[Endpoint]]:
    groups: dict[PortSet, list[Endpoint]] = {}
    for pod in pods:
        if not include(pod):
            continue
        key = ports_of(pod, service)
        if key is None:
            continue
        node = pod.spec.node_name if pod.spec else None
        groups.setdefault(key, []).append(endpoint_of(pod, service, zone_of(node) if node else None))
    for eps in groups.values():
        eps.sort(key=lambda e: (e.target_ref.name if e.target_ref else "", e.addresses[0]))
    return groups


def slice_labels(service: Service) -> dict[str, str]:
    labels = {k: v for k, v in (service.metadata.labels or {}).items()
              if k not in (SERVICE_NAME_LABEL, MANAGED_BY_LABEL)}
    if service.spec and service.spec.cluster_ip == "None":
        labels[HEADLESS_LABEL] = ""
    labels[SERVICE_NAME_LABEL] = service.name
    labels[MANAGED_BY_LABEL] = CONTROLLER_NAME
    return labels


def slice_ports(key: PortSet) -> list[EndpointPort]:
    return [EndpointPort(name=n, port=p, protocol=pr, app_protocol=ap or None) for n, p, pr, ap in key]


def ports_key(es: EndpointSlice) -> PortSet:
    return tuple((p.name or "", p.port or 0, p.protocol or "TCP", p.app_protocol or "") for p in es.ports or [])


@dataclass
class SlicePlan:
    create: list[EndpointSlice] = field(default_factory=list)
    update: list[EndpointSlice] = field(default_factory=list)
    delete: list[EndpointSlice] = field(default_factory=list)


def new_slice(service: Service, key: PortSet, endpoints: list[Endpoint]) -> EndpointSlice:
    return EndpointSlice(
        metadata=ObjectMeta(generate_name=f"{service.name}-", namespace=service.namespace,
                            labels=slice_labels(service), owner_references=[new_controller_ref(service)]),
        address_type="IPv4", endpoints=endpoints, ports=slice_ports(key))


def plan(service: Service, existing: Sequence[EndpointSlice],
         groups: dict[PortSet, list[Endpoint]]) -> SlicePlan:
    """Pair existing slices with the desired chunks of each port set; write only what
    differs. A Service with no endpoints keeps one empty slice, as Kubernetes does."""
    out = SlicePlan()
    by_ports: dict[PortSet, list[EndpointSlice]] = {}
    for es in sorted(existing, key=lambda s: s.name):
        by_ports.setdefault(ports_key(es), []).append(es)
    if not groups:
        groups = {(): []}
    labels = slice_labels(service)
    for key, endpoints in groups.items():
        chunks = [endpoints[i:i + MAX_ENDPOINTS_PER_SLICE]
                  for i in range(0, len(endpoints), MAX_ENDPOINTS_PER_SLICE)] or [[]]
        have = by_ports.pop(key, [])
        for i, chunk in enumerate(chunks):
            if i < len(have):
                cur = have[i]
                if [e.to_dict() for e in cur.endpoints or []] != [e.to_dict() for e in chunk] or \
                        (cur.metadata.labels or {}) != labels:
                    upd = cur.model_copy(deep=True)
                    upd.endpoints = chunk
                    upd.metadata.labels = labels
                    out.update.append(upd)
            else:
                out.create.append(new_slice(service, key, chunk))
        out.delete.extend(have[len(chunks):])
    for rest in by_ports.values():
        out.delete.extend(rest)
    return out
