"""What the metrics API serves, computed from kubelet scrapes as metrics-server does (pure).

Owns:
- `parse_resource_metrics(text)`: a kubelet's `/metrics/resource` (Prometheus text) as
  points: the node's and each container's cumulative CPU core-seconds and working-set
  memory, with the sample's timestamp and the container's start time;
- `MetricsStore`: for each node and container the last two points of consecutive scrapes;
  CPU usage is the rate between them (for a container seen once, between its start and
  the point, when it started after the previous scrape, as metrics-server does); a
  container that restarted (another start time) starts over; a node's scrape replaces
  everything known of its pods, so pods gone are gone;
- `node_metrics` / `pod_metrics`: `metrics.k8s.io/v1beta1` NodeMetrics and PodMetrics
  (`usage.cpu` in nanocores, `usage.memory` in bytes, canonical quantities; `timestamp`,
  `window`), None while no rate is known yet.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from api.quantity import format_quantity

GROUP_VERSION = "metrics.k8s.io/v1beta1"
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?\s*$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Point:
    ts: float                   # seconds since the epoch, of the sample
    cpu: float                  # cumulative core-seconds
    memory: float               # working set bytes
    start: float | None = None  # container start time (seconds since the epoch)


ContainerKey = tuple[str, str, str]   # namespace, pod, container


@dataclass
class Scrape:
    node: Point | None = None
    containers: dict[ContainerKey, Point] = field(default_factory=dict)


def _unescape(v: str) -> str:
    return v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def parse_resource_metrics(text: str, now: float) -> Scrape:
    """The node and container points of one `/metrics/resource` answer (`now` for samples
    without a timestamp)."""
    node: dict[str, float] = {}
    node_ts = now
    parts: dict[ContainerKey, dict[str, float]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m is None:
            continue
        name, labels_text, value_text, ts_text = m.groups()
        try:
            value = float(value_text)
        except ValueError:
            continue
        ts = int(ts_text) / 1000 if ts_text else now
        if name in ("node_cpu_usage_seconds_total", "node_memory_working_set_bytes"):
            node[name], node_ts = value, ts
            continue
        if not name.startswith("container_"):
            continue
        labels = {k: _unescape(v) for k, v in _LABEL.findall(labels_text or "")}
        key = (labels.get("namespace", ""), labels.get("pod", ""), labels.get("container", ""))
        if not all(key):
            continue
        entry = parts.setdefault(key, {})
        entry[name] = value
        if name == "container_cpu_usage_seconds_total":
            entry["ts"] = ts
    out = Scrape()
    if "node_cpu_usage_seconds_total" in node:
        out.node = Point(node_ts, node["node_cpu_usage_seconds_total"], node.get("node_memory_working_set_bytes", 0))
    for key, e in parts.items():
        if "container_cpu_usage_seconds_total" in e and "container_memory_working_set_bytes" in e:
            out.containers[key] = Point(e["ts"], e["container_cpu_usage_seconds_total"],
                                        e["container_memory_working_set_bytes"], e.get("container_start_time_seconds"))
    return out


@dataclass(frozen=True)
class Usage:
    ts: float
    window: float
    cpu_nanocores: int
    memory_bytes: int


def usage(prev: Point | None, cur: Point, last_scrape: float | None = None) -> Usage | None:
    """metrics-server's rate: between two points of the same container instance, or from
    its start when it started after the node's previous scrape (`last_scrape`)."""
    if prev is not None and prev.start == cur.start and cur.ts > prev.ts and cur.cpu >= prev.cpu:
        window = cur.ts - prev.ts
        return Usage(cur.ts, window, round((cur.cpu - prev.cpu) / window * 1e9), int(cur.memory))
    if cur.start is not None and last_scrape is not None and last_scrape < cur.start < cur.ts:
        window = cur.ts - cur.start
        return Usage(cur.ts, window, round(cur.cpu / window * 1e9), int(cur.memory))
    return None


PodKey = tuple[str, str]               # namespace, pod
Points = tuple[Point | None, Point]    # the previous scrape's point (if any) and the last one


