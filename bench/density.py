"""Density benchmark, shaped like clusterloader2's density test: the whole control plane
under load from N hollow nodes and P pods.

Starts `pykube apiserver` (sqlite store in a temporary data dir unless
`--datastore-endpoint`), the controller-manager and the scheduler, each its own process,
and N hollow nodes (kubemark's fake runtime) in processes of `--nodes-per-process` each
(bench/cluster.py). When every node is Ready it runs three phases:

1. saturation: `--namespaces` namespaces of Deployments of `--deployment-size` pods, the
   Deployments created at a fixed rate (`--rate` pods per second, default 100) until P pods
   are Running;
2. a rolling update of a tenth of the Deployments (a new pod-template annotation), until
   each has all its replicas updated and available;
3. deletion of every namespace, until every pod and namespace is gone.

Pod startup latency is create -> Running as the kubelet reports it, with its create ->
scheduled and scheduled -> Running split, each stamped when this process's pod watch
(bench/podwatch.py) first sees it (the create: the pod's first event). API call latency is
read from the apiserver's own `apiserver_request_duration_seconds` histogram over the three
phases (bench/apimetrics.py): the p99 of the worst (verb, resource) pair of each SLO group.
RSS is sampled every second: the control plane's three processes together at their peak,
and the hollow nodes' processes divided by the node count.

    python bench/density.py                          # 1,000 nodes, 30,000 pods
    python bench/density.py --nodes 100 --pods 3000  # the quick variant

`--json` ends the output with one line {"nodes", "pods", "pod_startup_p50_s",
"pod_startup_p99_s", "api_mutating_p99_s", "api_read_p99_s", "api_list_p99_s",
"scheduler_pods_per_s", "control_plane_rss_mib", "hollow_node_rss_mib", "duration_s"}.
`--plot out.png` draws pods Running over time and the latency percentiles (matplotlib);
`--profile DIR` samples the control plane with py-spy (collapsed stacks per process).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import apimetrics
from bench.cluster import BenchCluster, cpu_seconds, rss_mib
from bench.podwatch import PodTracker

CONTROL_PLANE = ("apiserver", "controller-manager", "scheduler")
SLO = {"pod_startup_p99_s": 5.0, "api_mutating_p99_s": 1.0, "api_read_p99_s": 1.0,
       "api_list_p99_s": 30.0}


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def deployment(name: str, replicas: int) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"group": "density"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"name": name}},
                     "template": {"metadata": {"labels": {"name": name, "group": "density"}},
                                  "spec": {"containers": [{
                                      "name": "pause", "image": "registry.k8s.io/pause:3.9",
                                      "resources": {"requests": {"cpu": "10m", "memory": "10Mi"}}}]}}}}


def plan(pods: int, namespaces: int, size: int) -> list[tuple[str, str, int]]:
    """(namespace, name, replicas) of every Deployment, spread round-robin over namespaces."""
    out, i = [], 0
    while pods > 0:
        n = min(size, pods)
        out.append((f"density-{i % namespaces}", f"d-{i}", n))
        pods -= n
        i += 1
    return out


@dataclass
class Sample:
    t: float
    running: int
    rss: dict[str, float]
    hollow: float


@dataclass
class Monitor:
    """RSS of every process each second, with the number of pods Running then."""
    cluster: BenchCluster
    tracker: PodTracker
    samples: list[Sample] = field(default_factory=list)

    def sample(self) -> Sample:
        s = Sample(time.monotonic(), len(self.tracker.running),
                   {n: rss_mib(p.pid) for n, p in self.cluster.control_plane.items()},
                   sum(rss_mib(p.pid) for p in self.cluster.hollow))
        self.samples.append(s)
        return s

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(1.0)

    def at(self, running: int) -> Sample:
        """The first sample with at least `running` pods Running (the last one otherwise)."""
        return next((s for s in self.samples if s.running >= running), self.samples[-1])


async def scrape(http: httpx.AsyncClient) -> list[apimetrics.Series]:
    r = await http.get("/metrics")
    r.raise_for_status()
    return apimetrics.parse_histograms(r.text)


async def wait_nodes_ready(http: httpx.AsyncClient, cluster: BenchCluster, n: int, timeout: float) -> float:
    t0 = time.monotonic()
    while True:
        cluster.check()
        items = (await http.get("/api/v1/nodes")).json().get("items") or []
        ready = sum(any(c.get("type") == "Ready" and c.get("status") == "True"
                        for c in (i.get("status") or {}).get("conditions") or []) for i in items)
        if ready >= n:
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise SystemExit(f"only {ready}/{n} nodes Ready after {timeout:.0f}s")
        await asyncio.sleep(1.0)


async def ok(r: httpx.Response, what: str) -> None:
    if r.status_code >= 300:
        raise SystemExit(f"{what}: {r.status_code} {r.text[:300]}")


async def paced(items: list[tuple[str, str, int]], rate: float, act: Any) -> None:
    """Call `act(ns, name, n)` for each item so that the pods they stand for follow `rate`/s."""
    t0, total = time.monotonic(), 0
    for ns, name, n in items:
        delay = t0 + total / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await act(ns, name, n)
        total += n


async def rollout_done(http: httpx.AsyncClient, names: set[tuple[str, str]]) -> bool:
    r = await http.get("/apis/apps/v1/deployments", params={"labelSelector": "group=density"})
    done = 0
    for d in r.json().get("items") or []:
        meta, spec, st = d["metadata"], d.get("spec") or {}, d.get("status") or {}
        if (meta["namespace"], meta["name"]) not in names:
            continue
        want = spec.get("replicas", 1)
        if st.get("observedGeneration", 0) >= meta.get("generation", 0) and \
                st.get("updatedReplicas") == want and st.get("availableReplicas") == want and \
                st.get("replicas") == want:
            done += 1
    return done == len(names)


async def run(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    cluster = BenchCluster(data_dir, args.nodes, args.nodes_per_process, args.datastore_endpoint,
                           Path(args.profile) if args.profile else None)
    t_start = time.monotonic()
    http = await cluster.start_control_plane()
    tracker = PodTracker(http)
    monitor = Monitor(cluster, tracker)
    mon_task: asyncio.Task[None] | None = None
    try:
        cluster.start_hollow_nodes()
        took = await wait_nodes_ready(http, cluster, args.nodes, args.timeout)
        print(f"{args.nodes} hollow nodes Ready in {took:.1f}s "
              f"({len(cluster.hollow)} processes)", flush=True)
        await tracker.start()
        mon_task = asyncio.create_task(monitor.run())
        base = monitor.sample()
        cpu0 = {n: cpu_seconds(p.pid) for n, p in cluster.control_plane.items()}
        if args.profile:
            cluster.start_profilers()
        before = await scrape(http)
        deps = plan(args.pods, args.namespaces, args.deployment_size)
        for ns in sorted({d[0] for d in deps}):
            await ok(await http.post("/api/v1/namespaces", json={
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}), f"create {ns}")

        # 1. saturation
        async def create(ns: str, name: str, n: int) -> None:
            await ok(await http.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=deployment(name, n)),
                     f"create {ns}/{name}")
        t_sat = time.monotonic()
        await paced(deps, args.rate, create)
        reached = await tracker.wait(lambda: len(tracker.running) >= args.pods, args.timeout, cluster.check)
        t_sat_end = time.monotonic()
        peak_running = len(tracker.running)
        print(f"saturation: {peak_running}/{args.pods} pods Running in {t_sat_end - t_sat:.1f}s"
              + ("" if reached else " (timed out)"), flush=True)
        startup = {k: t for k, t in tracker.pods.items() if t.running}
        at_peak = monitor.sample()

        # 2. rolling update of a tenth
        chosen = deps[::10]
        t_roll = time.monotonic()

        async def update(ns: str, name: str, n: int) -> None:
            patch = {"spec": {"template": {"metadata": {"annotations": {"density/rollout": "1"}}}}}
            await ok(await http.patch(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}", json=patch,
                                      headers={"Content-Type": "application/merge-patch+json"}),
                     f"update {ns}/{name}")
        await paced(chosen, args.rate, update)
        names = {(ns, name) for ns, name, _ in chosen}
        deadline = time.monotonic() + args.timeout
        while not await rollout_done(http, names):
            cluster.check()
            if time.monotonic() > deadline:
                print("rolling update timed out", flush=True)
                break
            await asyncio.sleep(2.0)
        t_roll_end = time.monotonic()
        print(f"rolling update of {len(chosen)} Deployments ({sum(d[2] for d in chosen)} pods): "
              f"{t_roll_end - t_roll:.1f}s", flush=True)

        # 3. deletion
        for ns in sorted({d[0] for d in deps}):
            await ok(await http.delete(f"/api/v1/namespaces/{ns}"), f"delete {ns}")
        gone = await tracker.wait(lambda: not tracker.live, args.timeout, cluster.check)
        while gone:
            left = [ns for ns in sorted({d[0] for d in deps})
                    if (await http.get(f"/api/v1/namespaces/{ns}")).status_code != 404]
            if not left:
                break
            if time.monotonic() > deadline + args.timeout:
                gone = False
                break
            await asyncio.sleep(1.0)
        t_del_end = time.monotonic()
        print(f"deletion: {tracker.deleted} pods deleted, {len(tracker.live)} left, in "
              f"{t_del_end - t_roll_end:.1f}s" + ("" if gone else " (timed out)"), flush=True)
        cpu = {n: cpu_seconds(p.pid) - cpu0[n] for n, p in cluster.control_plane.items()}
        series = apimetrics.subtract(await scrape(http), before)
        store = cluster.store_bytes()
    finally:
        if mon_task is not None:
            mon_task.cancel()
        await tracker.stop()
        await http.aclose()
        cluster.stop()

    sat = [t for t in startup.values() if t_sat <= t.added <= t_sat_end]
    lat = [t.running - t.added for t in sat]
    sched = [t.scheduled - t.added for t in sat if t.scheduled]
    run_ = [t.running - t.scheduled for t in sat if t.scheduled]
    bound = sorted(t.scheduled for t in sat if t.scheduled)
    sched_rate = len(bound) / (bound[-1] - min(t.added for t in sat)) if len(bound) > 1 else 0.0
    slo = apimetrics.slo_p99s(series)
    peak_cp = max(sum(s.rss.values()) for s in monitor.samples)
    peak_hollow = max(s.hollow for s in monitor.samples)
    mid = monitor.at(peak_running // 3)
    return {
        "nodes": args.nodes, "pods": peak_running,
        "pod_startup_p50_s": round(pct(lat, 50), 3), "pod_startup_p90_s": round(pct(lat, 90), 3),
        "pod_startup_p99_s": round(pct(lat, 99), 3),
        "create_to_scheduled_p50_s": round(pct(sched, 50), 3), "create_to_scheduled_p99_s": round(pct(sched, 99), 3),
        "scheduled_to_running_p50_s": round(pct(run_, 50), 3), "scheduled_to_running_p99_s": round(pct(run_, 99), 3),
        "api_mutating_p99_s": round(slo["mutating"][0], 3), "api_read_p99_s": round(slo["read"][0], 3),
        "api_list_p99_s": round(slo["list"][0], 3), "api_worst": {k: v[1] for k, v in slo.items()},
        "api_series": series,
        "scheduler_pods_per_s": round(sched_rate, 1),
        "control_plane_rss_mib": round(peak_cp, 1), "hollow_node_rss_mib": round(peak_hollow / args.nodes, 2),
        "rss_base": base, "rss_mid": mid, "rss_peak": at_peak, "cpu_s": cpu, "store_mib": store / 2**20,
        "phases_s": {"saturation": t_sat_end - t_sat, "rolling_update": t_roll_end - t_roll,
                     "deletion": t_del_end - t_roll_end},
        "duration_s": round(time.monotonic() - t_start, 1),
        "samples": monitor.samples, "latencies": lat, "t_sat": t_sat,
    }


KEYS = ("nodes", "pods", "pod_startup_p50_s", "pod_startup_p99_s", "api_mutating_p99_s", "api_read_p99_s",
        "api_list_p99_s", "scheduler_pods_per_s", "control_plane_rss_mib", "hollow_node_rss_mib", "duration_s")


def report(r: dict[str, Any]) -> None:
    def held(key: str) -> str:
        return f"(SLO <= {SLO[key]:g} s: {'met' if r[key] <= SLO[key] else 'NOT met'})" if key in SLO else ""
    print(f"\n{r['nodes']} nodes, {r['pods']} pods Running; phases (s): " +
          ", ".join(f"{k} {v:.1f}" for k, v in r["phases_s"].items()))
    print(f"pod startup (create -> Running): p50 {r['pod_startup_p50_s']:.3f} s  p90 {r['pod_startup_p90_s']:.3f} s  "
          f"p99 {r['pod_startup_p99_s']:.3f} s {held('pod_startup_p99_s')}")
    print(f"  create -> scheduled p50 {r['create_to_scheduled_p50_s']:.3f} s p99 {r['create_to_scheduled_p99_s']:.3f} s;"
          f" scheduled -> Running p50 {r['scheduled_to_running_p50_s']:.3f} s p99 {r['scheduled_to_running_p99_s']:.3f} s")
    for key, group in (("api_mutating_p99_s", "mutating"), ("api_read_p99_s", "read"), ("api_list_p99_s", "list")):
        print(f"API {group} p99 (worst pair: {r['api_worst'][group]}): {r[key]:.3f} s {held(key)}")
    print("API p99 per verb and resource (requests):")
    for s in sorted(r["api_series"], key=lambda s: -apimetrics.quantile(0.99, s.buckets))[:15]:
        print(f"  {s.name:45s} {apimetrics.quantile(0.99, s.buckets):7.3f} s  ({int(s.count)})")
    print(f"scheduler: {r['scheduler_pods_per_s']} pods/s bound over the saturation phase")
    base, mid, peak = r["rss_base"], r["rss_mid"], r["rss_peak"]
    print("RSS MiB           " + "".join(f"{n:>20s}" for n in CONTROL_PLANE) + "   together")
    for label, s in (("0 pods", base), (f"{mid.running} pods", mid), (f"{peak.running} pods", peak)):
        print(f"  {label:16s}" + "".join(f"{s.rss.get(n, 0):20.0f}" for n in CONTROL_PLANE) +
              f"{sum(s.rss.values()):11.0f}")
    if peak.running:
        slope = (sum(peak.rss.values()) - sum(base.rss.values())) / (peak.running / 1000)
        print(f"  slope: {slope:.1f} MiB per 1,000 pods; peak together {r['control_plane_rss_mib']:.0f} MiB "
              "(goal < 1024 MiB at 30,000 pods)")
    print("CPU seconds over the phases: " + ", ".join(f"{n} {c:.0f}" for n, c in r["cpu_s"].items()))
    print(f"hollow nodes: {r['hollow_node_rss_mib']:.2f} MiB RSS per node; store {r['store_mib']:.1f} MiB; "
          f"total {r['duration_s']:.0f} s")


def plot(r: dict[str, Any], out: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    t0 = r["t_sat"]
    a.plot([s.t - t0 for s in r["samples"]], [s.running for s in r["samples"]])
    a.set_xlabel("seconds since the first Deployment")
    a.set_ylabel("pods Running")
    a.set_title(f"{r['nodes']} hollow nodes")
    qs = list(range(1, 100))
    b.plot(qs, [pct(r["latencies"], q) for q in qs])
    b.axhline(5.0, linestyle="--", color="gray", label="SLO p99 5 s")
    b.set_xlabel("percentile")
    b.set_ylabel("pod startup (s)")
    b.legend()
    fig.tight_layout()
    fig.savefig(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pods", type=int, default=30000)
    ap.add_argument("--rate", type=float, default=100.0, help="pods per second created (and updated)")
    ap.add_argument("--namespaces", type=int, default=0, help="default: one per 3,000 pods")
    ap.add_argument("--deployment-size", type=int, default=30)
    ap.add_argument("--nodes-per-process", type=int, default=100)
    ap.add_argument("--datastore-endpoint", default=None, help="default: sqlite in the data dir")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds each phase may take")
    ap.add_argument("--plot", metavar="PNG")
    ap.add_argument("--profile", metavar="DIR", help="py-spy profiles of the control plane")
    ap.add_argument("--keep", metavar="DIR", help="use (and keep) this data dir, with every log")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.pods > 110 * args.nodes:
        raise SystemExit("more pods than the nodes can hold (110 each)")
    args.namespaces = args.namespaces or max(1, math.ceil(args.pods / 3000))
    signal.signal(signal.SIGTERM, signal.default_int_handler)   # clean up as on Ctrl-C
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
        r = asyncio.run(run(args, Path(args.keep)))
    else:
        with tempfile.TemporaryDirectory(prefix="pykube-density-") as d:
            r = asyncio.run(run(args, Path(d)))
    report(r)
    if args.plot:
        plot(r, args.plot)
    if args.json:
        print(json.dumps({k: r[k] for k in KEYS}))


if __name__ == "__main__":
    main()
