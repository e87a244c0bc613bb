"""Pod spec → runtime configs: the SandboxConfig and ContainerConfig the kubelet asks for.

Owns the pure translation Kubernetes does in kuberuntime_sandbox.go and
kuberuntime_container.go: hostname, log directory (`<logs>/<ns>_<name>_<uid>`, container
logs at `<name>/<restartCount>.log`), DNS (cluster DNS when configured, else the host's
resolv.conf, which is what containerd uses when none is given), host ports, the pod's
cgroup parent (`<cgroup parent>/pod<uid>`), Linux resources from requests and limits
(cpu shares, CFS quota, memory limit), security context bits, and the kubelet's
annotations on each container (spec hash, restart count, grace period).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from api.models.core import Container, Pod
from api.quantity import cpu_millis, memory_bytes
from kubelet.runtime.interface import (ContainerConfig, DNSConfig, Mount, PortMapping, Resources,
                                       SandboxConfig)
from kubelet.runtime_pod import ANN_GRACE, ANN_HASH, ANN_RESTART_COUNT, container_hash

CPU_PERIOD = 100_000
MIN_SHARES = 2


@dataclass
class NodeContext:
    """Node-wide settings the configs depend on."""

    log_root: Path
    cgroup_parent: str = "/pykube/kubepods"
    cluster_dns: list[str] | None = None
    cluster_domain: str = "cluster.local"


def pod_log_dir(log_root: Path, pod: Pod) -> Path:
    m = pod.metadata
    return log_root / f"{m.namespace}_{m.name}_{m.uid}"


def pod_cgroup(parent: str, uid: str) -> str:
    return f"{parent.rstrip('/')}/pod{uid}" if parent else ""


def dns_config(pod: Pod, node: NodeContext) -> DNSConfig | None:
    spec = pod.spec
    assert spec is not None
    policy = spec.dns_policy or "ClusterFirst"
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    if policy in ("ClusterFirst", "ClusterFirstWithHostNet") and node.cluster_dns and \
            (policy == "ClusterFirstWithHostNet" or not spec.host_network):
        ns = pod.metadata.namespace or "default"
        d = node.cluster_domain
        servers = list(node.cluster_dns)
        searches = [f"{ns}.svc.{d}", f"svc.{d}", d]
        options = ["ndots:5"]
    cfg = spec.dns_config
    if cfg is not None:
        servers += cfg.nameservers or []
        searches += cfg.searches or []
        options += [f"{o['name']}:{o['value']}" if o.get("value") else o["name"] for o in cfg.options or []]
    if not (servers or searches or options):
        return None  # containerd copies the host's resolv.conf
    return DNSConfig(servers=servers, searches=searches, options=options)


def sandbox_config(pod: Pod, node: NodeContext, attempt: int) -> SandboxConfig:
    spec, meta = pod.spec, pod.metadata
    assert spec is not None
    ports = [PortMapping(container_port=p.container_port, host_port=p.host_port or 0,
                         protocol=(p.protocol or "TCP").upper(), host_ip=p.host_ip or "")
             for c in spec.containers for p in c.ports or [] if p.host_port]
    sc = spec.security_context or {}
    return SandboxConfig(
        name=meta.name or "", namespace=meta.namespace or "default", uid=meta.uid or "",
        attempt=attempt, hostname=(spec.hostname or meta.name or "")[:63],
        log_directory=str(pod_log_dir(node.log_root, pod)), dns=dns_config(pod, node),
        port_mappings=ports, labels=dict(meta.labels or {}),
        annotations=dict(meta.annotations or {}),
        cgroup_parent=pod_cgroup(node.cgroup_parent, meta.uid or ""),
        host_network=bool(spec.host_network), host_pid=bool(spec.host_pid), host_ipc=bool(spec.host_ipc),
        sysctls={s["name"]: str(s["value"]) for s in sc.get("sysctls") or [] if "name" in s},
    )


def linux_resources(c: Container) -> Resources | None:
    res = c.resources
    if res is None:
        return None
    limits, requests = res.limits or {}, res.requests or {}
    cpu_req = requests.get("cpu", limits.get("cpu"))
    out = Resources()
    if cpu_req is not None:
        out.cpu_shares = max(MIN_SHARES, math.floor(cpu_millis(cpu_req) * 1024 / 1000))
    if "cpu" in limits:
        out.cpu_period = CPU_PERIOD
        out.cpu_quota = max(1000, cpu_millis(limits["cpu"]) * CPU_PERIOD // 1000)
    if "memory" in limits:
        out.memory_limit_in_bytes = memory_bytes(limits["memory"])
    return out


def container_config(pod: Pod, c: Container, restart_count: int, command: list[str], args: list[str],
                     env: dict[str, str], mounts: list[Mount]) -> ContainerConfig:
    spec = pod.spec
    assert spec is not None
    sc = c.security_context or {}
    psc = spec.security_context or {}
    caps = sc.get("capabilities") or {}
    run_as_user = sc.get("runAsUser", psc.get("runAsUser"))
    run_as_group = sc.get("runAsGroup", psc.get("runAsGroup"))
    return ContainerConfig(
        name=c.name, image=c.image or "", command=command, args=args,
        working_dir=c.working_dir or "", envs=env, mounts=mounts,
        annotations={ANN_HASH: container_hash(c), ANN_RESTART_COUNT: str(restart_count),
                     ANN_GRACE: str(spec.termination_grace_period_seconds or 30)},
        log_path=f"{c.name}/{restart_count}.log", attempt=restart_count,
        resources=linux_resources(c), privileged=bool(sc.get("privileged")),
        run_as_user=int(run_as_user) if run_as_user is not None else None,
        run_as_group=int(run_as_group) if run_as_group is not None else None,
        readonly_rootfs=bool(sc.get("readOnlyRootFilesystem")),
        add_capabilities=list(caps.get("add") or []), drop_capabilities=list(caps.get("drop") or []),
        tty=bool(c.tty), stdin=bool(c.stdin), stdin_once=bool(c.stdin_once),
    )
