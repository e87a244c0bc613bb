"""The EndpointSlice controller: for each Service with a selector, EndpointSlices
(discovery.k8s.io/v1) listing the pods it picks, owned by the Service.

Owns the I/O around controllers.endpointslice_logic: a Service, a pod of its selector, a
node (its zone) or one of its slices changing re-queues the Service; `reconcile(key)`
lists the Service's slices from the cache and applies the plan (create with generateName
`<service>-`, update in place, delete extras). A Service without a selector is not
managed (its slices are someone else's); a deleted Service's slices go with it through
their owner reference.
"""
from __future__ import annotations

import logging
from typing import Any

from api.models import EndpointSlice, Node, Pod, Service
from api.models.discovery import CONTROLLER_NAME, MANAGED_BY_LABEL, SERVICE_NAME_LABEL
from api.selectors import selector_from_set
from client.errors import NotFound
from controllers import endpointslice_logic as logic
from controllers.base import Controller

log = logging.getLogger(__name__)


class EndpointSliceController(Controller):
    NAME = "endpointslice-controller"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.services = self.watch(Service)
        self.pods = self.watch(Pod, self._services_for_pod)
        self.slices = self.watch(EndpointSlice, self._service_for_slice)
        self.nodes = self.informers.get(Node)
        self._watched.append(self.nodes)

    def _service_for_slice(self, es: EndpointSlice) -> str | None:
        labels = es.metadata.labels or {}
        if labels.get(MANAGED_BY_LABEL) != CONTROLLER_NAME or SERVICE_NAME_LABEL not in labels:
            return None
        return f"{es.metadata.namespace}/{labels[SERVICE_NAME_LABEL]}"

    def _services_for_pod(self, pod: Pod) -> list[str]:
        labels = pod.metadata.labels or {}
        return [svc.key for svc in self.services.store.by_index("namespace", pod.metadata.namespace or "")
                if svc.spec and svc.spec.selector and selector_from_set(svc.spec.selector).matches(labels)]

    def _zone(self, node_name: str) -> str | None:
        node = self.nodes.store.get(node_name)
        return (node.metadata.labels or {}).get(logic.ZONE_LABEL) if node is not None else None

    async def reconcile(self, key: str) -> None:
        svc: Service | None = self.services.store.get(key)
        if svc is None or not (svc.spec and svc.spec.selector) or svc.spec.type == "ExternalName":
            return
        sel = selector_from_set(svc.spec.selector)
        pods = [p for p in self.pods.store.by_index("namespace", svc.namespace or "")
                if sel.matches(p.metadata.labels or {})]
        existing = [es for es in self.slices.store.by_index("namespace", svc.namespace or "")
                    if self._service_for_slice(es) == key]
        plan = logic.plan(svc, existing, logic.desired_groups(svc, pods, self._zone))
        for es in plan.create:
            await self.client.create(es)
        for es in plan.update:
            await self.client.update(es)          # a Conflict retries the sync
        for es in plan.delete:
            try:
                await self.client.delete(EndpointSlice, es.name, es.metadata.namespace)
            except NotFound:
                pass
