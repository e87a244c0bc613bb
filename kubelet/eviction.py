"""Node-pressure eviction: the kubelet's hard thresholds, the node conditions, which pod goes.

Owns Kubernetes' eviction manager for two signals (`--eviction-hard`, default
`memory.available<100Mi,nodefs.available<10%`, as upstream):
- `memory.available` = the node's memory capacity minus its working set (stats/);
- `nodefs.available` = free space of the filesystem holding the data dir (statvfs).
Pure parts: `parse_thresholds`, `thresholds_met`, `rank_for_eviction` (for memory, upstream's
rankMemoryPressure: pods whose usage exceeds their request first, then lower priority, then
usage above request, largest first; for the filesystem, which pykube does not measure per
pod: exceeding nothing, lower priority first, then the youngest pod) and `eviction_message`
(the kubelet's words: "The node was low on resource: memory. Threshold quantity: 100Mi,
available: 50Mi. Container c was using 200Mi, request is 0, has larger consumption of
memory."). The kubelet (kubelet.py) runs `EvictionManager.synchronize` every monitoring
interval: it sets MemoryPressure / DiskPressure on the Node, records EvictionThresholdMet
on the Node, and evicts one pod per interval (killed at once, status Failed/Evicted, an
Evicted event), as a hard threshold does. Hollow nodes evict nothing unless told to.
"""
from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.models import Pod
from api.quantity import format_quantity, memory_bytes
from kubelet.stats.summary import NodeSample

log = logging.getLogger("kubelet.eviction")

MEMORY, NODEFS = "memory.available", "nodefs.available"
SIGNALS = (MEMORY, NODEFS)
RESOURCE = {MEMORY: "memory", NODEFS: "ephemeral-storage"}
PRESSURE = {MEMORY: "MemoryPressure", NODEFS: "DiskPressure"}
DEFAULT_HARD = "memory.available<100Mi,nodefs.available<10%"
EVICTED = "Evicted"


@dataclass(frozen=True)
class Threshold:
    signal: str
    quantity: int | None = None        # bytes
    percentage: float | None = None    # of capacity, 0..1

    def value(self, capacity: int) -> int:
        return self.quantity if self.quantity is not None else int(capacity * (self.percentage or 0))

    def text(self, capacity: int) -> str:
        return format_quantity(self.value(capacity), "BinarySI")


@dataclass(frozen=True)
class Observation:
    available: int
    capacity: int


def parse_thresholds(text: str) -> list[Threshold]:
    """`memory.available<100Mi,nodefs.available<10%` (the flag's syntax); ValueError if bad."""
    out = []
    for term in filter(None, (t.strip() for t in text.split(","))):
        signal, op, value = term.partition("<")
        if not op or signal not in SIGNALS:
            raise ValueError(f"invalid eviction threshold {term!r}: want <signal><<quantity|percentage>, "
                             f"signal one of {', '.join(SIGNALS)}")
        if value.endswith("%"):
            pct = float(value[:-1])
            if not 0 < pct <= 100:
                raise ValueError(f"invalid eviction threshold {term!r}: percentage out of range")
            out.append(Threshold(signal, percentage=pct / 100))
        else:
            out.append(Threshold(signal, quantity=memory_bytes(value)))
    return out


def thresholds_met(thresholds: list[Threshold], observed: dict[str, Observation]) -> list[Threshold]:
    return [t for t in thresholds if (o := observed.get(t.signal)) is not None and o.available < t.value(o.capacity)]


def _memory_request(pod: Pod) -> int:
    total = 0
    for c in (pod.spec.containers if pod.spec else None) or []:
        req = (c.resources.requests if c.resources else None) or {}
        if "memory" in req:
            total += memory_bytes(req["memory"])
    return total


def _priority(pod: Pod) -> int:
    return int(pod.spec.priority or 0) if pod.spec else 0


def rank_for_eviction(signal: str, pods: list[Pod], usage: dict[str, int]) -> list[Pod]:
    """Pods in the order the kubelet evicts them; `usage` is each pod's working set by uid."""
    if signal == MEMORY:
        def key(p: Pod) -> tuple[int, int, int]:
            over = usage.get(p.metadata.uid or "", 0) - _memory_request(p)
            return (0 if over > 0 else 1, _priority(p), -over)
        return sorted(pods, key=key)
    return sorted(pods, key=lambda p: (_priority(p), -_started(p)))


def _started(p: Pod) -> float:
    from datetime import datetime
    text = (p.status.start_time if p.status else None) or p.metadata.creation_timestamp or ""
    try:
        return datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ").timestamp()
    except ValueError:
        return 0.0


