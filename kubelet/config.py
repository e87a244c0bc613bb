"""KubeletConfig: every setting of one kubelet, with Kubernetes' defaults.

Owns the settings (flags of `pykube kubelet`) and the paths they imply under the data
dir (`<data dir>/agent/...`, as k3s lays it out): pod volumes, container logs, the
kubelet's serving certificate, the private containerd's directory and CNI conf dir,
the host-local IPAM state and the air-gap images directory.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from kubelet.backoff import DEFAULT_BASE, DEFAULT_CAP


def default_data_dir() -> Path:
    if env := os.environ.get("PYKUBE_DATA_DIR"):
        return Path(env)
    return Path("/var/lib/pykube") if os.geteuid() == 0 else Path.home() / ".local/share/pykube"


DEFAULT_REGISTRIES = Path("/etc/pykube/registries.yaml")


@dataclass
class KubeletConfig:
    node_name: str
    data_dir: Path = field(default_factory=default_data_dir)
    runtime: str = "cri"                       # cri | fake
    runtime_endpoint: str | None = None        # None: the private containerd (started if needed)
    pod_infra_container_image: str = "local/pause:1"  # the sandbox image; built on the node when missing
    port: int = 10250                          # 0 picks a free port
    bind_address: str = "0.0.0.0"
    pod_cidr: str | None = None                # else wait for spec.podCIDR
    node_ip: str | None = None
    cgroup_parent: str = "/pykube/kubepods"
    max_pods: int = 110
    fake_start_delay: float = 0.0              # hollow nodes: seconds before a container runs
    crashloop_backoff_base: float = DEFAULT_BASE
    crashloop_backoff_cap: float = DEFAULT_CAP
    cni_conf_dir: Path | None = None           # None: the private containerd's, or /etc/cni/net.d
    cni_bridge: str = "cni0"
    cni_network: str = "pykube"
    cluster_dns: list[str] = field(default_factory=list)
    cluster_domain: str = "cluster.local"
    capacity_cpu: str | None = None            # override what the host reports (hollow nodes)
    capacity_memory: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    relist_period: float = 1.0                 # PLEG
    resync_period: float = 60.0                # each pod worker (Kubernetes' --sync-frequency)
    lease_interval: float = 10.0
    status_report_interval: float = 300.0
    housekeeping_period: float = 10.0
    serve_api: bool = True
    import_images: bool = True
    record_events: bool = True
    eviction_hard: str | None = None           # None: eviction.DEFAULT_HARD (cri), none (fake); "": off
    eviction_interval: float = 10.0            # the eviction manager's monitoring interval
    private_registry: Path | None = None       # registries.yaml; None: DEFAULT_REGISTRIES when it exists

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)

    @property
    def agent_dir(self) -> Path:
        return self.data_dir / "agent"

    @property
    def pods_dir(self) -> Path:
        return self.agent_dir / "pods"

    @property
    def log_dir(self) -> Path:
        return self.agent_dir / "logs" / "pods"

    @property
    def pki_dir(self) -> Path:
        return self.agent_dir / "pki"

    @property
    def containerd_dir(self) -> Path:
        return self.agent_dir / "containerd"

    @property
    def registries_file(self) -> Path | None:
        """The registries.yaml this node uses, if any."""
        if self.private_registry is not None:
            return Path(self.private_registry)
        return DEFAULT_REGISTRIES if DEFAULT_REGISTRIES.exists() else None

    @property
    def images_dir(self) -> Path:
        return self.agent_dir / "images"

    @property
    def ipam_dir(self) -> Path:
        return self.agent_dir / "cni" / "ipam"

    @property
    def managed_containerd(self) -> bool:
        return self.runtime == "cri" and self.runtime_endpoint is None

    @property
    def effective_cni_conf_dir(self) -> Path:
        if self.cni_conf_dir is not None:
            return Path(self.cni_conf_dir)
        if self.managed_containerd:
            return self.agent_dir / "etc" / "cni" / "net.d"
        return Path("/etc/cni/net.d")
