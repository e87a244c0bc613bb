"""The DaemonSet controller's decisions (which nodes run a daemon pod, what manage and the
rolling update do, the status) and one sync over seeded caches with a fake pod control."""
from __future__ import annotations

from typing import Any

from api.models import ControllerRevision, DaemonSet, Node, Pod
from api.models.apps_sets import CONTROLLER_REVISION_HASH
from controllers import daemonset_logic as logic
from controllers import history as hist
from controllers.daemonset import DaemonSetsController
from controllers.replicaset import FakePodControl
from tests.support.apps_objects import T0, FakeClient, fake_informers, make_pod, seed

LABELS = {"app": "agent"}


def make_ds(*, strategy: dict[str, Any] | None = None, node_selector: dict[str, str] | None = None,
            tolerations: list[dict[str, Any]] | None = None, image: str = "agent:1",
            generation: int = 1) -> DaemonSet:
    spec: dict[str, Any] = {"containers": [{"name": "a", "image": image}]}
    if node_selector:
        spec["nodeSelector"] = node_selector
    if tolerations:
        spec["tolerations"] = tolerations
    return DaemonSet.from_dict({
        "metadata": {"name": "agent", "namespace": "default", "uid": "ds-1", "generation": generation,
                     "resourceVersion": "5",
                     "annotations": {logic.TEMPLATE_GENERATION_ANNOTATION: str(generation)}},
        "spec": {"selector": {"matchLabels": LABELS},
                 "template": {"metadata": {"labels": LABELS}, "spec": spec},
                 "updateStrategy": strategy or {"type": "RollingUpdate",
                                                "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                 "revisionHistoryLimit": 10}})


def make_node(name: str, labels: dict[str, str] | None = None,
              taints: list[dict[str, Any]] | None = None) -> Node:
    return Node.from_dict({"metadata": {"name": name, "uid": f"node-{name}", "resourceVersion": "1",
                                        "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
                           "spec": {"taints": taints or []}})


def daemon_pod(ds: DaemonSet, name: str, node: str, hash_value: str, *, ready: bool = True,
               phase: str = "Running", created: str = T0, deleting: bool = False) -> Pod:
    pod = make_pod(name, {**LABELS, CONTROLLER_REVISION_HASH: hash_value}, owner=ds, node=node,
                   ready=ready, phase=phase, created=created, deleting=deleting)
    return pod


# ---------------------------------------------------------------- where to run
def test_node_should_run_follows_selector_taints_and_the_automatic_tolerations() -> None:
    ds = make_ds(node_selector={"disk": "ssd"})
    assert logic.node_should_run(ds, make_node("n1", {"disk": "ssd"})) == (True, True)
    assert logic.node_should_run(ds, make_node("n2", {"disk": "hdd"})) == (False, False)
    plain = make_ds()
    tainted = make_node("n3", taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}])
    assert logic.node_should_run(plain, tainted) == (False, True)     # keeps a running pod
    evicting = make_node("n4", taints=[{"key": "dedicated", "effect": "NoExecute"}])
    assert logic.node_should_run(plain, evicting) == (False, False)
    tolerant = make_ds(tolerations=[{"key": "dedicated", "operator": "Exists"}])
    assert logic.node_should_run(tolerant, evicting) == (True, True)
    auto = make_node("n5", taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"},
                                   {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
                                   {"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule"}])
    assert logic.node_should_run(plain, auto) == (True, True)


def test_the_pod_for_a_node_is_pinned_there_and_labelled_with_the_revision() -> None:
    ds = make_ds(tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
                               "effect": "NoSchedule", "tolerationSeconds": 5}])
    pod = logic.pod_for_node(ds, "n2", "abc123")
    assert pod.metadata.generate_name == "agent-"
    assert pod.metadata.labels == {**LABELS, "controller-revision-hash": "abc123", "pod-template-generation": "1"}
    terms = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms  # type: ignore[union-attr]
    assert [t.to_dict() for t in terms] == [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                                              "values": ["n2"]}]}]
    tols = {(t.key, t.effect): t for t in pod.spec.tolerations or []}  # type: ignore[union-attr]
    assert ("node.kubernetes.io/unreachable", "NoExecute") in tols
    assert tols[("node.kubernetes.io/unschedulable", "NoSchedule")].toleration_seconds is None  # replaced
    assert pod.spec.node_name is None and pod.metadata.owner_references[0].kind == "DaemonSet"  # type: ignore[union-attr,index]
    assert logic.target_node(pod) == "n2"