def eviction_message(t: Threshold, o: Observation, pod: Pod, container_usage: dict[str, int]) -> str:
    resource = RESOURCE[t.signal]
    msg = (f"The node was low on resource: {resource}. Threshold quantity: {t.text(o.capacity)}, "
           f"available: {format_quantity(max(0, o.available) // 1024 * 1024, 'BinarySI')}. ")
    if t.signal == MEMORY:
        for c in (pod.spec.containers if pod.spec else None) or []:
            used = container_usage.get(c.name)
            if used is None:
                continue
            req = ((c.resources.requests if c.resources else None) or {}).get("memory", "0")
            if used > memory_bytes(req):
                msg += (f"Container {c.name} was using {format_quantity(used // 1024 * 1024, 'BinarySI')}, "
                        f"request is {req}, has larger consumption of {resource}. ")
    return msg.rstrip()


def observe(sample: NodeSample, data_dir: Path) -> dict[str, Observation]:
    out: dict[str, Observation] = {}
    mem = sample.usage.memory
    if mem is not None and sample.memory_capacity:
        out[MEMORY] = Observation(sample.memory_capacity - mem.working_set_bytes, sample.memory_capacity)
    try:
        st = os.statvfs(data_dir)
        out[NODEFS] = Observation(st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize)
    except OSError:
        pass
    return out


@dataclass
class Decision:
    pressure: set[str]                                 # node conditions now True
    met: list[tuple[Threshold, Observation]]
    victim: Pod | None = None
    message: str = ""


class EvictionManager:
    """Decides, from one stats sample, the node's pressure and the pod to evict (if any)."""

    def __init__(self, thresholds: list[Threshold], data_dir: Path,
                 observe_fn: Callable[[NodeSample, Path], dict[str, Observation]] = observe) -> None:
        self.thresholds, self.data_dir, self.observe = thresholds, data_dir, observe_fn
        self.pressure: set[str] = set()

    def synchronize(self, sample: NodeSample, pods: list[Pod]) -> Decision:
        observed = self.observe(sample, self.data_dir)
        met = [(t, observed[t.signal]) for t in thresholds_met(self.thresholds, observed)]
        self.pressure = {PRESSURE[t.signal] for t, _ in met}
        decision = Decision(set(self.pressure), met)
        if not met or not pods:
            return decision
        t, o = met[0]
        pod_usage: dict[str, int] = {}
        container_usage: dict[str, dict[str, int]] = {}
        for p in sample.pods:
            if p.usage is not None and p.usage.memory is not None:
                pod_usage[p.uid] = p.usage.memory.working_set_bytes
            container_usage[p.uid] = {c.name: c.usage.memory.working_set_bytes
                                      for c in p.containers if c.usage.memory is not None}
        victim = rank_for_eviction(t.signal, pods, pod_usage)[0]
        decision.victim = victim
        decision.message = eviction_message(t, o, victim, container_usage.get(victim.metadata.uid or "", {}))
        return decision

    async def run(self, interval: float, sample: Callable[[], Awaitable[NodeSample]],
                  active_pods: Callable[[], list[Pod]], evict: Callable[[Pod, str], None],
                  node_event: Callable[[str, str, str], None], pressure_changed: Callable[[], None]) -> None:
        """Every `interval`: observe, report pressure, evict at most one pod (the I/O is the caller's)."""
        while True:
            await asyncio.sleep(interval)
            before = set(self.pressure)
            try:
                d = self.synchronize(await sample(), active_pods())
            except Exception as e:  # noqa: BLE001 - the next interval tries again
                log.warning("eviction manager: %s", e)
                continue
            if d.pressure != before:
                pressure_changed()
            for t, _ in d.met:
                node_event("Warning", "EvictionThresholdMet", f"Attempting to reclaim {RESOURCE[t.signal]}")
            if d.victim is not None:
                log.warning("evicting pod %s: %s", d.victim.key, d.message)
                evict(d.victim, d.message)


def evicted_status(status: dict[str, Any], message: str, now: str) -> dict[str, Any]:
    """The pod status an evicted pod gets: Failed, reason Evicted, a DisruptionTarget condition."""
    out = dict(status)
    out.update(phase="Failed", reason="Evicted", message=message)
    conds = [c for c in out.get("conditions") or [] if c.get("type") != "DisruptionTarget"]
    conds.append({"type": "DisruptionTarget", "status": "True", "lastTransitionTime": now,
                  "reason": "TerminationByKubelet", "message": message})
    out["conditions"] = conds
    return out


def is_evicted(pod: Pod) -> bool:
    return bool(pod.status and pod.status.phase == "Failed" and pod.status.reason == "Evicted")
