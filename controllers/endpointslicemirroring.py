"""The EndpointSlice mirroring controller: Endpoints of Services without a selector mirrored
into EndpointSlices (controllers.endpointslicemirroring_logic says which and how).

Owns the I/O: an Endpoints, its Service or one of its mirrored slices changing re-queues
`namespace/name`; `reconcile(key)` applies the plan, or deletes the mirrored slices when the
Endpoints should no longer be mirrored (its Service gained a selector or went away, the
skip-mirror label was set, the Endpoints was deleted).
"""
from __future__ import annotations

import logging
from typing import Any

from api.models import EndpointSlice, Endpoints, Service
from api.models.discovery import MANAGED_BY_LABEL, SERVICE_NAME_LABEL
from client.errors import NotFound
from controllers import endpointslicemirroring_logic as logic
from controllers.base import Controller

log = logging.getLogger(__name__)


class EndpointSliceMirroringController(Controller):
    NAME = "endpointslicemirroring-controller"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.endpoints = self.watch(Endpoints)
        self.services = self.watch(Service)
        self.slices = self.watch(EndpointSlice, self._key_of_slice)

    @staticmethod
    def _key_of_slice(es: EndpointSlice) -> str | None:
        labels = es.metadata.labels or {}
        if labels.get(MANAGED_BY_LABEL) != logic.MIRROR_CONTROLLER_NAME or SERVICE_NAME_LABEL not in labels:
            return None
        return f"{es.metadata.namespace}/{labels[SERVICE_NAME_LABEL]}"

    async def reconcile(self, key: str) -> None:
        ns = key.partition("/")[0]
        existing = [es for es in self.slices.store.by_index("namespace", ns) if self._key_of_slice(es) == key]
        ep: Endpoints | None = self.endpoints.store.get(key)
        svc: Service | None = self.services.store.get(key)
        if ep is None or not logic.should_mirror(ep, svc):
            plan = logic.SlicePlan(delete=existing)
        else:
            plan = logic.plan(ep, existing, logic.desired_groups(ep))
        for es in plan.create:
            await self.client.create(es)
        for es in plan.update:
            await self.client.update(es)
        for es in plan.delete:
            try:
                await self.client.delete(EndpointSlice, es.name, es.metadata.namespace)
            except NotFound:
                pass
