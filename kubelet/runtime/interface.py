"""The Runtime protocol the kubelet is written against, and its value types.

CRI-shaped (sandboxes hold containers; images are pulled by reference) but pythonic:
dataclasses instead of protobuf messages, ``datetime`` instead of nanoseconds, Python
exceptions instead of gRPC status codes. Two implementations honour the same contract
(tests/integration/runtime/test_contract.py): ``cri.CRIRuntime`` over containerd and
``fake.FakeRuntime`` for hollow nodes.

Contract highlights (what both runtimes do):
- Unknown ids: ``*_status``, ``start_container``, ``stop_container``, ``exec_sync`` and
  the streaming calls (``exec``, ``attach``, ``port_forward``) raise ``NotFoundError``; ``remove_*`` and ``stop_pod_sandbox`` are idempotent and
  quiet about ids that are already gone.
- Every sandbox and container carries the kubelet's identity labels (``LABEL_POD_*``,
  ``LABEL_CONTAINER_NAME``), added by the runtime from the metadata, so a restarted
  kubelet finds its pods again with ``list_pod_sandboxes(labels=...)``.
- A stopped container is ``EXITED`` with ``finished_at`` set and a non-zero exit code
  (137/143 when it was killed); ``reason`` is ``Completed`` for exit 0, else ``Error``.
- Stopping a sandbox stops its containers and releases its IP; removing it removes them.
- ``image_status`` returns ``None`` for an absent image; references are normalised as
  CRI does (``busybox`` is ``docker.io/library/busybox:latest``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

LABEL_POD_NAME = "io.kubernetes.pod.name"
LABEL_POD_NAMESPACE = "io.kubernetes.pod.namespace"
LABEL_POD_UID = "io.kubernetes.pod.uid"
LABEL_CONTAINER_NAME = "io.kubernetes.container.name"



@dataclass(frozen=True)
class PullAuth:
    """Registry credentials for one pull (CRI AuthConfig's username and password)."""
    username: str
    password: str

    def __repr__(self) -> str:  # never the password in a log line
        return f"PullAuth(username={self.username!r})"

class RuntimeServiceError(Exception):
    """A runtime call failed (the CRI runtime's message is kept)."""


class NotFoundError(RuntimeServiceError):
    """The sandbox, container or image named does not exist."""


class StreamingUnsupported(RuntimeServiceError):
    """This runtime has no streaming server (exec, attach, port-forward); ExecSync only."""


class ContainerState(enum.Enum):
    CREATED = "CREATED"
    RUNNING = "RUNNING"
    EXITED = "EXITED"
    UNKNOWN = "UNKNOWN"


class SandboxState(enum.Enum):
    READY = "READY"
    NOTREADY = "NOTREADY"


# ---- inputs -----------------------------------------------------------------------


@dataclass(frozen=True)
class PortMapping:
    container_port: int
    host_port: int = 0
    protocol: str = "TCP"  # TCP, UDP or SCTP
    host_ip: str = ""


@dataclass(frozen=True)
class DNSConfig:
    servers: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)


@dataclass
class SandboxConfig:
    """What RunPodSandbox needs: the pod's identity, hostname, logs, DNS, network."""

    name: str
    namespace: str
    uid: str
    attempt: int = 0
    hostname: str = ""
    log_directory: str = ""
    dns: DNSConfig | None = None
    port_mappings: list[PortMapping] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    cgroup_parent: str = ""
    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False
    privileged: bool = False
    sysctls: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Mount:
    container_path: str
    host_path: str
    readonly: bool = False
    propagation: str = "private"  # private, host-to-container, bidirectional


@dataclass
class Resources:
    """Linux resources (0 means "not set"), as the kubelet computes them from the spec."""

    cpu_period: int = 0
    cpu_quota: int = 0
    cpu_shares: int = 0
    memory_limit_in_bytes: int = 0
    oom_score_adj: int = 0


@dataclass
class ContainerConfig:
    name: str
    image: str
    command: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    working_dir: str = ""
    envs: dict[str, str] = field(default_factory=dict)
    mounts: list[Mount] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    log_path: str = ""  # relative to SandboxConfig.log_directory
    attempt: int = 0
    resources: Resources | None = None
    privileged: bool = False
    run_as_user: int | None = None
    run_as_group: int | None = None
    readonly_rootfs: bool = False
    add_capabilities: list[str] = field(default_factory=list)
    drop_capabilities: list[str] = field(default_factory=list)
    tty: bool = False
    stdin: bool = False
    stdin_once: bool = False
    pid_target_id: str = ""     # share this container's PID namespace (NamespaceMode TARGET)


@dataclass(frozen=True)
class StreamOptions:
    """Which of a remote command's streams the client wants (exec and attach)."""

    stdin: bool = False
    stdout: bool = True
    stderr: bool = True
    tty: bool = False


# ---- outputs ----------------------------------------------------------------------


@dataclass(frozen=True)
class VersionInfo:
    runtime_name: str
    runtime_version: str
    runtime_api_version: str


@dataclass(frozen=True)
class RuntimeCondition:
    type: str  # RuntimeReady, NetworkReady
    status: bool
    reason: str = ""
    message: str = ""


