"""The DaemonSet controller's decisions, as pure functions (Kubernetes' pkg/controller/daemon).

Owns:
- `node_should_run(ds, node)`: (shouldRun, shouldContinueRunning) from the template's
  nodeName, nodeSelector, required node affinity and the node's NoSchedule/NoExecute taints,
  with the tolerations every daemon pod gets (`DAEMON_TOLERATIONS`);
- `nodes_to_daemon_pods`: a DaemonSet's pods by the node they are (or will be) on;
- `manage_plan`: which nodes need a pod and which pods go (failed or succeeded pods, extra
  pods on a node, pods on nodes that should not run one, unscheduled pods of vanished nodes);
- `rolling_update_plan`: maxUnavailable (delete old pods, let manage create new ones) and
  maxSurge (create a new pod beside the old, delete the old once the new is available);
- `pod_for_node`: the pod created for a node (template, revision hash and template
  generation labels, tolerations, node affinity pinned to the node by `metadata.name`);
- `calculate_status`: the status counters.
Inputs are cached models, never mutated.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from api.meta import is_pod_available, is_pod_ready, new_controller_ref
from api.models.apps_sets import CONTROLLER_REVISION_HASH, DaemonSet, DaemonSetStatus
from api.models.base import ObjectMeta
from api.models.core import Node, Pod, Toleration
from api.models.pod import Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PodSpec
from api.nodeaffinity import pod_fits_node, untolerated_taint
from controllers.deployment_util import scaled_value

TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
BURST_REPLICAS = 250

DAEMON_TOLERATIONS = (
    Toleration(key="node.kubernetes.io/not-ready", operator="Exists", effect="NoExecute"),
    Toleration(key="node.kubernetes.io/unreachable", operator="Exists", effect="NoExecute"),
    Toleration(key="node.kubernetes.io/disk-pressure", operator="Exists", effect="NoSchedule"),
    Toleration(key="node.kubernetes.io/memory-pressure", operator="Exists", effect="NoSchedule"),
    Toleration(key="node.kubernetes.io/pid-pressure", operator="Exists", effect="NoSchedule"),
    Toleration(key="node.kubernetes.io/unschedulable", operator="Exists", effect="NoSchedule"),
)
NETWORK_UNAVAILABLE = Toleration(key="node.kubernetes.io/network-unavailable", operator="Exists",
                                 effect="NoSchedule")


# ---------------------------------------------------------------- the pod of a node
def daemon_tolerations(spec: PodSpec) -> list[Toleration]:
    """AddOrUpdateDaemonPodTolerations: the template's tolerations plus the daemon ones (a
    toleration of the same key and effect is replaced)."""
    wanted = list(DAEMON_TOLERATIONS)
    if spec.host_network:
        wanted.append(NETWORK_UNAVAILABLE)
    keys = {(t.key, t.effect) for t in wanted}
    kept = [t for t in spec.tolerations or [] if (t.key, t.effect) not in keys]
    return kept + [t.model_copy() for t in wanted]


def template_generation(ds: DaemonSet) -> str | None:
    return (ds.metadata.annotations or {}).get(TEMPLATE_GENERATION_ANNOTATION)


def pinned_affinity(affinity: Affinity | None, node_name: str) -> Affinity:
    """ReplaceDaemonSetPodNodeNameNodeAffinity: required node affinity replaced by one term
    matching the node's `metadata.name` (the scheduler then binds the pod there)."""
    out = affinity.model_copy(deep=True) if affinity is not None else Affinity()
    na = out.node_affinity or NodeAffinity()
    na.required_during_scheduling_ignored_during_execution = NodeSelector(node_selector_terms=[
        NodeSelectorTerm(match_fields=[NodeSelectorRequirement(key="metadata.name", operator="In",
                                                               values=[node_name])])])
    out.node_affinity = na
    return out


