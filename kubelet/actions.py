"""What to do to a pod, decided from its spec and what the runtime holds: pure.

Owns `compute_pod_actions`, Kubernetes' kuberuntime_manager computePodActions:
- a missing, not-ready or IP-less sandbox means "kill the pod and create a new sandbox"
  (attempt + 1), and then every container starts again, except (OnFailure) those that
  already succeeded; a `Never` pod whose containers already ran, or a pod with nothing
  left to start, gets no new sandbox;
- a container that is not running is started when the restart policy says so
  (`should_restart`: never after success under OnFailure, never under Never; created and
  unknown containers always); the crash-loop backoff is applied when starting;
- a running container is killed (and restarted unless the policy forbids) when its spec
  hash changed or its liveness / startup probe failed;
- when nothing runs and nothing will start, the pod is killed (its sandbox stopped);
- init containers run first, one at a time, each to success (`init_progress`); a failed
  one is restarted (with backoff) unless the policy is Never, which fails the pod;
- an ephemeral container (`kubectl debug`) starts once in the running sandbox, even while
  init containers run, and never again (`start_ephemeral`); it keeps no pod alive.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from api.models.core import Container, Pod
from kubelet.runtime.interface import ContainerState, ContainerStatus, SandboxState
from kubelet.runtime_pod import ANN_HASH, RuntimePod, container_hash


@dataclass
class PodActions:
    kill_pod: bool = False
    create_sandbox: bool = False
    sandbox_id: str = ""
    attempt: int = 0
    start: list[str] = field(default_factory=list)             # container names, spec order
    start_ephemeral: list[str] = field(default_factory=list)   # ephemeral containers to start
    kill: dict[str, str] = field(default_factory=dict)         # container id -> reason
    stop_sandboxes: list[str] = field(default_factory=list)    # extra ready sandboxes


def should_restart(pod: Pod, status: ContainerStatus | None) -> bool:
    """Kubernetes' ShouldContainerBeRestarted."""
    if pod.metadata.deletion_timestamp:
        return False
    if status is None:
        return True
    if status.state == ContainerState.RUNNING:
        return False
    if status.state in (ContainerState.UNKNOWN, ContainerState.CREATED):
        return True
    policy = (pod.spec.restart_policy if pod.spec else None) or "Always"
    if policy == "Never":
        return False
    if policy == "OnFailure" and status.exit_code == 0:
        return False
    return True


def _succeeded(rp: RuntimePod, c: Container) -> bool:
    st = rp.latest(c.name)
    return st is not None and st.state == ContainerState.EXITED and st.exit_code == 0


def sandbox_changed(pod: Pod, rp: RuntimePod) -> tuple[bool, int, str]:
    """(needs a new sandbox, the attempt to create, the current sandbox id)."""
    sb = rp.sandbox
    if sb is None:
        return True, 0, ""
    host_net = bool(pod.spec and pod.spec.host_network)
    if sb.state != SandboxState.READY or (not host_net and not sb.ip):
        return True, sb.attempt + 1, sb.id
    return False, sb.attempt, sb.id


def init_progress(pod: Pod, rp: RuntimePod) -> tuple[bool, str | None, ContainerStatus | None]:
    """(init done, the init container to start next, its last run when that failed).

    Init containers run one at a time, in order, each to success. Once any app container
    has run, initialisation happened in the past (its records may be gone)."""
    assert pod.spec is not None
    if any(rp.latest(c.name) is not None for c in pod.spec.containers):
        return True, None, None
    for c in pod.spec.init_containers or []:
        st = rp.latest(c.name)
        if st is None:
            return False, c.name, None
        if st.state == ContainerState.RUNNING:
            return False, None, None
        if st.state == ContainerState.EXITED and st.exit_code == 0:
            continue
        return False, c.name, st if st.state == ContainerState.EXITED else None
    return True, None, None


def compute_pod_actions(pod: Pod, rp: RuntimePod, unhealthy: dict[str, str] | None = None) -> PodActions:
    """`unhealthy` maps a running container's id to why its liveness/startup probe failed."""
    assert pod.spec is not None
    unhealthy = unhealthy or {}
    policy = pod.spec.restart_policy or "Always"
    create, attempt, sid = sandbox_changed(pod, rp)
    actions = PodActions(create_sandbox=create, sandbox_id=sid, attempt=attempt)
    actions.stop_sandboxes = [s.id for s in rp.old_sandboxes if s.state == SandboxState.READY]
    if create:
        actions.kill_pod = rp.sandbox is not None
        if policy == "Never" and attempt != 0 and rp.containers:
            actions.create_sandbox = False
            return actions
        if pod.spec.init_containers:
            actions.start = [pod.spec.init_containers[0].name]
            return actions
        actions.start = [c.name for c in pod.spec.containers
                         if not (policy == "OnFailure" and _succeeded(rp, c))]
        if not actions.start:
            actions.create_sandbox = False  # nothing would run in it
        return actions
    actions.start_ephemeral = [e.name for e in pod.spec.ephemeral_containers or []
                               if rp.latest(e.name) is None and not pod.metadata.deletion_timestamp]
    if pod.spec.init_containers:
        done, nxt, failed = init_progress(pod, rp)
        if not done:
            if failed is not None and policy == "Never":
                actions.kill_pod = True  # an init container failed: so did the pod
            elif nxt is not None:
                st = rp.latest(nxt)
                if st is not None and st.state == ContainerState.CREATED:
                    actions.kill[st.id] = "never started"
                actions.start = [nxt]
            return actions
    keep = 0
    for c in pod.spec.containers:
        st = rp.latest(c.name)
        if st is None or st.state != ContainerState.RUNNING:
            if st is not None and st.state == ContainerState.CREATED:
                actions.kill[st.id] = "never started"
            if should_restart(pod, st):
                actions.start.append(c.name)
            continue
        reason = ""
        if st.annotations.get(ANN_HASH) not in (None, container_hash(c)):
            reason = f"Container {c.name} definition changed"
        elif st.id in unhealthy:
            reason = unhealthy[st.id]
        if not reason:
            keep += 1
            continue
        actions.kill[st.id] = reason
        if policy != "Never":
            actions.start.append(c.name)
    if not actions.start and keep == 0:
        actions.kill_pod = True
    return actions