# ---------------------------------------------------------------- manage
def test_manage_creates_on_empty_nodes_and_prunes_what_must_go() -> None:
    ds = make_ds(node_selector={"role": "edge"})
    nodes = [make_node("n1", {"role": "edge"}), make_node("n2", {"role": "edge"}),
             make_node("n3", {"role": "core"})]
    pods = [daemon_pod(ds, "old", "n2", "h", created="2026-01-01T00:00:00Z"),
            daemon_pod(ds, "dup", "n2", "h", created="2026-01-02T00:00:00Z"),
            daemon_pod(ds, "wrong", "n3", "h"),
            daemon_pod(ds, "failed", "n1", "h", phase="Failed")]
    orphan_of_gone_node = logic.pod_for_node(ds, "gone", "h")
    orphan_of_gone_node.metadata.name = "lost"
    plan = logic.manage_plan(ds, nodes, logic.nodes_to_daemon_pods(pods + [orphan_of_gone_node]), "h")
    assert plan.create_nodes == []                       # n1 has a (failed) pod: replaced after its deletion
    assert sorted(p.name for p in plan.delete) == ["dup", "lost", "wrong"]
    assert [(n, p.name) for n, p in plan.failed] == [("n1", "failed")]
    plan = logic.manage_plan(ds, nodes, logic.nodes_to_daemon_pods(pods[:3]), "h")
    assert plan.create_nodes == ["n1"]


def test_a_terminating_pod_keeps_its_node_until_it_is_gone() -> None:
    ds = make_ds()
    going = daemon_pod(ds, "going", "n1", "h", deleting=True)
    plan = logic.manage_plan(ds, [make_node("n1")], logic.nodes_to_daemon_pods([going]), "h")
    assert plan.create_nodes == [] and plan.delete == []


# ---------------------------------------------------------------- rolling update
def test_max_unavailable_replaces_one_old_pod_at_a_time() -> None:
    ds = make_ds()
    nodes = [make_node(f"n{i}") for i in range(3)]
    old = [daemon_pod(ds, f"old{i}", f"n{i}", "old") for i in range(3)]
    delete, create = logic.rolling_update_plan(ds, nodes, logic.nodes_to_daemon_pods(old), "new")
    assert [p.name for p in delete] == ["old0"] and create == []
    # n0 now has an unready new pod: nothing more may go
    new0 = daemon_pod(ds, "new0", "n0", "new", ready=False)
    delete, _ = logic.rolling_update_plan(ds, nodes, logic.nodes_to_daemon_pods([new0] + old[1:]), "new")
    assert delete == []
    # an old pod that is not available is replaced at once, whatever the budget
    sick = daemon_pod(ds, "sick", "n2", "old", ready=False)
    delete, _ = logic.rolling_update_plan(ds, nodes, logic.nodes_to_daemon_pods([new0, old[1], sick]), "new")
    assert [p.name for p in delete] == ["sick"]


