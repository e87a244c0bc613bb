"""The StatefulSet controller: pods with a stable identity and stable storage.

Owns the I/O around controllers.statefulset_control (Kubernetes' pkg/controller/statefulset):
informer handlers (a pod maps to its StatefulSet, an orphan to the sets whose selector
matches it, a ControllerRevision to its owner), and `reconcile(key)`: claim the set's
revisions and member pods (a pod is a member when its name is `<set>-<ordinal>`; matching
orphans are adopted, owned pods that stop matching released), run one update, write the
status (only when it changed, retrying once on a conflict) and trim the history to
revisionHistoryLimit (revisions still run by a pod, or current/update, are kept).

There are no expectations here, as in Kubernetes: pod names are fixed, so a second create
of `web-1` is an AlreadyExists, never a second pod.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from api.meta import controller_ref
from api.models import ControllerRevision, PersistentVolumeClaim, Pod, StatefulSet
from api.models.apps_sets import StatefulSetStatus
from api.models.base import OwnerReference
from api.selectors import Selector, selector_from_model
from client.errors import Conflict, NotFound
from client.events import EventRecorder
from client.rest import Client
from controllers import statefulset_util as util
from controllers.base import Controller, SharedInformers
from controllers.refmanager import adopt_patch, claim_objects, release_patch
from controllers.revisions import RevisionKeeper
from controllers.statefulset_control import PodControl, StatefulSetControl
from controllers.statefulset_pods import StatefulPodControl

log = logging.getLogger(__name__)


def sts_selector(sts: StatefulSet) -> Selector:
    try:
        return selector_from_model(sts.spec.selector if sts.spec else None)
    except ValueError:
        return selector_from_model(None)


class StatefulSetController(Controller):
    NAME = "statefulset-controller"

    def __init__(self, client: Client, informers: SharedInformers,
                 recorder: EventRecorder | None = None, *, pod_control: PodControl | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(client, informers, recorder)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sts_informer = self.watch(StatefulSet)
        self.pod_informer = informers.get(Pod)
        self.pod_informer.add_handlers(self._pod_added, self._pod_updated, self._pod_deleted)
        self.rev_informer = informers.get(ControllerRevision)
        self.rev_informer.add_handlers(self._rev_changed, lambda o, n: self._rev_changed(n),
                                       self._rev_changed)
        self.claim_informer = informers.get(PersistentVolumeClaim)
        self._watched += [self.pod_informer, self.rev_informer, self.claim_informer]
        self.pod_control: PodControl = pod_control or StatefulPodControl(client, self.claim_informer, recorder)
        self.revisions = RevisionKeeper(client, self.rev_informer, StatefulSet)
        self.control = StatefulSetControl(self.pod_control, client, self._record, self.clock)

    def _record(self, sts: StatefulSet, type_: str, reason: str, message: str) -> None:
        self.record(sts, type_, reason, message)

    # ---------------------------------------------------------------- events
    def _resolve(self, namespace: str | None, ref: OwnerReference | None) -> StatefulSet | None:
        if ref is None or ref.kind != "StatefulSet":
            return None
        sts = self.sts_informer.store.get_by_name(namespace, ref.name)
        return sts if sts is not None and sts.metadata.uid == ref.uid else None

    def _enqueue_for(self, pod: Pod) -> None:
        sts = self._resolve(pod.namespace, controller_ref(pod))
        if sts is not None:
            self.queue.add(sts.key)
            min_ready = (sts.spec.min_ready_seconds if sts.spec else None) or 0
            if min_ready:
                self.queue.add_after(sts.key, min_ready + 1)
        elif controller_ref(pod) is None:
            labels = pod.metadata.labels or {}
            for s in self.sts_informer.store.by_index("namespace", pod.namespace or ""):
                if sts_selector(s).matches(labels):
                    self.queue.add(s.key)

    def _pod_added(self, pod: Pod) -> None:
        self._enqueue_for(pod)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref is not None and (new_ref is None or old_ref.uid != new_ref.uid):
            self._enqueue_for(old)
        self._enqueue_for(new)

    def _pod_deleted(self, pod: Pod) -> None:
        sts = self._resolve(pod.namespace, controller_ref(pod))
        if sts is not None:
            self.queue.add(sts.key)

    def _rev_changed(self, rev: ControllerRevision) -> None:
        sts = self._resolve(rev.metadata.namespace, controller_ref(rev))
        if sts is not None:
            self.queue.add(sts.key)

    # ---------------------------------------------------------------- sync
    async def reconcile(self, key: str) -> None:
        sts: StatefulSet | None = self.sts_informer.store.get(key)
        if sts is None:
            return
        selector = sts_selector(sts)
        revisions = await self.revisions.claim(sts, selector)
        pods = await self._claim_pods(sts, selector)
        status, current, update = await self.control.update(sts, pods, revisions)
        util.complete_rolling_update(sts, status)
        if util.status_changed(sts, status):
            await self._write_status(sts, status)
        limit = sts.spec.revision_history_limit if sts.spec and sts.spec.revision_history_limit is not None else 10
        live = {current.name, update.name} | {util.pod_revision(p) for p in pods}
        old = [r for r in revisions if r.name not in live]
        await self.revisions.truncate(old, limit, live, by_name=True)
        min_ready = (sts.spec.min_ready_seconds if sts.spec else None) or 0
        if min_ready and status.available_replicas != util.replicas_of(sts):
            self.queue.add_after(key, min_ready)

    async def _claim_pods(self, sts: StatefulSet, selector: Selector) -> list[Pod]:
        """getPodsForStatefulSet: members only (name `<set>-<ordinal>`)."""
        cached = [p for p in self.pod_informer.store.by_index("namespace", sts.namespace or "")
                  if util.is_member_of(sts, p)]
        claim = claim_objects(sts, cached, selector)
        owned = list(claim.owned)
        for pod in claim.adopt:
            try:
                await self.client.patch(Pod, pod.name, adopt_patch(sts, pod), pod.namespace)
            except NotFound:
                owned.remove(pod)
        for pod in claim.release:
            try:
                await self.client.patch(Pod, pod.name, release_patch(sts.metadata.uid, pod), pod.namespace)
            except NotFound:
                pass
        return owned

    async def _write_status(self, sts: StatefulSet, status: StatefulSetStatus) -> None:
        target: Any = sts.model_copy(deep=True)
        for attempt in range(2):
            target.status = status
            try:
                await self.client.update_status(target)
                return
            except Conflict:
                if attempt:
                    raise
                target = await self.client.get(StatefulSet, sts.name, sts.namespace)
