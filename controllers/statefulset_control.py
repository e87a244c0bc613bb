"""One StatefulSet sync (Kubernetes' defaultStatefulSetControl.UpdateStatefulSet).

Owns the sequence: choose the current and update revisions (creating the update revision,
or renumbering an equal older one on a rollback), sort the owned pods into replicas (by
ordinal) and condemned (ordinals beyond the range), then
1. process each replica: a failed or succeeded pod is deleted and made anew; a missing one
   is created (claims first); in OrderedReady (monotonic) mode the walk stops at the first
   pod that is not Running, Ready and Available, or still terminating;
2. set the claims of condemned pods to the retention policy, then delete condemned pods,
   highest ordinal first (one at a time, once all others are healthy, when monotonic);
3. RollingUpdate: delete the highest-ordinal pod at or above the partition that is not at
   the update revision, waiting for each replaced pod to be healthy (OnDelete: nothing).
Returns the status to write. Every side effect goes through the pod control.
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from api.meta import compute_hash
from api.models import ControllerRevision, Pod, StatefulSet
from api.models.apps_sets import StatefulSetStatus
from client.errors import AlreadyExists
from controllers import history as hist
from controllers import statefulset_util as util

log = logging.getLogger(__name__)


class PodControl(Protocol):
    async def create_pod(self, sts: StatefulSet, pod: Pod) -> Pod | None: ...
    async def delete_pod(self, sts: StatefulSet, pod: Pod) -> None: ...
    async def update_pod(self, sts: StatefulSet, pod: Pod) -> None: ...
    def claims_match_policy(self, sts: StatefulSet, pod: Pod) -> bool: ...
    async def fix_claims(self, sts: StatefulSet, pod: Pod) -> None: ...
    async def create_missing_claims(self, sts: StatefulSet, pod: Pod) -> None: ...
    def claim_is_stale(self, sts: StatefulSet, pod: Pod) -> bool: ...


class RevisionWriter(Protocol):
    async def create(self, obj: Any) -> Any: ...
    async def get(self, kind: Any, name: str, namespace: str | None = None) -> Any: ...
    async def update(self, obj: Any) -> Any: ...


Recorder = Callable[[StatefulSet, str, str, str], None]


def apply_revision(sts: StatefulSet, revision: ControllerRevision) -> StatefulSet:
    """ApplyRevision: the set with the revision's pod template."""
    out = sts.model_copy(deep=True)
    template = copy.deepcopy(((revision.data or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    assert out.spec is not None
    out.spec.template = type(out.spec.template).model_validate(template)
    return out


def new_revision(sts: StatefulSet, number: int, collisions: int) -> ControllerRevision:
    """history.NewControllerRevision: `<set>-<hash of the data>`, labelled with the hash."""
    data = hist.revision_data(sts)
    hash_value = compute_hash(data, collisions)
    return hist.new_revision(sts, data, number, hash_value, f"{sts.metadata.name}-{hash_value}")


def _equal(a: ControllerRevision, b: ControllerRevision) -> bool:
    return (a.data or {}) == (b.data or {})


async def choose_revisions(sts: StatefulSet, revisions: Sequence[ControllerRevision],
                           client: RevisionWriter) -> tuple[ControllerRevision, ControllerRevision, int]:
    """getStatefulSetRevisions: (current, update, collision count)."""
    ordered = sorted(revisions, key=lambda r: (r.revision, r.metadata.creation_timestamp or "", r.name))
    collisions = (sts.status.collision_count if sts.status else None) or 0
    update = new_revision(sts, hist.max_revision(ordered) + 1, collisions)
    equal = [r for r in ordered if _equal(r, update)]
    if equal and ordered and _equal(ordered[-1], equal[-1]):
        update = ordered[-1]
    elif equal:
        renumbered = equal[-1].model_copy(deep=True)
        renumbered.revision = update.revision
        update = await client.update(renumbered)
    else:
        while True:
            try:
                update = await client.create(update)
                break
            except AlreadyExists:
                existing = await client.get(ControllerRevision, update.name, update.metadata.namespace)
                if _equal(existing, update):
                    update = existing
                    break
                collisions += 1
                update = new_revision(sts, update.revision, collisions)
    current_name = sts.status.current_revision if sts.status else None
    current = next((r for r in ordered if r.name == current_name), update)
    return current, update, collisions


class StatefulSetControl:
    def __init__(self, pods: PodControl, revisions: RevisionWriter, record: Recorder,
                 now: Callable[[], datetime]) -> None:
        self.pods = pods
        self.revisions = revisions
        self.record = record
        self.now = now

    async def update(self, sts: StatefulSet, pods: Sequence[Pod],
                     revisions: Sequence[ControllerRevision]) -> tuple[StatefulSetStatus, ControllerRevision, ControllerRevision]:
        current_rev, update_rev, collisions = await choose_revisions(sts, revisions, self.revisions)
        current_set, update_set = apply_revision(sts, current_rev), apply_revision(sts, update_rev)
        created = {p.name for p in pods}
        count = util.replicas_of(sts)
        start = util.start_ordinal(sts)
        replicas: list[Pod | None] = [None] * count
        condemned: list[Pod] = []
        for pod in pods:
            if util.in_ordinal_range(pod, sts):
                replicas[util.ordinal(pod) - start] = pod
            elif util.ordinal(pod) >= 0:
                condemned.append(pod)
        for i in range(count):
            if replicas[i] is None:
                replicas[i] = util.versioned_pod(current_set, update_set, current_rev.name,
                                                 update_rev.name, start + i)
        live: list[Pod] = [p for p in replicas if p is not None]
        condemned = util.descending(condemned)

        def status() -> StatefulSetStatus:
            return util.compute_status(sts, live + condemned, created, current_rev.name,
                                       update_rev.name, collisions, self.now())
        if sts.metadata.deletion_timestamp:
            return status(), current_rev, update_rev
        first_unhealthy = next((p for p in live if not util.is_healthy(p)), None) or \
            next((p for p in reversed(condemned) if not util.is_healthy(p)), None)
        monotonic = (sts.spec.pod_management_policy if sts.spec else None) != "Parallel"
        for i in range(count):
            if await self._process_replica(sts, current_set, update_set, current_rev, update_rev,
                                           monotonic, live, created, i):
                return status(), current_rev, update_rev
        for pod in condemned:
            if not self.pods.claims_match_policy(update_set, pod):
                await self.pods.fix_claims(update_set, pod)
        for pod in condemned:
            if await self._process_condemned(sts, first_unhealthy, monotonic, pod):
                return status(), current_rev, update_rev
        strategy = sts.spec.update_strategy if sts.spec else None
        if strategy is None or strategy.type != "RollingUpdate":
            return status(), current_rev, update_rev
        partition = (strategy.rolling_update.partition if strategy.rolling_update else None) or 0
        for target in range(len(live) - 1, partition - 1, -1):
            pod = live[target]
            if util.pod_revision(pod) != update_rev.name and not util.is_terminating(pod):
                log.info("StatefulSet %s: deleting %s for update", sts.key, pod.name)
                await self.pods.delete_pod(sts, pod)
                st = status()
                st.current_replicas = max(0, (st.current_replicas or 0) - 1) or None
                return st, current_rev, update_rev
            if not util.is_healthy(pod):
                break
        return status(), current_rev, update_rev

    async def _process_replica(self, sts: StatefulSet, current_set: StatefulSet, update_set: StatefulSet,
                               current_rev: ControllerRevision, update_rev: ControllerRevision,
                               monotonic: bool, live: list[Pod], created: set[str], i: int) -> bool:
        """processReplica: True when this sync must stop here."""
        pod = live[i]
        min_ready = (sts.spec.min_ready_seconds if sts.spec else None) or 0
        if pod.name in created and util.phase(pod) in ("Failed", "Succeeded"):
            failed = util.phase(pod) == "Failed"
            self.record(sts, "Warning" if failed else "Normal",
                        "RecreatingFailedPod" if failed else "RecreatingTerminatedPod",
                        f"StatefulSet {sts.namespace}/{sts.name} is recreating "
                        f"{'failed' if failed else 'terminated'} Pod {pod.name}")
            await self.pods.delete_pod(sts, pod)
            created.discard(pod.name)
            pod = live[i] = util.versioned_pod(current_set, update_set, current_rev.name, update_rev.name,
                                               util.start_ordinal(sts) + i)
        if pod.name not in created:
            if self.pods.claim_is_stale(sts, pod):
                return True
            await self.pods.create_pod(sts, pod)
            return monotonic
        if util.phase(pod) == "Pending":
            await self.pods.create_missing_claims(sts, pod)
        if util.is_terminating(pod) and monotonic:
            return True
        if monotonic and (not util.is_running_and_ready(pod) or
                          not util.is_running_and_available(pod, min_ready, self.now())):
            return True     # (not yet available: the controller re-syncs after minReadySeconds)
        if util.identity_matches(sts, pod) and util.storage_matches(sts, pod) and \
                self.pods.claims_match_policy(update_set, pod):
            return False
        if not util.identity_matches(sts, pod):
            await self.pods.update_pod(update_set, pod)
        if not self.pods.claims_match_policy(update_set, pod):
            await self.pods.fix_claims(update_set, pod)
        return False

    async def _process_condemned(self, sts: StatefulSet, first_unhealthy: Pod | None,
                                 monotonic: bool, pod: Pod) -> bool:
        """processCondemned: True when this sync must stop here."""
        min_ready = (sts.spec.min_ready_seconds if sts.spec else None) or 0
        if util.is_terminating(pod):
            return monotonic
        if monotonic and pod is not first_unhealthy and (
                not util.is_running_and_ready(pod) or not util.is_running_and_available(pod, min_ready, self.now())):
            return True
        log.info("StatefulSet %s: deleting %s for scale down", sts.key, pod.name)
        await self.pods.delete_pod(sts, pod)
        return monotonic

