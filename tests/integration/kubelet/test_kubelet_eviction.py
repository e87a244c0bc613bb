"""Node-pressure eviction on a hollow kubelet whose node memory and pod cgroups are files on
disk: a memory threshold met evicts the pod over its request (Failed/Evicted, an Evicted
event with the kubelet's message, never restarted), the Node reports MemoryPressure and
EvictionThresholdMet, and the condition clears when memory is back."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.models import Event, Node, Pod
from client.rest import Client
from kubelet.eviction import parse_thresholds, rank_for_eviction
from kubelet.runtime.interface import LABEL_POD_UID
from kubelet.stats.cgroups import CgroupReader
from tests.integration.kubelet.conftest import KubeletFactory, pod_body, ready, wait_pod
from tests.support.kubelet_pods import pod

MI = 1024 * 1024


def write_meminfo(proc: Path, total_mi: int, free_mi: int) -> None:
    (proc / "meminfo").write_text(f"MemTotal: {total_mi * 1024} kB\nMemFree: {free_mi * 1024} kB\n"
                                  f"Inactive(file): 0 kB\nAnonPages: 0 kB\n")


def write_cgroup(root: Path, cgroup: str, memory: int) -> None:
    d = root / cgroup.strip("/")
    d.mkdir(parents=True, exist_ok=True)
    (d / "cpu.stat").write_text("usage_usec 1000\n")
    (d / "memory.current").write_text(f"{memory}\n")
    (d / "memory.stat").write_text("inactive_file 0\n")


async def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("condition never held")


def condition(node: Node, ctype: str) -> dict[str, Any]:
    return next(c for c in node.to_dict()["status"]["conditions"] if c["type"] == ctype)


async def test_memory_pressure_evicts_the_pod_over_its_request(client: Client, kubelets: KubeletFactory,
                                                               tmp_path: Path) -> None:
    cg, proc = tmp_path / "cgroup", tmp_path / "proc"
    cg.mkdir()
    proc.mkdir()
    (cg / "cgroup.controllers").write_text("memory\n")
    (proc / "stat").write_text("cpu  1 0 1 100 0 0 0 0 0 0\nbtime 1767322000\n")
    write_meminfo(proc, 1000, 900)
    k = await kubelets("node-1", eviction_hard="memory.available<500Mi", eviction_interval=0.2,
                       cgroup_parent="/kp", status_report_interval=0.5)
    k.stats.reader = CgroupReader(cg, proc)
    await client.create(pod_body("hog", container={"resources": {"requests": {"memory": "10Mi"}}}))
    hog = await wait_pod(client, "hog", ready)
    uid = hog.metadata.uid or ""
    (c,) = await k.runtime.list_containers(labels={LABEL_POD_UID: uid})
    write_cgroup(cg, f"/kp/pod{uid}", 300 * MI)
    write_cgroup(cg, f"/kp/pod{uid}/{c.id}", 300 * MI)
    write_meminfo(proc, 1000, 200)                          # 800Mi in use: 200Mi available < 500Mi

    async def evicted() -> Pod | None:
        p = await client.get(Pod, "hog", namespace="default")
        return p if p.status and p.status.reason == "Evicted" else None
    p = await wait_for(evicted)
    assert p.status.phase == "Failed"
    message = ("The node was low on resource: memory. Threshold quantity: 500Mi, available: 200Mi. "
               "Container c was using 300Mi, request is 10Mi, has larger consumption of memory.")
    assert p.status.message == message
    assert any(c.type == "DisruptionTarget" and c.reason == "TerminationByKubelet" for c in p.status.conditions or [])

    async def events_of(name: str) -> list[Event]:
        return list((await client.list(Event, "default", field_selector=f"involvedObject.name={name}")).items)
    ev = await wait_for(lambda: _with_reason(events_of("hog"), "Evicted"))
    assert ev.type == "Warning" and ev.message == message and ev.source.component == "kubelet"
    await wait_for(lambda: _with_reason(events_of("node-1"), "EvictionThresholdMet"))
    node = await wait_for(lambda: _node_if(client, lambda n: condition(n, "MemoryPressure")["status"] == "True"))
    assert condition(node, "MemoryPressure")["reason"] == "KubeletHasInsufficientMemory"
    assert not [x for x in await k.runtime.list_containers(labels={LABEL_POD_UID: uid}) if x.state.value == "RUNNING"]
    write_meminfo(proc, 1000, 900)                          # memory is back
    node = await wait_for(lambda: _node_if(client, lambda n: condition(n, "MemoryPressure")["status"] == "False"))
    assert condition(node, "MemoryPressure")["reason"] == "KubeletHasSufficientMemory"
    p = await client.get(Pod, "hog", namespace="default")
    assert p.status.phase == "Failed" and p.status.reason == "Evicted"      # and it stays so


async def _with_reason(events: Any, reason: str) -> Event | None:
    return next((e for e in await events if e.reason == reason), None)


async def _node_if(client: Client, check: Callable[[Node], bool]) -> Node | None:
    n = await client.get(Node, "node-1")
    return n if check(n) else None


def test_memory_ranking_and_threshold_syntax() -> None:
    over = pod("over", containers=[{"name": "c", "image": "x", "resources": {"requests": {"memory": "100Mi"}}}])
    under = pod("under", containers=[{"name": "c", "image": "x", "resources": {"requests": {"memory": "1Gi"}}}])
    besteffort = pod("besteffort")
    important = pod("important", priority=1000)
    usage = {"uid-over": 200 * MI, "uid-under": 500 * MI, "uid-besteffort": 50 * MI, "uid-important": 900 * MI}
    ranked = [p.metadata.name for p in rank_for_eviction("memory.available", [under, over, important, besteffort],
                                                            usage)]
    # over their requests first (lower priority first, then the most over), then the rest
    assert ranked == ["over", "besteffort", "important", "under"]
    assert [(t.signal, t.quantity, t.percentage) for t in parse_thresholds("memory.available<100Mi,nodefs.available<10%")] \
        == [("memory.available", 100 * MI, None), ("nodefs.available", None, 0.1)]
    for bad in ("memory.free<1Mi", "memory.available>1Mi", "nodefs.available<0%"):
        try:
            parse_thresholds(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} was accepted")
