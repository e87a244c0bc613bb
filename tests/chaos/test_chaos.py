"""Chaos: a steady workload while the apiserver, controller-manager, scheduler and the
kubelets are SIGKILLed and started again at random moments; after every round the
invariants of tests/chaos/invariants.py hold and the cluster converges within a bound.

The short form (3 rounds) runs in `make test`; `make chaos` runs it for CHAOS_MINUTES
(default 30). CHAOS_SEED fixes the random choices; CHAOS_STORE=etcd puts the apiserver on a
private etcd, which is then SIGKILLed too. The test prints the rounds, the faults per
component and the operations done.
"""
from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

from apiserver.storage.etcd_server import EtcdServer, free_port
from client import kubeconfig
from client.errors import ClientError
from client.rest import Client
from tests.chaos import invariants
from tests.chaos.processes import KILLABLE, Cluster
from tests.chaos.workload import CMS, DEPLOY, NS, PODS, SVCS, Workload
from tests.support.waits import until

CONVERGE_WITHIN = 90.0     # seconds after the last fault for the cluster to settle


async def _wait_api(cluster: Cluster) -> Client:
    await until(lambda: cluster.kubeconfig.exists(), 60, what="admin.kubeconfig")
    client = Client(kubeconfig.load(str(cluster.kubeconfig)), component="chaos", timeout=10)

    async def answers() -> bool:
        try:
            return (await client.request("GET", "/readyz")).status_code == 200
        except ClientError:
            return False
    await until(answers, 60, interval=0.2, what="the apiserver")
    return client


async def _converge(cluster: Cluster, w: Workload) -> list[str]:
    """Wait (up to CONVERGE_WITHIN) until the invariants hold; the last problems if not."""
    problems: list[str] = ["not checked"]

    async def check() -> bool:
        nonlocal problems
        try:
            d = await w.client.get(DEPLOY, "web", NS)
            pods = (await w.client.list(PODS, NS, label_selector="app=web")).items
            cms = (await w.client.list(CMS, NS)).items
            svcs = (await w.client.list(SVCS, None)).items
            every_pod = (await w.client.list(PODS, None)).items
        except ClientError as e:
            problems = [f"apiserver: {e}"]
            return False
        replicas = d["spec"]["replicas"]
        image = d["spec"]["template"]["spec"]["containers"][0]["image"]
        problems = []
        if replicas not in {w.replicas, *w.maybe_replicas} or image not in {w.image, *w.maybe_images}:
            problems.append(f"deployment spec {replicas} x {image}: the acknowledged change was "
                            f"{w.replicas} x {w.image}")
        problems += (invariants.lost_writes(w.ledger, cms) + invariants.converged(d, pods, replicas, image)
                     + invariants.allocations(svcs, every_pod))
        return not problems
    try:
        await until(check, CONVERGE_WITHIN, interval=0.5, what="convergence")
    except AssertionError:
        return problems
    return []


async def _round(cluster: Cluster, w: Workload, rnd: random.Random, faults: int, etcd: EtcdServer | None) -> None:
    """Workload steps with `faults` SIGKILLs at random moments among them."""
    steps = 20
    at = sorted(rnd.sample(range(steps), faults))
    for i in range(steps):
        if i in at:
            victims = list(KILLABLE) + (["etcd"] if etcd is not None else [])
            name = rnd.choice(victims)
            if name == "etcd":
                assert etcd is not None
                etcd.kill()
                await etcd.astart()
                cluster.kills["etcd"] = cluster.kills.get("etcd", 0) + 1
            else:
                cluster.kill(name)
        await w.step()
        await w.sample()
        await asyncio.sleep(rnd.uniform(0.05, 0.4))


async def test_chaos(tmp_path: Path) -> None:
    minutes = float(os.environ.get("CHAOS_MINUTES", "0"))
    rounds = int(os.environ.get("CHAOS_ROUNDS", "3"))
    seed = int(os.environ.get("CHAOS_SEED", str(random.randrange(1 << 30))))
    rnd = random.Random(seed)
    etcd = EtcdServer(tmp_path / "etcd") if os.environ.get("CHAOS_STORE") == "etcd" else None
    if etcd is not None:
        await etcd.astart()
    cluster = Cluster(tmp_path, free_port(), etcd.url if etcd is not None else None)
    client: Client | None = None
    done = 0
    try:
        cluster.start("apiserver")
        client = await _wait_api(cluster)
        for name in KILLABLE[1:]:
            cluster.start(name)
        w = Workload(client, rnd)
        await w.setup()
        problems = await _converge(cluster, w)
        assert not problems, "the cluster never settled before any fault:\n" + "\n".join(problems)
        end = time.monotonic() + minutes * 60
        while done < rounds or time.monotonic() < end:
            await _round(cluster, w, rnd, faults=rnd.randint(1, 3), etcd=etcd)
            t0 = time.monotonic()
            problems = await _converge(cluster, w)
            assert not problems, (f"round {done + 1} (seed {seed}) did not converge in {CONVERGE_WITHIN:.0f}s:\n"
                                  + "\n".join(problems[:20]))
            assert not w.surge_violations, f"round {done + 1} (seed {seed}): surge bound broken: {w.surge_violations}"
            assert all(cluster.alive().values()), f"a component died on its own: {cluster.alive()}"
            done += 1
            d = await w.client.get(DEPLOY, "web", NS)
            w.replicas, w.image = d["spec"]["replicas"], d["spec"]["template"]["spec"]["containers"][0]["image"]
            w.maybe_replicas, w.maybe_images, w.max_replicas_seen = set(), set(), w.replicas
            print(f"\n[chaos] round {done}: converged in {time.monotonic() - t0:.1f}s; faults so far "
                  f"{dict(sorted(cluster.kills.items()))}")
    finally:
        print(f"\n[chaos] seed {seed}: {done} round(s), faults survived {dict(sorted(cluster.kills.items()))}, "
              f"operations {dict(sorted(w.ops.items())) if 'w' in locals() else {}}, "
              f"acknowledged ConfigMap writes {len((w.ledger.acked) if 'w' in locals() else {})} keys")
        if client is not None:
            await client.close()
        cluster.stop()
        if etcd is not None:
            await etcd.astop()
    assert done >= rounds

