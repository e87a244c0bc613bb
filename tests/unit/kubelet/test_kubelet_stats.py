"""The kubelet's stats: cgroup v2 and v1 files, /proc, the Summary document and the
`/metrics/resource` text, and the provider over the fake runtime and a cgroup tree on disk."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from apiserver.metrics_store import parse_resource_metrics
from kubelet.runtime.fake import FakeRuntime
from kubelet.runtime.interface import ContainerConfig, SandboxConfig
from kubelet.stats.cgroups import CgroupReader, meminfo_usage, parse_flat_keyed, proc_stat_cpu_ns
from kubelet.stats.provider import StatsProvider
from kubelet.stats.summary import nano_cores, resource_metrics, summary

PROC_STAT = "cpu  100 20 30 1000 50 5 5 10 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nbtime 1767322000\n"
MEMINFO = "MemTotal:  1000 kB\nMemFree:  200 kB\nAnonPages:  300 kB\nInactive(file):  100 kB\n"


def fake_proc(root: Path) -> Path:
    proc = root / "proc"
    proc.mkdir(parents=True)
    (proc / "stat").write_text(PROC_STAT)
    (proc / "meminfo").write_text(MEMINFO)
    return proc


def v2_cgroup(root: Path, cgroup: str, usage_usec: int, memory: int, inactive: int) -> None:
    d = root / cgroup.strip("/")
    d.mkdir(parents=True, exist_ok=True)
    (d / "cpu.stat").write_text(f"usage_usec {usage_usec}\nuser_usec 1\nsystem_usec 2\n")
    (d / "memory.current").write_text(f"{memory}\n")
    (d / "memory.stat").write_text(f"anon 4096\nfile 8192\ninactive_file {inactive}\npgfault 7\npgmajfault 1\n")


def test_parsers() -> None:
    assert parse_flat_keyed("usage_usec 12\nbad line here\nx -3\n") == {"usage_usec": 12, "x": -3}
    # user+nice+system+irq+softirq+steal = 100+20+30+5+5+10 ticks of 1/100 s
    assert proc_stat_cpu_ns(PROC_STAT, clk_tck=100) == 170 * 10_000_000
    m = meminfo_usage(MEMINFO)
    assert (m.usage_bytes, m.working_set_bytes, m.rss_bytes) == (800 * 1024, 700 * 1024, 300 * 1024)


def test_cgroup_v2_and_v1(tmp_path: Path) -> None:
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cgroup.controllers").write_text("cpu memory\n")
    v2_cgroup(v2, "/kubepods/podu/c1", 1500, 10_000, 4_000)
    r = CgroupReader(v2)
    u = r.usage("/kubepods/podu/c1")
    assert r.v2 and u is not None and u.cpu_ns == 1_500_000
    assert u.memory is not None and (u.memory.usage_bytes, u.memory.working_set_bytes) == (10_000, 6_000)
    assert (u.memory.rss_bytes, u.memory.page_faults, u.memory.major_page_faults) == (4096, 7, 1)
    assert r.usage("/kubepods/podu/gone") is None
    v1 = tmp_path / "v1"
    (v1 / "cpuacct/kubepods/podu/c1").mkdir(parents=True)
    (v1 / "memory/kubepods/podu/c1").mkdir(parents=True)
    (v1 / "cpuacct/kubepods/podu/c1/cpuacct.usage").write_text("2500000\n")
    (v1 / "memory/kubepods/podu/c1/memory.usage_in_bytes").write_text("9000\n")
    (v1 / "memory/kubepods/podu/c1/memory.stat").write_text(
        "cache 1\nrss 2\ntotal_rss 3000\ntotal_inactive_file 1000\ntotal_pgfault 5\ntotal_pgmajfault 0\n")
    r1 = CgroupReader(v1)
    u1 = r1.usage("kubepods/podu/c1")
    assert not r1.v2 and u1 is not None and u1.cpu_ns == 2_500_000
    assert u1.memory is not None and (u1.memory.working_set_bytes, u1.memory.rss_bytes) == (8000, 3000)


def test_rate() -> None:
    assert nano_cores(None, (1.0, 5)) is None
    assert nano_cores((1.0, 0), (3.0, 1_000_000_000)) == 500_000_000
    assert nano_cores((1.0, 10), (2.0, 5)) is None        # a reset counter gives no rate


async def test_provider_summary_and_resource_metrics(tmp_path: Path) -> None:
    cg = tmp_path / "cg"
    cg.mkdir()
    (cg / "cgroup.controllers").write_text("")
    rt = FakeRuntime(images=["busybox"])
    sb = SandboxConfig(name="web", namespace="default", uid="u1")
    sid = await rt.run_pod_sandbox(sb)
    cid = await rt.create_container(sid, ContainerConfig(name="main", image="busybox"), sb)
    await rt.start_container(cid)
    v2_cgroup(cg, "/kp/podu1", 3_000_000, 20_000, 0)
    v2_cgroup(cg, f"/kp/podu1/{cid}", 2_000_000, 12_000, 2_000)
    provider = StatsProvider(rt, "n1", "/kp", lambda uid: "2026-01-02T03:04:05Z",
                             CgroupReader(cg, fake_proc(tmp_path)))
    first = await provider.sample()
    assert "u1/main" not in first.rates                     # no rate from one reading
    v2_cgroup(cg, f"/kp/podu1/{cid}", 2_500_000, 12_000, 2_000)
    s = await provider.sample()
    assert s.rates["u1/main"] > 0
    doc = summary(s)
    assert doc["node"]["nodeName"] == "n1" and doc["node"]["startTime"] == "2026-01-02T02:46:40Z"
    assert doc["node"]["memory"]["availableBytes"] == (1000 - 700) * 1024
    (pod,) = doc["pods"]
    assert pod["podRef"] == {"name": "web", "namespace": "default", "uid": "u1"}
    assert pod["startTime"] == "2026-01-02T03:04:05Z"
    assert pod["cpu"]["usageCoreNanoSeconds"] == 3_000_000_000
    (c,) = pod["containers"]
    assert c["name"] == "main" and c["cpu"]["usageCoreNanoSeconds"] == 2_500_000_000
    assert c["cpu"]["usageNanoCores"] == s.rates["u1/main"] and c["memory"]["workingSetBytes"] == 10_000
    text = resource_metrics(s)
    assert "# TYPE container_cpu_usage_seconds_total counter" in text and "resource_scrape_error 0" in text
    assert 'container_memory_working_set_bytes{container="main",namespace="default",pod="web"} 10000 ' in text
    # what metrics-server (here: the apiserver's scraper) reads back from it
    scrape = parse_resource_metrics(text, 0.0)
    point = scrape.containers[("default", "web", "main")]
    assert point.cpu == 2.5 and point.memory == 10_000 and point.ts == int(s.at.timestamp() * 1000) / 1000
    assert scrape.node is not None and scrape.node.memory == 700 * 1024


def test_label_values_are_escaped() -> None:
    from kubelet.stats.cgroups import MemoryUsage, Usage
    from kubelet.stats.summary import ContainerSample, NodeSample, PodSample
    t = datetime(2026, 1, 2, tzinfo=UTC)
    u = Usage(1_000_000_000, MemoryUsage(1, 1, 1, 0, 0))
    s = NodeSample("n", t, t, u, 10, [PodSample("ns", 'we"b', "u", t, None, [ContainerSample("c", t, u)])])
    text = resource_metrics(s)
    assert 'pod="we\\"b"' in text
    assert ("ns", 'we"b', "c") in parse_resource_metrics(text, 0.0).containers