@dataclass
class PodSandbox:
    """One entry of ``list_pod_sandboxes`` (no network: ask ``pod_sandbox_status``)."""

    id: str
    name: str
    namespace: str
    uid: str
    attempt: int
    state: SandboxState
    created_at: datetime
    labels: dict[str, str]
    annotations: dict[str, str]


@dataclass
class SandboxStatus(PodSandbox):
    ip: str = ""  # "" for host-network or stopped sandboxes
    additional_ips: list[str] = field(default_factory=list)


@dataclass
class Container:
    """One entry of ``list_containers``."""

    id: str
    sandbox_id: str
    name: str
    attempt: int
    image: str
    image_ref: str
    state: ContainerState
    created_at: datetime
    labels: dict[str, str]
    annotations: dict[str, str]


@dataclass
class ContainerStatus:
    id: str
    name: str
    attempt: int
    state: ContainerState
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    exit_code: int
    image: str
    image_ref: str
    reason: str
    message: str
    log_path: str  # the full path on the host ("" when no log was asked for)
    labels: dict[str, str]
    annotations: dict[str, str]


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    stdout: bytes = b""
    stderr: bytes = b""


@dataclass(frozen=True)
class ImageInfo:
    id: str
    repo_tags: list[str]
    repo_digests: list[str]
    size: int


# ---- the protocol -----------------------------------------------------------------


@runtime_checkable
class Runtime(Protocol):
    async def version(self) -> VersionInfo: ...

    async def status(self) -> list[RuntimeCondition]: ...

    async def close(self) -> None: ...

    # sandboxes
    async def run_pod_sandbox(self, config: SandboxConfig) -> str: ...

    async def stop_pod_sandbox(self, sandbox_id: str) -> None: ...

    async def remove_pod_sandbox(self, sandbox_id: str) -> None: ...

    async def pod_sandbox_status(self, sandbox_id: str) -> SandboxStatus: ...

    async def list_pod_sandboxes(
        self, labels: dict[str, str] | None = None, state: SandboxState | None = None
    ) -> list[PodSandbox]: ...

    # containers
    async def create_container(
        self, sandbox_id: str, config: ContainerConfig, sandbox_config: SandboxConfig
    ) -> str: ...

    async def start_container(self, container_id: str) -> None: ...

    async def stop_container(self, container_id: str, timeout: int = 0) -> None: ...

    async def remove_container(self, container_id: str) -> None: ...

    async def list_containers(
        self,
        sandbox_id: str | None = None,
        labels: dict[str, str] | None = None,
        state: ContainerState | None = None,
    ) -> list[Container]: ...

    async def container_status(self, container_id: str) -> ContainerStatus: ...

    async def update_container_resources(self, container_id: str, resources: Resources) -> None: ...

    async def exec_sync(self, container_id: str, cmd: list[str], timeout: int = 10) -> ExecResult: ...

    # streaming: each returns a single-use URL on the runtime's streaming server
    async def exec(self, container_id: str, cmd: list[str], opts: StreamOptions) -> str: ...

    async def attach(self, container_id: str, opts: StreamOptions) -> str: ...

    async def port_forward(self, sandbox_id: str, ports: list[int]) -> str: ...

    # images
    async def image_status(self, image: str) -> ImageInfo | None: ...

    async def pull_image(self, image: str, auth: PullAuth | None = None) -> str: ...

    async def list_images(self) -> list[ImageInfo]: ...

    async def remove_image(self, image: str) -> None: ...


# ---- pure helpers both runtimes share ---------------------------------------------


def sandbox_labels(config: SandboxConfig) -> dict[str, str]:
    """The sandbox's labels plus the kubelet's pod identity labels."""
    return {
        **config.labels,
        LABEL_POD_NAME: config.name,
        LABEL_POD_NAMESPACE: config.namespace,
        LABEL_POD_UID: config.uid,
    }


def container_labels(config: ContainerConfig, sandbox: SandboxConfig) -> dict[str, str]:
    """The container's labels plus pod identity and container name labels."""
    return {
        **config.labels,
        LABEL_POD_NAME: sandbox.name,
        LABEL_POD_NAMESPACE: sandbox.namespace,
        LABEL_POD_UID: sandbox.uid,
        LABEL_CONTAINER_NAME: config.name,
    }


def labels_match(labels: dict[str, str], selector: dict[str, str] | None) -> bool:
    """CRI label selectors are ANDed equality matches."""
    return not selector or all(labels.get(k) == v for k, v in selector.items())


def exit_reason(exit_code: int) -> str:
    """containerd's reason for an exited container (OOMKilled needs the cgroup)."""
    return "Completed" if exit_code == 0 else "Error"


def normalize_image(ref: str) -> str:
    """Normalise an image reference as containerd's CRI does (docker reference rules).

    ``busybox`` → ``docker.io/library/busybox:latest``; ``local/pause:1`` →
    ``docker.io/local/pause:1``; a first component with a dot, a colon or equal to
    ``localhost`` is a registry host and is kept; digests are kept.
    """
    name, digest = ref, ""
    if "@" in ref:
        name, digest = ref.split("@", 1)
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, rest
    else:
        domain, path = "docker.io", name
    if domain == "docker.io" and "/" not in path:
        path = f"library/{path}"
    last = path.rsplit("/", 1)[-1]
    if not digest and ":" not in last:
        path = f"{path}:latest"
    out = f"{domain}/{path}"
    return f"{out}@{digest}" if digest else out
