"""The kubelet's stats provider: one sample of the node, its pods and their running containers.

Owns `StatsProvider.sample()`: the running containers come from the runtime (CRI
ListContainers, with the kubelet's pod labels), their usage from their cgroups under the
kubelet's cgroup parent (`<parent>/pod<uid>/<container id>`, where containerd puts them with
the cgroupfs driver; the pod cgroup `<parent>/pod<uid>` holds the sandbox too), the node's
from /proc. Reading happens in a worker thread. The provider remembers the previous reading
of each node/pod/container, so a sample carries CPU rates (`usageNanoCores`) besides the
cumulative counters. Containers whose cgroup cannot be read (a hollow node's, or one that
just exited) are left out, as cAdvisor does.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubelet.podconfig import pod_cgroup
from kubelet.runtime.interface import (LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID,
                                       Container, ContainerState, Runtime)
from kubelet.stats.cgroups import CgroupReader
from kubelet.stats.summary import ContainerSample, NodeSample, PodSample, nano_cores


def boot_time(proc: Path = Path("/proc")) -> datetime:
    for line in (proc / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return datetime.fromtimestamp(int(line.split()[1]), UTC)
    return datetime.fromtimestamp(0, UTC)


class StatsProvider:
    def __init__(self, runtime: Runtime, node_name: str, cgroup_parent: str,
                 pod_start: Callable[[str], str | None] | None = None, reader: CgroupReader | None = None) -> None:
        """`pod_start(uid)` gives a pod's status.startTime when the kubelet knows it."""
        self.runtime, self.node_name, self.cgroup_parent = runtime, node_name, cgroup_parent
        self.pod_start = pod_start or (lambda uid: None)
        self.reader = reader or CgroupReader()
        self._prev: dict[str, tuple[float, int]] = {}
        self._boot = boot_time(self.reader.proc)

    async def sample(self) -> NodeSample:
        running = await self.runtime.list_containers(state=ContainerState.RUNNING)
        return await asyncio.to_thread(self._read, running)

    def _read(self, running: list[Container]) -> NodeSample:
        now, at = time.monotonic(), datetime.now(UTC)
        by_pod: dict[str, list[Container]] = {}
        for c in running:
            uid = c.labels.get(LABEL_POD_UID)
            if uid and c.labels.get(LABEL_CONTAINER_NAME):
                by_pod.setdefault(uid, []).append(c)
        node_usage, memory_capacity = self.reader.node_usage()
        sample = NodeSample(self.node_name, at, self._boot, node_usage, memory_capacity)
        seen: dict[str, tuple[float, int]] = {}

        def rate(key: str, cpu_ns: int) -> None:
            seen[key] = (now, cpu_ns)
            r = nano_cores(self._prev.get(key), seen[key])
            if r is not None:
                sample.rates[key] = r
        rate("node", sample.usage.cpu_ns)
        for uid, containers in sorted(by_pod.items()):
            first = containers[0].labels
            cg = pod_cgroup(self.cgroup_parent, uid)
            pod = PodSample(first.get(LABEL_POD_NAMESPACE, ""), first.get(LABEL_POD_NAME, ""), uid,
                            _start(self.pod_start(uid)) or min(c.created_at for c in containers),
                            self.reader.usage(cg))
            if pod.usage is not None:
                rate(uid, pod.usage.cpu_ns)
            for c in sorted(containers, key=lambda c: c.labels[LABEL_CONTAINER_NAME]):
                usage = self.reader.usage(f"{cg}/{c.id}")
                if usage is None:
                    continue
                name = c.labels[LABEL_CONTAINER_NAME]
                pod.containers.append(ContainerSample(name, c.created_at, usage))
                rate(f"{uid}/{name}", usage.cpu_ns)
            if pod.containers or pod.usage is not None:
                sample.pods.append(pod)
        self._prev = seen
        return sample


def _start(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