class MetricsStore:
    def __init__(self) -> None:
        self.nodes: dict[str, Points] = {}
        self.pods: dict[str, dict[PodKey, dict[str, Points]]] = {}   # node -> pod -> container
        self.pod_node: dict[PodKey, str] = {}
        self.last_scrape: dict[str, float] = {}   # each node's previous scrape

    def store(self, node_name: str, scrape: Scrape) -> None:
        if scrape.node is not None:
            old = self.nodes.get(node_name)
            self.nodes[node_name] = (old[1] if old else None, scrape.node)
            if old is not None:
                self.last_scrape[node_name] = old[1].ts
        before = self.pods.get(node_name, {})
        pods: dict[PodKey, dict[str, Points]] = {}
        for (ns, pod, container), point in scrape.containers.items():
            prev = before.get((ns, pod), {}).get(container)
            pods.setdefault((ns, pod), {})[container] = (prev[1] if prev else None, point)
        self.forget_pods(node_name)
        self.pods[node_name] = pods
        for key in pods:
            self.pod_node[key] = node_name

    def forget_pods(self, node_name: str) -> None:
        for key in self.pods.pop(node_name, {}):
            if self.pod_node.get(key) == node_name:
                del self.pod_node[key]

    def forget(self, node_name: str) -> None:
        """A node that could not be scraped: nothing of it is served until it can."""
        self.nodes.pop(node_name, None)
        self.last_scrape.pop(node_name, None)
        self.forget_pods(node_name)

    def keep_only(self, node_names: set[str]) -> None:
        for name in (set(self.nodes) | set(self.pods)) - node_names:
            self.forget(name)

    def node_usage(self, name: str) -> Usage | None:
        pts = self.nodes.get(name)
        if pts is None or pts[0] is None:
            return None
        prev, cur = pts
        if cur.ts <= prev.ts or cur.cpu < prev.cpu:
            return None
        window = cur.ts - prev.ts
        return Usage(cur.ts, window, round((cur.cpu - prev.cpu) / window * 1e9), int(cur.memory))

    def pod_usage(self, namespace: str, name: str) -> dict[str, Usage] | None:
        """Each container's usage, None unless every container of the pod seen has one."""
        node = self.pod_node.get((namespace, name))
        if node is None:
            return None
        since = self.last_scrape.get(node)
        found = {c: usage(prev, cur, since) for c, (prev, cur) in self.pods[node][(namespace, name)].items()}
        if not found or any(u is None for u in found.values()):
            return None
        return {c: u for c, u in found.items() if u is not None}


# ---- the API objects ----------------------------------------------------------------
def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _window(seconds: float) -> str:
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"{text}s"


def _usage(u: Usage) -> dict[str, str]:
    return {"cpu": format_quantity(f"{max(0, u.cpu_nanocores)}n"),
            "memory": format_quantity(max(0, u.memory_bytes), "BinarySI")}


def _meta(obj: dict[str, Any], now: float) -> dict[str, Any]:
    src = obj.get("metadata") or {}
    meta: dict[str, Any] = {"name": src.get("name"), "creationTimestamp": _time(now)}
    if src.get("namespace"):
        meta["namespace"] = src["namespace"]
    if src.get("labels"):
        meta["labels"] = dict(src["labels"])
    return meta


def node_metrics(node: dict[str, Any], u: Usage, now: float) -> dict[str, Any]:
    return {"kind": "NodeMetrics", "apiVersion": GROUP_VERSION, "metadata": _meta(node, now),
            "timestamp": _time(u.ts), "window": _window(u.window), "usage": _usage(u)}


def pod_metrics(pod: dict[str, Any], containers: dict[str, Usage], now: float) -> dict[str, Any]:
    order = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    names = sorted(containers, key=lambda n: (order.index(n) if n in order else len(order), n))
    first = containers[names[0]]
    return {"kind": "PodMetrics", "apiVersion": GROUP_VERSION, "metadata": _meta(pod, now),
            "timestamp": _time(first.ts), "window": _window(first.window),
            "containers": [{"name": n, "usage": _usage(containers[n])} for n in names]}


def metrics_list(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": f"{kind}List", "apiVersion": GROUP_VERSION, "metadata": {}, "items": items}
