"""The kubelet's Events: Kubernetes' reasons and messages, about pods, containers and the node.

Owns the reason list of Kubernetes' pkg/kubelet/events and the message wording users know
from `kubectl describe` (`Pulling image "x"`, `Created container: c`, `Back-off restarting
failed container c in pod p_ns(uid)`, `Node n status is now: NodeReady`, ...), and
`KubeletEvents`, the one seam the kubelet's parts record through. Container events carry
`involvedObject.fieldPath` (`spec.containers{c}`), node events name the Node with its name
as uid, as the kubelet does. Recording never blocks nor raises (client/events.py's
EventRecorder); `KubeletEvents(None)` records nothing (tests without an apiserver).
"""
from __future__ import annotations

from typing import Any

from api.models import Pod
from client.events import NORMAL, WARNING, EventRecorder

__all__ = ["NORMAL", "WARNING", "KubeletEvents", "container_field_path"]

# containers
CREATED, STARTED, FAILED, KILLING, BACKOFF = "Created", "Started", "Failed", "Killing", "BackOff"
UNHEALTHY = "Unhealthy"
# images
PULLING, PULLED, ERR_IMAGE_NEVER_PULL = "Pulling", "Pulled", "ErrImageNeverPull"
# pods
FAILED_MOUNT, SANDBOX_CHANGED = "FailedMount", "SandboxChanged"
FAILED_CREATE_SANDBOX, NETWORK_NOT_READY = "FailedCreatePodSandBox", "NetworkNotReady"
EVICTED = "Evicted"
# node
STARTING, NODE_READY, NODE_NOT_READY = "Starting", "NodeReady", "NodeNotReady"
EVICTION_THRESHOLD_MET = "EvictionThresholdMet"


def container_field_path(pod: Pod, name: str) -> str:
    """`spec.containers{c}` (or `spec.initContainers{c}`), what describe shows events under."""
    inits = {c.name for c in (pod.spec.init_containers if pod.spec else None) or []}
    return f"spec.initContainers{{{name}}}" if name in inits else f"spec.containers{{{name}}}"


def pod_id(pod: Pod) -> str:
    """Kubernetes' format.Pod: `name_namespace(uid)`."""
    m = pod.metadata
    return f"{m.name}_{m.namespace}({m.uid})"


# ---- messages (as the kubelet words them) -------------------------------------------------
def msg_pulling(image: str) -> str:
    return f'Pulling image "{image}"'


def msg_pulled(image: str, seconds: float, size: int) -> str:
    took = f"{seconds:.3f}s"
    return f'Successfully pulled image "{image}" in {took} ({took} including waiting). Image size: {size} bytes.'


def msg_present(image: str) -> str:
    return f'Container image "{image}" already present on machine'


def msg_pull_failed(image: str, err: str) -> str:
    return f'Failed to pull image "{image}": {err}'


def msg_pull_backoff(image: str) -> str:
    return f'Back-off pulling image "{image}"'


def msg_never_pull(image: str) -> str:
    return f'Container image "{image}" is not present with pull policy of Never'


def msg_backoff_restart(pod: Pod, container: str) -> str:
    return f"Back-off restarting failed container {container} in pod {pod_id(pod)}"


def msg_failed_mount(volume: str, err: str) -> str:
    return f'MountVolume.SetUp failed for volume "{volume}" : {err}'


def msg_node_status(node: str, reason: str) -> str:
    return f"Node {node} status is now: {reason}"


class KubeletEvents:
    """What the kubelet's parts call to tell users about pods, containers and the node."""

    def __init__(self, recorder: EventRecorder | None, node_name: str = "") -> None:
        self.recorder, self.node_name = recorder, node_name

    @classmethod
    def for_node(cls, client: Any, node_name: str, enabled: bool = True) -> KubeletEvents:
        return cls(EventRecorder(client, "kubelet", host=node_name) if enabled else None, node_name)

    def pod(self, pod: Pod, type: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.record(pod, type, reason, message)

    def container(self, pod: Pod, name: str, type: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.record(pod, type, reason, message, field_path=container_field_path(pod, name))

    def node(self, type: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            ref = {"kind": "Node", "apiVersion": "v1", "metadata": {"name": self.node_name, "uid": self.node_name}}
            self.recorder.record(ref, type, reason, message)

    def node_ready(self, ready: bool) -> None:
        reason = NODE_READY if ready else NODE_NOT_READY
        self.node(NORMAL, reason, msg_node_status(self.node_name, reason))

    async def close(self) -> None:
        if self.recorder is not None:
            await self.recorder.close()