def pod_for_node(ds: DaemonSet, node_name: str, hash_value: str) -> Pod:
    """The pod the controller creates for `node_name` (CreatePodTemplate + node affinity)."""
    assert ds.spec is not None
    template = ds.spec.template
    labels = dict(template.metadata.labels or {})
    generation = template_generation(ds)
    if generation is not None:
        labels[TEMPLATE_GENERATION_LABEL] = generation
    labels[CONTROLLER_REVISION_HASH] = hash_value
    spec = template.spec.model_copy(deep=True) if template.spec else PodSpec(containers=[])
    spec.tolerations = daemon_tolerations(spec)
    spec.affinity = pinned_affinity(spec.affinity, node_name)
    meta = ObjectMeta(generate_name=f"{ds.metadata.name}-", namespace=ds.metadata.namespace,
                      labels=labels, annotations=dict(template.metadata.annotations or {}) or None,
                      finalizers=list(template.metadata.finalizers or []) or None,
                      owner_references=[new_controller_ref(ds)])
    return Pod(metadata=meta, spec=spec)


# ---------------------------------------------------------------- where to run
def node_should_run(ds: DaemonSet, node: Node) -> tuple[bool, bool]:
    """NodeShouldRunDaemonPod: (should run, should continue running)."""
    spec = ds.spec.template.spec if ds.spec else None
    if spec is None:
        return False, False
    if spec.node_name and spec.node_name != node.name:
        return False, False
    if not pod_fits_node(spec, node):
        return False, False
    taints = (node.spec.taints if node.spec else None) or []
    tolerations = daemon_tolerations(spec)
    if untolerated_taint(taints, tolerations, lambda t: t.effect in ("NoSchedule", "NoExecute")):
        blocked = untolerated_taint(taints, tolerations, lambda t: t.effect == "NoExecute")
        return False, blocked is None
    return True, True


def target_node(pod: Pod) -> str | None:
    """GetTargetNodeName: spec.nodeName, or the node a daemon pod's affinity pins it to."""
    spec = pod.spec
    if spec is None:
        return None
    if spec.node_name:
        return spec.node_name
    na = spec.affinity.node_affinity if spec.affinity else None
    required = na.required_during_scheduling_ignored_during_execution if na else None
    for term in (required.node_selector_terms if required else None) or []:
        for r in term.match_fields or []:
            if r.key == "metadata.name" and r.operator == "In" and len(r.values or []) == 1:
                return (r.values or [""])[0]
    return None


def _terminal(pod: Pod) -> bool:
    return (pod.status.phase if pod.status else None) in ("Succeeded", "Failed")


def nodes_to_daemon_pods(pods: Sequence[Pod], include_deleted_terminal: bool = False) -> dict[str, list[Pod]]:
    """getNodesToDaemonPods: owned pods by node; terminal pods being deleted are left out
    unless asked for (terminating running pods stay: their node is not free yet)."""
    out: dict[str, list[Pod]] = {}
    for pod in pods:
        if not include_deleted_terminal and _terminal(pod) and pod.metadata.deletion_timestamp:
            continue
        node = target_node(pod)
        if node is not None:
            out.setdefault(node, []).append(pod)
    return out


def by_creation(pods: Sequence[Pod]) -> list[Pod]:
    """podByCreationTimestampAndPhase: scheduled first, then oldest, then by name."""
    return sorted(pods, key=lambda p: (not (p.spec and p.spec.node_name),
                                       p.metadata.creation_timestamp or "", p.name))


def is_pod_updated(pod: Pod, hash_value: str, generation: str | None) -> bool:
    labels = pod.metadata.labels or {}
    return bool(hash_value) and labels.get(CONTROLLER_REVISION_HASH) == hash_value or \
        (generation is not None and labels.get(TEMPLATE_GENERATION_LABEL) == generation)


def allows_surge(ds: DaemonSet) -> bool:
    strategy = ds.spec.update_strategy if ds.spec else None
    if strategy is None or strategy.type != "RollingUpdate" or strategy.rolling_update is None:
        return False
    surge = strategy.rolling_update.max_surge
    return surge not in (None, 0, "0%")


