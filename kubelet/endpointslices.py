"""EndpointSlices as the node's consumers read them: grouped by Service (kube-proxy's
EndpointSliceCache) and merged into one Endpoints-shaped view (what CoreDNS's kubernetes
plugin builds from slices), pure.

`SliceCache` keeps the slices of each Service (`kubernetes.io/service-name` label) by slice
name; `update`/`delete` answer the Service key (`namespace/name`) whose view changed.
`merged(namespace, name, slices)` is that Service's endpoints as a v1 Endpoints: one subset
per slice port set, endpoints whose `conditions.ready` is not false in `addresses` (an unset
condition means ready, as the API says), the others in `notReadyAddresses`, each address
once per port set (an address briefly in two slices while the controller moves it counts
once). Slices of both address types are merged; consumers filter by family.
"""
from __future__ import annotations

from api.models import EndpointSlice, Endpoints
from api.models.core import EndpointAddress, EndpointPort, EndpointSubset
from api.models.discovery import SERVICE_NAME_LABEL


def service_key(es: EndpointSlice) -> str | None:
    name = (es.metadata.labels or {}).get(SERVICE_NAME_LABEL)
    return f"{es.metadata.namespace}/{name}" if name else None


class SliceCache:
    def __init__(self) -> None:
        self._by_service: dict[str, dict[str, EndpointSlice]] = {}
        self._service_of: dict[str, str] = {}        # slice key -> service key

    def update(self, es: EndpointSlice) -> list[str]:
        """Record a new or changed slice; the Service keys whose endpoints may have changed
        (two when a slice's service-name label moved)."""
        skey = f"{es.metadata.namespace}/{es.metadata.name}"
        changed = self.delete(es)
        key = service_key(es)
        if key is not None:
            self._by_service.setdefault(key, {})[skey] = es
            self._service_of[skey] = key
            changed.append(key)
        return list(dict.fromkeys(changed))

    def delete(self, es: EndpointSlice) -> list[str]:
        skey = f"{es.metadata.namespace}/{es.metadata.name}"
        key = self._service_of.pop(skey, None)
        if key is None:
            return []
        slices = self._by_service.get(key, {})
        slices.pop(skey, None)
        if not slices:
            self._by_service.pop(key, None)
        return [key]

    def slices(self, key: str) -> list[EndpointSlice]:
        return [s for _, s in sorted(self._by_service.get(key, {}).items())]

    def endpoints(self, key: str) -> Endpoints | None:
        """The Service's merged view, None when it has no slice."""
        slices = self.slices(key)
        if not slices:
            return None
        namespace, _, name = key.partition("/")
        return merged(namespace, name, slices)


def merged(namespace: str, name: str, slices: list[EndpointSlice]) -> Endpoints:
    subsets: dict[tuple[tuple[str, int, str], ...], tuple[list[EndpointAddress], list[EndpointAddress], set[str]]] = {}
    port_objs: dict[tuple[tuple[str, int, str], ...], list[EndpointPort]] = {}
    for es in slices:
        ports = tuple((p.name or "", p.port or 0, p.protocol or "TCP") for p in es.ports or [] if p.port)
        port_objs.setdefault(ports, [EndpointPort(name=n or None, port=pt, protocol=pr) for n, pt, pr in ports])
        ready, not_ready, seen = subsets.setdefault(ports, ([], [], set()))
        for ep in es.endpoints or []:
            if not ep.addresses or ep.addresses[0] in seen:
                continue
            seen.add(ep.addresses[0])
            addr = EndpointAddress(ip=ep.addresses[0], hostname=ep.hostname, node_name=ep.node_name,
                                   target_ref=ep.target_ref)
            is_ready = ep.conditions is None or ep.conditions.ready is not False
            (ready if is_ready else not_ready).append(addr)
    out = [EndpointSubset(addresses=r or None, not_ready_addresses=n or None, ports=port_objs[k] or None)
           for k, (r, n, _) in subsets.items() if r or n]
    return Endpoints.from_dict({"metadata": {"name": name, "namespace": namespace}}).model_copy(
        update={"subsets": out or None})
