"""The Endpoints controller: for each Service with a selector, an Endpoints object of the
same name listing the IPs and ports of the pods it selects.

Pure part: `compute_subsets(service, pods)` (Kubernetes' endpoints controller and
`RepackSubsets`): ready pods become `addresses`, unready ones `notReadyAddresses` (all are
ready with `publishNotReadyAddresses`), each with targetRef and nodeName; a service port's
targetPort is a number, or a name resolved against the pod's container ports (a pod
without that name is skipped for that port); addresses sharing one set of ports form one
subset. Pods without an IP, terminating pods and finished pods are left out.

Invariants:
- Endpoints are written only when the subsets (or the labels copied from the Service)
  change; an unchanged world costs no writes.
- A Service without a selector (e.g. `default/kubernetes`, maintained by the apiserver) is
  never touched; a deleted Service's Endpoints are deleted by name.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from api.meta import is_pod_ready
from api.models import Endpoints, ObjectMeta, Pod, Service
from api.models.core import (EndpointAddress, EndpointPort, EndpointSubset, ObjectReference,
                             ServicePort)
from api.selectors import selector_from_set
from client.errors import AlreadyExists, NotFound
from client.store import split_key
from controllers.base import Controller

log = logging.getLogger(__name__)

HEADLESS_LABEL = "service.kubernetes.io/headless"
PortKey = tuple[str | None, int, str]


# ---------------------------------------------------------------- pure decisions
def should_include(pod: Pod) -> bool:
    """A pod appears in endpoints when it has an IP, is not terminating and not finished."""
    status = pod.status
    if status is None or not status.pod_ip:
        return False
    if pod.metadata.deletion_timestamp:
        return False
    return status.phase not in ("Succeeded", "Failed")


def resolve_port(pod: Pod, port: ServicePort) -> int | None:
    """The pod's port for a service port: targetPort as a number, or the container port of
    that name (and protocol); the service port itself when targetPort is unset."""
    target = port.target_port
    if target is None:
        return port.port
    if isinstance(target, int):
        return target
    if target.isdigit():
        return int(target)
    protocol = port.protocol or "TCP"
    for c in (pod.spec.containers if pod.spec else []):
        for cp in c.ports or []:
            if cp.name == target and (cp.protocol or "TCP") == protocol:
                return cp.container_port
    return None


def pod_address(pod: Pod) -> EndpointAddress:
    assert pod.status is not None and pod.status.pod_ip
    spec = pod.spec
    return EndpointAddress(
        ip=pod.status.pod_ip,
        node_name=spec.node_name if spec else None,
        target_ref=ObjectReference(kind="Pod", namespace=pod.metadata.namespace,
                                   name=pod.metadata.name, uid=pod.metadata.uid))


def _with_hostname(addr: EndpointAddress, pod: Pod, service: Service) -> EndpointAddress:
    spec = pod.spec
    if spec and spec.hostname and spec.subdomain == service.metadata.name:
        addr.hostname = spec.hostname
    return addr


def compute_subsets(service: Service, pods: Iterable[Pod]) -> list[EndpointSubset]:
    """The Endpoints subsets for `service` over the pods its selector chose."""
    spec = service.spec
    ports = (spec.ports if spec else None) or []
    publish_all = bool(spec and spec.publish_not_ready_addresses)
    groups: dict[tuple[PortKey, ...], tuple[list[EndpointAddress], list[EndpointAddress]]] = {}
    for pod in pods:
        if not should_include(pod):
            continue
        resolved: list[PortKey] = []
        for p in ports:
            number = resolve_port(pod, p)
            if number is not None:
                resolved.append((p.name, number, p.protocol or "TCP"))
        if ports and not resolved:
            continue                 # named ports all missing on this pod
        key = tuple(sorted(set(resolved), key=lambda k: (k[0] or "", k[1], k[2])))
        ready, not_ready = groups.setdefault(key, ([], []))
        addr = _with_hostname(pod_address(pod), pod, service)
        (ready if publish_all or is_pod_ready(pod) else not_ready).append(addr)
    subsets = []
    for key in sorted(groups, key=lambda k: [(n or "", p, pr) for n, p, pr in k]):
        ready, not_ready = groups[key]
        subsets.append(EndpointSubset(
            addresses=_sorted(ready) or None,
            not_ready_addresses=_sorted(not_ready) or None,
            ports=[EndpointPort(name=n, port=p, protocol=pr) for n, p, pr in key] or None))
    return subsets


def _sorted(addrs: list[EndpointAddress]) -> list[EndpointAddress]:
    return sorted(addrs, key=lambda a: (_ip_key(a.ip), a.target_ref.uid if a.target_ref else ""))


def _ip_key(ip: str) -> tuple[int, ...] | tuple[str]:
    try:
        return tuple(int(x) for x in ip.split("."))
    except ValueError:
        return (ip,)


def endpoints_labels(service: Service) -> dict[str, str]:
    labels = dict(service.metadata.labels or {})
    if service.spec and service.spec.cluster_ip == "None":
        labels[HEADLESS_LABEL] = ""
    else:
        labels.pop(HEADLESS_LABEL, None)
    return labels


def desired_endpoints(service: Service, pods: Iterable[Pod],
                      current: Endpoints | None) -> Endpoints | None:
    """The Endpoints to write, or None when `current` already says it all."""
    subsets = compute_subsets(service, pods)
    labels = endpoints_labels(service)
    if current is not None and _plain(current.subsets) == _plain(subsets) and \
            (current.metadata.labels or {}) == labels:
        return None
    if current is not None:
        new = current.model_copy(deep=True)
    else:
        new = Endpoints(metadata=ObjectMeta(name=service.metadata.name,
                                            namespace=service.metadata.namespace))
    new.metadata.labels = labels or None
    new.subsets = subsets or None
    return new


def _plain(subsets: list[EndpointSubset] | None) -> list[dict[str, Any]]:
    return [s.to_dict() for s in subsets or []]


# ---------------------------------------------------------------- the controller
class EndpointsController(Controller):
    NAME = "endpoint-controller"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.services = self.watch(Service)
        self.pods = self.watch(Pod, self._services_for_pod)
        self.endpoints = self.watch(Endpoints, self._service_for_endpoints)

    def _service_for_endpoints(self, ep: Endpoints) -> str | None:
        """Endpoints changed by someone else are put back, but only for a known Service:
        Endpoints created before their Service are not ours to delete."""
        return ep.key if ep.key in self.services.store else None

    def _services_for_pod(self, pod: Pod) -> list[str]:
        labels = pod.metadata.labels or {}
        keys = []
        for svc in self.services.store.by_index("namespace", pod.metadata.namespace or ""):
            sel = svc.spec.selector if svc.spec else None
            if sel and selector_from_set(sel).matches(labels):
                keys.append(svc.key)
        return keys

    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        svc: Service | None = self.services.store.get(key)
        if svc is None:
            if not _is_apiserver_managed(key):
                try:
                    await self.client.delete(Endpoints, name, namespace=ns)
                except NotFound:
                    pass
            return
        selector = svc.spec.selector if svc.spec else None
        if not selector or _is_apiserver_managed(key):
            return                    # endpoints maintained by someone else
        sel = selector_from_set(selector)
        pods = [p for p in self.pods.store.by_index("namespace", ns or "")
                if sel.matches(p.metadata.labels or {})]
        current: Endpoints | None = self.endpoints.store.get(key)
        new = desired_endpoints(svc, pods, current)
        if new is None:
            return
        if current is None:
            try:
                await self.client.create(new)
            except AlreadyExists:
                self.queue.add_rate_limited(key)   # our cache is behind: retry
            return
        await self.client.update(new)              # Conflict raises: retried with backoff


def _is_apiserver_managed(key: str) -> bool:
    return key == "default/kubernetes"