# ---------------------------------------------------------------- manage
@dataclass
class ManagePlan:
    create_nodes: list[str] = field(default_factory=list)
    delete: list[Pod] = field(default_factory=list)
    #: failed pods the controller may delete (after its backoff), by node
    failed: list[tuple[str, Pod]] = field(default_factory=list)
    succeeded: list[tuple[str, Pod]] = field(default_factory=list)


def manage_plan(ds: DaemonSet, nodes: Sequence[Node], node_pods: Mapping[str, list[Pod]],
                hash_value: str, now: datetime | None = None) -> ManagePlan:
    """manage: podsShouldBeOnNode for every node, plus getUnscheduledPodsWithoutNode."""
    plan = ManagePlan()
    min_ready = (ds.spec.min_ready_seconds if ds.spec else None) or 0
    for node in nodes:
        should_run, should_continue = node_should_run(ds, node)
        pods = node_pods.get(node.name)
        if should_run and not pods:
            plan.create_nodes.append(node.name)
        elif should_continue:
            running: list[Pod] = []
            for pod in pods or []:
                if pod.metadata.deletion_timestamp:
                    continue
                phase = pod.status.phase if pod.status else None
                if phase == "Failed":
                    plan.failed.append((node.name, pod))
                elif phase == "Succeeded":
                    plan.succeeded.append((node.name, pod))
                else:
                    running.append(pod)
            if not allows_surge(ds):
                plan.delete.extend(by_creation(running)[1:])
                continue
            if len(running) <= 1:
                if not running and should_run:
                    plan.create_nodes.append(node.name)
                continue
            plan.delete.extend(_surge_prune(running, hash_value, min_ready, now))
        elif pods:
            plan.delete.extend(p for p in pods if not p.metadata.deletion_timestamp)
    known = {n.name for n in nodes}
    for name, pods in node_pods.items():
        if name not in known:
            plan.delete.extend(p for p in pods if not (p.spec and p.spec.node_name))
    return plan


def _surge_prune(running: list[Pod], hash_value: str, min_ready: int,
                 now: datetime | None) -> list[Pod]:
    """With surge, keep the oldest new and the oldest old pod; the old one goes once it is
    not ready or the new one is available."""
    out: list[Pod] = []
    oldest_new = oldest_old = None
    for pod in by_creation(running):
        is_new = (pod.metadata.labels or {}).get(CONTROLLER_REVISION_HASH) == hash_value
        if is_new and oldest_new is None:
            oldest_new = pod
        elif not is_new and oldest_old is None:
            oldest_old = pod
        else:
            out.append(pod)
    if oldest_new is not None and oldest_old is not None and \
            (not is_pod_ready(oldest_old) or is_pod_available(oldest_new, min_ready, now)):
        out.append(oldest_old)
    return out


# ---------------------------------------------------------------- rolling update
def fenceposts(ds: DaemonSet, nodes: Sequence[Node], node_pods: dict[str, list[Pod]]) -> tuple[int, int]:
    """updatedDesiredNodeCounts: (maxSurge, maxUnavailable) against the nodes that should
    run the daemon (percentages round up); each such node gets an entry in `node_pods`."""
    desired = 0
    for node in nodes:
        if node_should_run(ds, node)[0]:
            desired += 1
            node_pods.setdefault(node.name, [])
    strategy = ds.spec.update_strategy if ds.spec else None
    ru = strategy.rolling_update if strategy is not None and strategy.type == "RollingUpdate" else None
    unavailable = scaled_value(ru.max_unavailable, desired, True) if ru is not None else 0
    surge = scaled_value(ru.max_surge, desired, True) if ru is not None else 0
    if desired > 0 and unavailable == 0 and surge == 0:
        unavailable = 1
    return surge, unavailable