def test_max_surge_starts_the_new_pod_first_and_removes_the_old_once_available() -> None:
    ds = make_ds(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}})
    nodes = [make_node("n0"), make_node("n1")]
    old = [daemon_pod(ds, f"old{i}", f"n{i}", "old") for i in range(2)]
    delete, create = logic.rolling_update_plan(ds, nodes, logic.nodes_to_daemon_pods(old), "new")
    assert delete == [] and create == ["n0"]
    new0 = daemon_pod(ds, "new0", "n0", "new", ready=False)
    delete, create = logic.rolling_update_plan(ds, nodes, logic.nodes_to_daemon_pods(old + [new0]), "new")
    assert delete == [] and create == []               # the surge is used up until new0 is available
    new0 = daemon_pod(ds, "new0", "n0", "new", ready=True)
    delete, create = logic.rolling_update_plan(ds, nodes, logic.nodes_to_daemon_pods(old + [new0]), "new")
    assert [p.name for p in delete] == ["old0"] and create == ["n1"]


def test_status_counts_nodes() -> None:
    ds = make_ds(node_selector={"role": "edge"})
    nodes = [make_node("n1", {"role": "edge"}), make_node("n2", {"role": "edge"}), make_node("n3")]
    pods = [daemon_pod(ds, "a", "n1", "new"), daemon_pod(ds, "b", "n2", "old", ready=False),
            daemon_pod(ds, "c", "n3", "new")]
    st = logic.calculate_status(ds, nodes, logic.nodes_to_daemon_pods(pods), "new", observed=True)
    assert st.to_dict() == {"currentNumberScheduled": 2, "numberMisscheduled": 1,
                            "desiredNumberScheduled": 2, "numberReady": 1, "observedGeneration": 1,
                            "updatedNumberScheduled": 1, "numberAvailable": 1, "numberUnavailable": 1}


# ---------------------------------------------------------------- history
def test_history_keeps_the_matching_revision_and_numbers_it_last() -> None:
    ds = make_ds()
    other = make_ds(image="agent:0")
    r1 = hist.new_revision(other, hist.revision_data(other), 1, "h1", "agent-h1")
    r2 = hist.new_revision(ds, hist.revision_data(ds), 1, "h2", "agent-h2")
    h = hist.split_history(ds, [r1, r2])
    assert h.current is r2 and h.old == [r1] and h.needs_renumber and h.next_revision == 2
    assert hist.revision_data(ds)["spec"]["template"]["$patch"] == "replace"
    assert [r.metadata.name for r in hist.revisions_to_clean([r1], 0, {"h1"})] == []
    assert [r.metadata.name for r in hist.revisions_to_clean([r1], 0, set())] == ["agent-h1"]


# ---------------------------------------------------------------- one sync
async def test_a_sync_snapshots_the_template_and_creates_a_pod_per_node() -> None:
    ds = make_ds()
    client, control = FakeClient(), FakePodControl()
    informers = fake_informers(client)
    ctrl = DaemonSetsController(client, informers, None, pod_control=control)  # type: ignore[arg-type]
    seed(informers, ds, make_node("n1"), make_node("n2"),
         make_node("n3", taints=[{"key": "gpu", "effect": "NoSchedule"}]))
    client.seed(ds)
    await ctrl.reconcile(ds.key)
    (_, kind, rev), = client.verbs("create")
    assert kind == "ControllerRevision" and isinstance(rev, ControllerRevision)
    hash_value = rev.metadata.labels[CONTROLLER_REVISION_HASH]  # type: ignore[index]
    assert rev.metadata.name == f"agent-{hash_value}" and rev.revision == 1
    assert sorted(logic.target_node(p) or "" for p in control.created) == ["n1", "n2"]
    assert all(p.metadata.labels[CONTROLLER_REVISION_HASH] == hash_value for p in control.created)  # type: ignore[index]
    (_, _, written), = client.verbs("update_status")
    assert written.status.desired_number_scheduled == 2 and written.status.observed_generation == 1
    assert ctrl.expectations.pending(ds.key) == (2, 0)
    # the informer shows the revision and both pods: nothing more to do
    seed(informers, rev, *[p.model_copy(update={"metadata": p.metadata.model_copy(update={"name": f"p{i}"})})
                           for i, p in enumerate(control.created)])
    for _ in control.created:
        ctrl.expectations.creation_observed(ds.key)
    await ctrl.reconcile(ds.key)
    assert len(control.created) == 2 and control.deleted == []
