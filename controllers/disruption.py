"""The disruption controller: keeps every PodDisruptionBudget's status current, which is
what the eviction subresource (apiserver/eviction.py) decides by.

Owns the I/O around controllers.disruption_logic: informers of budgets, pods and the
controllers whose scale a budget may be measured against (Deployments, ReplicaSets,
StatefulSets, ReplicationControllers); a pod change re-queues the budgets covering it, a
controller change (its scale) the budgets of its namespace. `reconcile(key)` computes the
status and writes it when it changed (the eviction handler writes disruptedPods and a
lower disruptionsAllowed in between: a conflict re-reads and retries). A budget with
in-flight evictions is looked at again when the oldest one expires.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from api.meta import controller_ref
from api.models import (Deployment, Pod, PodDisruptionBudget, ReplicaSet, ReplicationController,
                        StatefulSet)
from client.errors import NotFound
from client.events import EventRecorder
from client.rest import Client
from controllers import disruption_logic as logic
from controllers.base import Controller, SharedInformers

log = logging.getLogger(__name__)
SCALED = {"Deployment": Deployment, "ReplicaSet": ReplicaSet, "StatefulSet": StatefulSet,
          "ReplicationController": ReplicationController}


class DisruptionController(Controller):
    NAME = "disruption-controller"

    def __init__(self, client: Client, informers: SharedInformers,
                 recorder: EventRecorder | None = None, *,
                 clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(client, informers, recorder)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.pdbs = self.watch(PodDisruptionBudget)
        self.pods = informers.get(Pod)
        self.pods.add_handlers(on_add=self._pod_changed, on_update=lambda o, n: self._pod_changed(n, o),
                               on_delete=self._pod_changed)
        self.scaled = {kind: informers.get(model) for kind, model in SCALED.items()}
        for inf in self.scaled.values():
            inf.add_handlers(on_add=self._namespace_changed, on_update=lambda o, n: self._namespace_changed(n),
                             on_delete=self._namespace_changed)
        self._watched += [self.pods, *self.scaled.values()]

    def _pod_changed(self, pod: Pod, old: Pod | None = None) -> None:
        for pdb in self.pdbs.store.by_index("namespace", pod.metadata.namespace or ""):
            if logic.covers(pdb, pod) or (old is not None and logic.covers(pdb, old)):
                self.queue.add(pdb.key)

    def _namespace_changed(self, obj: Any) -> None:
        for pdb in self.pdbs.store.by_index("namespace", obj.metadata.namespace or ""):
            self.queue.add(pdb.key)

    def _scale(self, kind: str, namespace: str, name: str) -> tuple[int, tuple[str, str] | None] | None:
        inf = self.scaled.get(kind)
        obj = inf.store.get_by_name(namespace, name) if inf is not None else None
        if obj is None:
            return None
        ref = controller_ref(obj)
        replicas = obj.spec.replicas if obj.spec and obj.spec.replicas is not None else 1
        return replicas, (ref.kind, ref.name) if ref is not None else None

    async def reconcile(self, key: str) -> None:
        pdb: PodDisruptionBudget | None = self.pdbs.store.get(key)
        if pdb is None or pdb.spec is None:
            return
        pods = [p for p in self.pods.store.by_index("namespace", pdb.metadata.namespace or "")
                if logic.covers(pdb, p)]
        now = self.clock()
        budget = logic.calculate(pdb, pods, self._scale, now)
        if logic.status_changed(pdb, budget.status):
            target = pdb.model_copy(deep=True)
            target.status = budget.status
            try:
                await self.client.update_status(target)
            except NotFound:
                return
        if budget.recheck is not None:
            self.queue.add_after(key, max(0.0, (budget.recheck - now).total_seconds()) + 0.1)