def _updated_on_node(pods: list[Pod], hash_value: str,
                     generation: str | None) -> tuple[Pod | None, Pod | None, bool]:
    """findUpdatedPodsOnNode: (new pod, old pod, at most one of each)."""
    new = old = None
    for pod in pods:
        if pod.metadata.deletion_timestamp:
            continue
        if is_pod_updated(pod, hash_value, generation):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


def rolling_update_plan(ds: DaemonSet, nodes: Sequence[Node], node_pods: Mapping[str, list[Pod]],
                        hash_value: str, now: datetime | None = None) -> tuple[list[Pod], list[str]]:
    """rollingUpdate: (old pods to delete, nodes to create a new pod on)."""
    pods_by_node = {k: list(v) for k, v in node_pods.items()}
    surge, max_unavailable = fenceposts(ds, nodes, pods_by_node)
    min_ready = (ds.spec.min_ready_seconds if ds.spec else None) or 0
    generation = template_generation(ds)
    available: Callable[[Pod], bool] = lambda p: is_pod_available(p, min_ready, now)  # noqa: E731
    if surge == 0:
        unavailable = 0
        replace: list[Pod] = []
        candidates: list[Pod] = []
        for name in sorted(pods_by_node):
            new, old, ok = _updated_on_node(pods_by_node[name], hash_value, generation)
            if not ok or (old is None) == (new is None):
                unavailable += 1
            elif new is not None:
                unavailable += 0 if available(new) else 1
            elif old is not None and not available(old):
                replace.append(old)
            elif old is not None and unavailable < max_unavailable:
                candidates.append(old)
        room = max(0, min(max_unavailable - unavailable, len(candidates)))
        return replace + candidates[:room], []
    to_delete: list[Pod] = []
    allowed: list[str] = []
    surge_candidates: list[str] = []
    surged = 0
    for name in sorted(pods_by_node):
        new, old, ok = _updated_on_node(pods_by_node[name], hash_value, generation)
        if not ok:
            surged += 1
        elif old is None:
            continue
        elif new is None:
            if not available(old):
                allowed.append(name)
            elif surged < surge:
                surge_candidates.append(name)
        elif not available(new):
            surged += 1
        else:
            to_delete.append(old)
    room = max(0, min(surge - surged, len(surge_candidates)))
    return to_delete, allowed + surge_candidates[:room]


# ---------------------------------------------------------------- status
def calculate_status(ds: DaemonSet, nodes: Sequence[Node], node_pods: Mapping[str, list[Pod]],
                     hash_value: str, observed: bool, now: datetime | None = None) -> DaemonSetStatus:
    """updateDaemonSetStatus's counters; observedGeneration moves only when `observed`."""
    desired = current = misscheduled = ready = updated = available = 0
    min_ready = (ds.spec.min_ready_seconds if ds.spec else None) or 0
    generation = template_generation(ds)
    for node in nodes:
        should_run, _ = node_should_run(ds, node)
        pods = node_pods.get(node.name) or []
        if not should_run:
            misscheduled += 1 if pods else 0
            continue
        desired += 1
        if not pods:
            continue
        current += 1
        pod = by_creation(pods)[0]
        if is_pod_ready(pod):
            ready += 1
            if is_pod_available(pod, min_ready, now):
                available += 1
        if is_pod_updated(pod, hash_value, generation):
            updated += 1
    old = ds.status or DaemonSetStatus()
    return DaemonSetStatus(
        current_number_scheduled=current, number_misscheduled=misscheduled,
        desired_number_scheduled=desired, number_ready=ready,
        observed_generation=ds.metadata.generation if observed else old.observed_generation,
        updated_number_scheduled=updated or None, number_available=available or None,
        number_unavailable=(desired - available) or None, collision_count=old.collision_count,
        conditions=old.conditions)


def status_changed(ds: DaemonSet, status: DaemonSetStatus) -> bool:
    return (ds.status or DaemonSetStatus()).to_dict() != status.to_dict()
