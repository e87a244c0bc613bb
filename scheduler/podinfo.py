"""`PodInfo`: the scheduler's light, read-only view of one pod, built once per pod version.

Owns turning a pod's wire dict into the few facts scheduling needs, parsed once so the
per-node hot loop never touches quantities or nested dicts: resource requests (cpu in
millicores, memory in bytes, as Kubernetes' computePodResourceRequest: the sum over
containers, at least the largest init container, plus overhead), the "non-zero" requests
used for scoring (100m cpu / 200Mi memory for a container that requests nothing), host
ports, tolerations, nodeSelector, node affinity, the controller owner, priority.

Invariants: a `PodInfo` is never mutated after `pod_info()` built it; `obj` is the
informer's dict (shared, never mutated either).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from api.quantity import cpu_millis, memory_bytes

DEFAULT_SCHEDULER = "default-scheduler"
DEFAULT_MILLI_CPU_REQUEST = 100                 # Kubernetes' schedutil.DefaultMilliCPURequest
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024      # schedutil.DefaultMemoryRequest


class Toleration(NamedTuple):
    key: str
    operator: str      # "Equal" or "Exists"
    value: str
    effect: str        # "" matches every effect


class HostPort(NamedTuple):
    ip: str            # "0.0.0.0" when unset
    protocol: str      # "TCP" when unset
    port: int


class SelectorRequirement(NamedTuple):
    key: str
    operator: str      # In, NotIn, Exists, DoesNotExist, Gt, Lt
    values: tuple[str, ...]


class NodeSelectorTerm(NamedTuple):
    match_expressions: tuple[SelectorRequirement, ...]
    match_fields: tuple[SelectorRequirement, ...]


class PreferredTerm(NamedTuple):
    weight: int
    term: NodeSelectorTerm


@dataclass(frozen=True, slots=True)
class PodInfo:
    key: str                                  # namespace/name
    name: str
    namespace: str
    uid: str
    obj: dict[str, Any]                       # the informer's object (read-only)
    node_name: str = ""
    scheduler_name: str = DEFAULT_SCHEDULER
    priority: int = 0
    phase: str = ""
    deleting: bool = False
    cpu: int = 0                              # requested millicores
    memory: int = 0                           # requested bytes
    non_zero_cpu: int = DEFAULT_MILLI_CPU_REQUEST
    non_zero_memory: int = DEFAULT_MEMORY_REQUEST
    host_ports: tuple[HostPort, ...] = ()
    tolerations: tuple[Toleration, ...] = ()
    node_selector: dict[str, str] = field(default_factory=dict)
    required_terms: tuple[NodeSelectorTerm, ...] | None = None   # None: no required affinity
    preferred_terms: tuple[PreferredTerm, ...] = ()
    owner_uid: str = ""                       # the controller ownerReference's uid
    labels: dict[str, str] = field(default_factory=dict)
    gated: bool = False                       # spec.schedulingGates is not empty

    @property
    def terminated(self) -> bool:
        return self.phase in ("Succeeded", "Failed")

    @property
    def owner_key(self) -> str:
        """What the spreading score groups by: the controller, within a namespace."""
        return f"{self.namespace}/{self.owner_uid}" if self.owner_uid else ""


def pod_info(obj: dict[str, Any]) -> PodInfo:
    """Parse a pod's wire dict into a `PodInfo`. Bad quantities count as zero."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    ns = meta.get("namespace") or "default"
    name = meta.get("name") or ""
    cpu, mem, nz_cpu, nz_mem = _requests(spec)
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity")) or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    return PodInfo(
        key=f"{ns}/{name}", name=name, namespace=ns, uid=meta.get("uid") or "", obj=obj,
        node_name=spec.get("nodeName") or "",
        scheduler_name=spec.get("schedulerName") or DEFAULT_SCHEDULER,
        priority=int(spec.get("priority") or 0), phase=status.get("phase") or "",
        deleting=bool(meta.get("deletionTimestamp")),
        cpu=cpu, memory=mem, non_zero_cpu=nz_cpu, non_zero_memory=nz_mem,
        host_ports=_host_ports(spec), tolerations=_tolerations(spec),
        node_selector=dict(spec.get("nodeSelector") or {}),
        required_terms=None if required is None else tuple(
            _term(t) for t in required.get("nodeSelectorTerms") or []),
        preferred_terms=tuple(
            PreferredTerm(int(p.get("weight") or 0), _term(p.get("preference") or {}))
            for p in affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []),
        owner_uid=_controller_uid(meta), labels=dict(meta.get("labels") or {}),
        gated=bool(spec.get("schedulingGates")))


