"""The kubelet's stats documents, from one sample: `/stats/summary` and `/metrics/resource` (pure).

Owns the sample model (`NodeSample`: the node's usage and, per pod, the pod cgroup's and each
running container's cumulative CPU and memory, with start times) and its two renderings:
- `summary(sample)`: the Summary API (stats/v1alpha1) as the kubelet serves it, with
  `usageNanoCores` where a previous reading gives a rate (`rates` is filled by the provider);
- `resource_metrics(sample)`: the Prometheus text of `/metrics/resource`, what metrics-server
  scrapes: `node_cpu_usage_seconds_total`, `node_memory_working_set_bytes`,
  `pod_*` and `container_*` of the same two, `container_start_time_seconds` and
  `resource_scrape_error`, each sample with its millisecond timestamp.
`nano_cores(prev, cur)` is the one rate formula both the kubelet and the metrics API use.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kubelet.stats.cgroups import Usage


@dataclass
class ContainerSample:
    name: str
    start_time: datetime
    usage: Usage


@dataclass
class PodSample:
    namespace: str
    name: str
    uid: str
    start_time: datetime
    usage: Usage | None                                   # the pod cgroup (sandbox included)
    containers: list[ContainerSample] = field(default_factory=list)


@dataclass
class NodeSample:
    node_name: str
    at: datetime
    boot_time: datetime
    usage: Usage
    memory_capacity: int
    pods: list[PodSample] = field(default_factory=list)
    rates: dict[str, int] = field(default_factory=dict)   # "node", "<uid>", "<uid>/<container>" -> nanocores


def nano_cores(prev: tuple[float, int] | None, cur: tuple[float, int]) -> int | None:
    """CPU rate in nanocores between two (seconds, cumulative ns) readings; None without one."""
    if prev is None or cur[0] <= prev[0] or cur[1] < prev[1]:
        return None
    return int((cur[1] - prev[1]) / (cur[0] - prev[0]))


def _ts(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cpu(at: datetime, usage: Usage, rate: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"time": _ts(at), "usageCoreNanoSeconds": usage.cpu_ns}
    if rate is not None:
        out["usageNanoCores"] = rate
    return out


def _memory(at: datetime, usage: Usage, capacity: int | None = None) -> dict[str, Any]:
    m = usage.memory
    if m is None:
        return {"time": _ts(at)}
    out: dict[str, Any] = {"time": _ts(at), "usageBytes": m.usage_bytes, "workingSetBytes": m.working_set_bytes,
                           "rssBytes": m.rss_bytes, "pageFaults": m.page_faults,
                           "majorPageFaults": m.major_page_faults}
    if capacity:
        out["availableBytes"] = max(0, capacity - m.working_set_bytes)
    return out


def summary(s: NodeSample) -> dict[str, Any]:
    pods = []
    for p in s.pods:
        containers = [{"name": c.name, "startTime": _ts(c.start_time),
                       "cpu": _cpu(s.at, c.usage, s.rates.get(f"{p.uid}/{c.name}")),
                       "memory": _memory(s.at, c.usage)} for c in p.containers]
        entry: dict[str, Any] = {"podRef": {"name": p.name, "namespace": p.namespace, "uid": p.uid},
                                 "startTime": _ts(p.start_time), "containers": containers}
        if p.usage is not None:
            entry["cpu"] = _cpu(s.at, p.usage, s.rates.get(p.uid))
            entry["memory"] = _memory(s.at, p.usage)
        pods.append(entry)
    node = {"nodeName": s.node_name, "systemContainers": [], "startTime": _ts(s.boot_time),
            "cpu": _cpu(s.at, s.usage, s.rates.get("node")),
            "memory": _memory(s.at, s.usage, s.memory_capacity)}
    return {"node": node, "pods": pods}


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _num(x: float) -> str:
    return repr(float(x)) if isinstance(x, float) else str(x)


_HELP = {
    "container_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed by the container in core-seconds"),
    "container_memory_working_set_bytes": ("gauge", "Current working set of the container in bytes"),
    "container_start_time_seconds": ("gauge", "Start time of the container since unix epoch in seconds"),
    "node_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed by the node in core-seconds"),
    "node_memory_working_set_bytes": ("gauge", "Current working set of the node in bytes"),
    "pod_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed by the pod in core-seconds"),
    "pod_memory_working_set_bytes": ("gauge", "Current working set of the pod in bytes"),
    "resource_scrape_error": ("gauge", "1 if there was an error while getting container metrics, 0 otherwise"),
}


def resource_metrics(s: NodeSample, scrape_error: bool = False) -> str:
    ms = int(s.at.timestamp() * 1000)
    series: dict[str, list[str]] = {name: [] for name in _HELP}

    def add(name: str, labels: dict[str, str], value: float) -> None:
        lab = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
        series[name].append(f"{name}{{{lab}}} {_num(value)} {ms}" if lab else f"{name} {_num(value)} {ms}")

    for p in s.pods:
        for c in p.containers:
            labels = {"container": c.name, "namespace": p.namespace, "pod": p.name}
            add("container_cpu_usage_seconds_total", labels, c.usage.cpu_ns / 1e9)
            if c.usage.memory is not None:
                add("container_memory_working_set_bytes", labels, c.usage.memory.working_set_bytes)
            add("container_start_time_seconds", labels, c.start_time.timestamp())
        if p.usage is not None:
            labels = {"namespace": p.namespace, "pod": p.name}
            add("pod_cpu_usage_seconds_total", labels, p.usage.cpu_ns / 1e9)
            if p.usage.memory is not None:
                add("pod_memory_working_set_bytes", labels, p.usage.memory.working_set_bytes)
    add("node_cpu_usage_seconds_total", {}, s.usage.cpu_ns / 1e9)
    if s.usage.memory is not None:
        add("node_memory_working_set_bytes", {}, s.usage.memory.working_set_bytes)
    lines = []
    for name, (kind, text) in _HELP.items():
        lines += [f"# HELP {name} [STABLE] {text}", f"# TYPE {name} {kind}"]
        if name == "resource_scrape_error":
            lines.append(f"resource_scrape_error {1 if scrape_error else 0}")
        else:
            lines += series[name]
    return "\n".join(lines) + "\n"
