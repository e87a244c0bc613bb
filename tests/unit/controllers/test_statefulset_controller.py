"""The StatefulSet controller's decisions: identity and storage of its pods, claims and
the retention policy, the ordered (OrderedReady) and parallel walks, scale down from the
highest ordinal, rolling updates above a partition, recreation of failed pods, the status
and the revision choice - each over seeded objects with fakes."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api.models import PersistentVolumeClaim, Pod, StatefulSet
from api.models.apps_sets import CONTROLLER_REVISION_HASH
from controllers import statefulset_util as util
from controllers.statefulset import StatefulSetController
from controllers.statefulset_control import StatefulSetControl, choose_revisions, new_revision
from controllers.statefulset_pods import FakeStatefulPodControl
from tests.support.apps_objects import T0, FakeClient, fake_informers, seed

LABELS = {"app": "nginx"}
NOW = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)


def make_sts(replicas: int = 3, *, policy: str = "OrderedReady", partition: int | None = 0,
             image: str = "nginx:1", retention: dict[str, str] | None = None,
             strategy: str = "RollingUpdate", status: dict[str, Any] | None = None) -> StatefulSet:
    update: dict[str, Any] = {"type": strategy}
    if strategy == "RollingUpdate" and partition is not None:
        update["rollingUpdate"] = {"partition": partition}
    return StatefulSet.from_dict({
        "metadata": {"name": "web", "namespace": "default", "uid": "sts-1", "generation": 1,
                     "resourceVersion": "3"},
        "spec": {"replicas": replicas, "serviceName": "nginx", "podManagementPolicy": policy,
                 "selector": {"matchLabels": LABELS}, "updateStrategy": update,
                 "persistentVolumeClaimRetentionPolicy": retention or {"whenDeleted": "Retain",
                                                                       "whenScaled": "Retain"},
                 "template": {"metadata": {"labels": LABELS},
                              "spec": {"containers": [{"name": "nginx", "image": image,
                                                       "volumeMounts": [{"name": "www", "mountPath": "/data"}]}]}},
                 "volumeClaimTemplates": [{"metadata": {"name": "www"},
                                           "spec": {"accessModes": ["ReadWriteOnce"],
                                                    "resources": {"requests": {"storage": "1Gi"}}}}]},
        "status": status or {}})


def running(sts: StatefulSet, ordinal: int, revision: str, *, ready: bool = True,
            phase: str = "Running", deleting: bool = False) -> Pod:
    pod = util.new_pod(sts, ordinal, revision)
    pod.metadata.uid = f"pod-{ordinal}"
    pod.metadata.creation_timestamp = T0
    if deleting:
        pod.metadata.deletion_timestamp = T0
    return Pod.from_dict({**pod.to_dict(), "status": {
        "phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                        "lastTransitionTime": T0}]}})


class Harness:
    def __init__(self, sts: StatefulSet) -> None:
        self.sts = sts
        self.client = FakeClient()
        self.pods = FakeStatefulPodControl()
        self.events: list[tuple[str, str, str]] = []
        self.control = StatefulSetControl(self.pods, self.client, self._record, lambda: NOW)
        self.revision = new_revision(sts, 1, 0)
        self.client.seed(self.revision)

    def _record(self, sts: StatefulSet, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))

    async def sync(self, pods: list[Pod]) -> Any:
        status, _, _ = await self.control.update(self.sts, pods, [self.revision])
        return status


# ---------------------------------------------------------------- identity and storage
def test_pods_carry_their_identity_and_their_own_claim() -> None:
    sts = make_sts()
    pod = util.new_pod(sts, 1, "web-abc")
    assert pod.metadata.name == "web-1" and pod.spec.hostname == "web-1" and pod.spec.subdomain == "nginx"  # type: ignore[union-attr]
    assert pod.metadata.labels == {**LABELS, "statefulset.kubernetes.io/pod-name": "web-1",
                                   "apps.kubernetes.io/pod-index": "1", CONTROLLER_REVISION_HASH: "web-abc"}
    (volume,) = pod.spec.volumes or []  # type: ignore[union-attr]
    assert volume.name == "www" and volume.persistent_volume_claim == {"claimName": "www-web-1"}
    (claim,) = util.claims_for(sts, pod).values()
    assert claim.metadata.name == "www-web-1" and claim.metadata.labels == LABELS
    assert util.identity_matches(sts, pod) and util.storage_matches(sts, pod)


def test_retention_policy_sets_the_claims_owners() -> None:
    claim = PersistentVolumeClaim.from_dict({"metadata": {"name": "www-web-2", "namespace": "default"}})
    keep = make_sts(2)
    pod = running(keep, 2, "r")
    assert util.claim_owner_refs(claim, keep, pod) is None
    on_delete = make_sts(2, retention={"whenDeleted": "Delete", "whenScaled": "Retain"})
    assert [r.kind for r in util.claim_owner_refs(claim, on_delete, pod) or []] == ["StatefulSet"]
    on_scale = make_sts(2, retention={"whenDeleted": "Retain", "whenScaled": "Delete"})
    (ref,) = util.claim_owner_refs(claim, on_scale, pod) or []      # web-2 is beyond 2 replicas
    assert (ref.kind, ref.name, ref.uid) == ("Pod", "web-2", "pod-2")
    stale = PersistentVolumeClaim.from_dict({"metadata": {"name": "www-web-2", "ownerReferences": [
        {"apiVersion": "v1", "kind": "Pod", "name": "web-2", "uid": "earlier"}]}})
    assert util.claim_is_stale(stale, pod)


# ---------------------------------------------------------------- the walks
async def test_ordered_ready_creates_one_pod_at_a_time() -> None:
    h = Harness(make_sts(3))
    await h.sync([])
    assert [p.name for p in h.pods.created] == ["web-0"]
    rev = h.revision.name
    await h.sync([running(h.sts, 0, rev, ready=False, phase="Pending")])
    assert [p.name for p in h.pods.created] == ["web-0"]          # waits for web-0
    status = await h.sync([running(h.sts, 0, rev)])
    assert [p.name for p in h.pods.created] == ["web-0", "web-1"]
    assert (status.replicas, status.ready_replicas, status.update_revision) == (1, 1, rev)


async def test_parallel_creates_every_missing_pod_at_once() -> None:
    h = Harness(make_sts(3, policy="Parallel"))
    await h.sync([running(h.sts, 1, h.revision.name, ready=False, phase="Pending")])
    assert [p.name for p in h.pods.created] == ["web-0", "web-2"]


async def test_scale_down_removes_the_highest_ordinal_first_and_waits() -> None:
    h = Harness(make_sts(1))
    rev = h.revision.name
    pods = [running(h.sts, i, rev) for i in range(3)]
    await h.sync(pods)
    assert h.pods.deleted == ["web-2"]
    await h.sync([pods[0], pods[1], running(h.sts, 2, rev, deleting=True)])
    assert h.pods.deleted == ["web-2"]                             # web-2 must be gone first


async def test_a_failed_pod_is_recreated_with_an_event() -> None:
    h = Harness(make_sts(1))
    await h.sync([running(h.sts, 0, h.revision.name, phase="Failed", ready=False)])
    assert h.pods.deleted == ["web-0"] and [p.name for p in h.pods.created] == ["web-0"]
    assert h.events == [("Warning", "RecreatingFailedPod", "StatefulSet default/web is recreating failed Pod web-0")]


async def test_rolling_update_replaces_from_the_top_down_to_the_partition() -> None:
    old = make_sts(3, partition=1)
    h = Harness(old)
    old_rev = h.revision.name
    new = make_sts(3, partition=1, image="nginx:2", status={"currentRevision": old_rev})
    h.sts = new
    pods = [running(old, i, old_rev) for i in range(3)]
    status = await h.sync(pods)
    (_, _, created_rev), = h.client.verbs("create")
    assert h.pods.deleted == ["web-2"] and created_rev.revision == 2
    assert (status.current_revision, status.update_revision) == (old_rev, created_rev.name)
    h.revision = created_rev
    h.pods.deleted.clear()
    pods[2] = running(new, 2, created_rev.name)
    revisions = [h.client.objects[("ControllerRevision", f"default/{old_rev}")], created_rev]
    await h.control.update(new, pods, revisions)
    assert h.pods.deleted == ["web-1"]                             # web-2 is updated and healthy
    h.pods.deleted.clear()
    pods[1] = running(new, 1, created_rev.name)
    status = await h.control.update(new, pods, revisions)
    assert h.pods.deleted == []                                    # web-0 is below the partition
    assert status[0].updated_replicas == 2 and status[0].current_replicas == 1
    # below the partition, a pod made anew stays at the current revision
    again = util.versioned_pod(new, new, old_rev, created_rev.name, 0)
    assert again.metadata.labels[CONTROLLER_REVISION_HASH] == old_rev  # type: ignore[index]


async def test_on_delete_never_deletes_for_an_update() -> None:
    old = make_sts(2, strategy="OnDelete")
    h = Harness(old)
    h.sts = make_sts(2, strategy="OnDelete", image="nginx:2", status={"currentRevision": h.revision.name})
    await h.sync([running(old, i, h.revision.name) for i in range(2)])
    assert h.pods.deleted == []


async def test_rolling_back_renumbers_the_older_equal_revision() -> None:
    sts = make_sts(1)
    r1, r2 = new_revision(sts, 1, 0), new_revision(make_sts(1, image="nginx:2"), 2, 0)
    client = FakeClient()
    current, update, _ = await choose_revisions(sts, [r1, r2], client)
    assert update.name == r1.name and update.revision == 3
    assert [a[0] for a in client.actions] == ["update"]


# ---------------------------------------------------------------- one controller sync
async def test_controller_adopts_members_only_and_writes_status() -> None:
    sts = make_sts(1)
    client = FakeClient()
    informers = fake_informers(client)
    control = FakeStatefulPodControl()
    ctrl = StatefulSetController(client, informers, None, pod_control=control)  # type: ignore[arg-type]
    member = running(sts, 0, "x")
    member.metadata.owner_references = None
    stranger = running(sts, 0, "x")
    stranger.metadata.name, stranger.metadata.owner_references = "other-0", None
    seed(informers, sts, member, stranger)
    client.seed(sts, member, stranger)
    await ctrl.reconcile(sts.key)
    assert [a[1] for a in client.verbs("patch")] == ["Pod/web-0"]
    (_, _, written), = client.verbs("update_status")
    assert written.status.replicas == 1 and written.status.update_revision.startswith("web-")