def _quantity(resources: dict[str, Any], name: str, conv: Any) -> int | None:
    requests = resources.get("requests") or {}
    value = requests.get(name)
    if value is None:
        value = (resources.get("limits") or {}).get(name)   # defaulting copies limits
    if value is None:
        return None
    try:
        return int(conv(value))
    except (ValueError, ArithmeticError):
        return 0


def _container_requests(c: dict[str, Any]) -> tuple[int, int, int, int]:
    res = c.get("resources") or {}
    c_cpu, c_mem = _quantity(res, "cpu", cpu_millis), _quantity(res, "memory", memory_bytes)
    return (c_cpu or 0, c_mem or 0, DEFAULT_MILLI_CPU_REQUEST if c_cpu is None else c_cpu,
            DEFAULT_MEMORY_REQUEST if c_mem is None else c_mem)


def _add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(x + y for x, y in zip(a, b))


def _requests(spec: dict[str, Any]) -> tuple[int, int, int, int]:
    """kube's resourcehelper.PodRequests, as (cpu, memory, non-zero cpu, non-zero memory):
    the containers' sum plus the sidecars', at least what any init container needs beside
    the sidecars started before it; pod-level requests (`spec.resources`) replace the
    aggregate for cpu and memory; then the overhead."""
    total: tuple[int, ...] = (0, 0, 0, 0)
    for c in spec.get("containers") or []:
        total = _add(total, _container_requests(c))
    sidecars: tuple[int, ...] = (0, 0, 0, 0)
    init_max: tuple[int, ...] = (0, 0, 0, 0)
    for c in spec.get("initContainers") or []:
        req = _container_requests(c)
        if c.get("restartPolicy") == "Always":
            total, sidecars = _add(total, req), _add(sidecars, req)
            need = sidecars
        else:
            need = _add(req, sidecars)
        init_max = tuple(max(x, y) for x, y in zip(init_max, need))
    cpu, mem, nz_cpu, nz_mem = (max(x, y) for x, y in zip(total, init_max))
    pod_level = (spec.get("resources") or {}).get("requests") or {}
    if pod_level.get("cpu") is not None:
        cpu = nz_cpu = _quantity({"requests": pod_level}, "cpu", cpu_millis) or 0
    if pod_level.get("memory") is not None:
        mem = nz_mem = _quantity({"requests": pod_level}, "memory", memory_bytes) or 0
    overhead = spec.get("overhead") or {}
    if overhead:
        extra_cpu = _quantity({"requests": overhead}, "cpu", cpu_millis) or 0
        extra_mem = _quantity({"requests": overhead}, "memory", memory_bytes) or 0
        cpu, mem, nz_cpu, nz_mem = cpu + extra_cpu, mem + extra_mem, nz_cpu + extra_cpu, nz_mem + extra_mem
    return cpu, mem, nz_cpu, nz_mem


def _host_ports(spec: dict[str, Any]) -> tuple[HostPort, ...]:
    ports = []
    for c in spec.get("containers") or []:
        for p in c.get("ports") or []:
            hp = p.get("hostPort")
            if hp:
                ports.append(HostPort(p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP",
                                      int(hp)))
    return tuple(ports)


def _tolerations(spec: dict[str, Any]) -> tuple[Toleration, ...]:
    return tuple(Toleration(t.get("key") or "", t.get("operator") or "Equal",
                            t.get("value") or "", t.get("effect") or "")
                 for t in spec.get("tolerations") or [])


def _requirement(r: dict[str, Any]) -> SelectorRequirement:
    return SelectorRequirement(r.get("key") or "", r.get("operator") or "",
                               tuple(str(v) for v in r.get("values") or []))


def _term(t: dict[str, Any]) -> NodeSelectorTerm:
    return NodeSelectorTerm(tuple(_requirement(r) for r in t.get("matchExpressions") or []),
                            tuple(_requirement(r) for r in t.get("matchFields") or []))


def _controller_uid(meta: dict[str, Any]) -> str:
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid") or "")
    return ""
