"""kube-proxy sync time next to a raw iptables-restore of the same rules (root).

Everything happens inside throwaway network namespaces (`pkb-<hex>`), so the host's
tables are never touched; they are deleted at the end, pass or fail. An in-process
apiserver (memory store) gets N Services with M ready endpoints each, through the API; a
`Proxier` (its iptables behind `nsenter --net=...`) lists and watches them and makes its
first, full sync. Then the very text that sync restored is restored raw with
`iptables-restore --noflush` into a second, empty namespace. Finally K EndpointSlice changes
(one address replaced, a quiet second apart) are timed from the update call until the
proxier has the new rules in the kernel (the watch, the partial sync and its restore).

Prints the figures; `--rounds` full syncs (the first through the watch, the others fed the same objects) and
raw restores alternate, each into its own empty namespace, and the medians are compared.
`--json` ends with one line
{"services", "endpoints_per_service", "sync_s", "raw_restore_s", "ratio", "change_to_rules_ms"}
(the median change). Goals: a full sync within 1.5 times the raw restore, a change in
place within 200 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.models import EndpointSlice, Service
from client import kubeconfig
from client.rest import Client
from kubelet.proxy.iptables import IPTables, Runner
from kubelet.proxy.proxier import Proxier, ProxierConfig
from kubelet.proxy.rules import Endpoint, ServicePortInfo, endpoint_chain
from tests.support.cluster import running_apiserver


def ep_ip(svc: int, i: int) -> str:
    n = svc * 16 + i
    return f"10.244.{n // 250}.{n % 250 + 1}"


async def populate(client: Client, services: int, per: int) -> None:
    sem = asyncio.Semaphore(32)

    async def one(i: int) -> None:
        async with sem:
            await client.create(Service.from_dict({"metadata": {"name": f"svc-{i}", "namespace": "default"},
                                                   "spec": {"ports": [{"name": "http", "port": 80,
                                                                       "targetPort": 8080}]}}))
            await client.create(endpoints(i, [ep_ip(i, j) for j in range(per)]))
    await asyncio.gather(*(one(i) for i in range(services)))


def endpoints(i: int, ips: list[str]) -> EndpointSlice:
    """Service i's one EndpointSlice (what kube-proxy reads), as the slice controller writes it."""
    return EndpointSlice.from_dict({
        "metadata": {"name": f"svc-{i}-bench", "namespace": "default",
                     "labels": {"kubernetes.io/service-name": f"svc-{i}"}},
        "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips]})


def netns() -> str:
    ns = f"pkb-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    return ns


def iptables_in(ns: str) -> IPTables:
    return IPTables(Runner(["nsenter", f"--net=/run/netns/{ns}"], timeout=600))


async def raw_restore(text: str) -> float:
    ns = netns()
    try:
        t0 = time.perf_counter()
        await iptables_in(ns).runner.run("iptables-restore", "-w", "5", "--noflush", stdin=text)
        return time.perf_counter() - t0
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


async def fresh_sync(client: Client, config: ProxierConfig) -> float:
    """One more first sync: a new proxier fed the same objects, into an empty namespace."""
    ns = netns()
    try:
        proxier = Proxier(None, config, iptables_in(ns))
        for svc in (await client.list(Service)).items:
            proxier.on_service(svc)
        for es in (await client.list(EndpointSlice)).items:
            proxier.on_slice(es)
        await proxier.sync()
        return proxier.last_sync_seconds
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


async def bench(services: int, per: int, changes: int, rounds: int, log: bool) -> dict[str, object]:
    ns = netns()
    try:
        with tempfile.TemporaryDirectory(prefix="pykube-bench-proxy-") as tmp:
            async with running_apiserver(Path(tmp) / "data") as srv:
                client = Client(kubeconfig.load(srv.kubeconfig_path), component="bench")
                try:
                    t0 = time.perf_counter()
                    await populate(client, services, per)
                    if log:
                        print(f"created {services} services x {per} endpoints through the API "
                              f"in {time.perf_counter() - t0:.1f}s", flush=True)
                    iptables = iptables_in(ns)
                    config = ProxierConfig(healthz_bind_address=None, metrics_bind_address=None,
                                           min_sync_period=1.0, sync_period=3600)
                    proxier = Proxier(client, config, iptables)
                    task = asyncio.create_task(proxier.run())
                    try:
                        while proxier.syncs == 0:
                            if task.done():
                                task.result()
                            await asyncio.sleep(0.01)
                        syncs, raws = [proxier.last_sync_seconds], []
                        text = proxier.last_restore
                        for r in range(rounds):   # interleaved: both see the same machine load
                            raws.append(await raw_restore(text))
                            if r + 1 < rounds:
                                syncs.append(await fresh_sync(client, config))
                        sync_s, raw_s = statistics.median(syncs), statistics.median(raws)
                        if log:
                            print(f"full sync ({text.count(chr(10))} lines restored): "
                                  + ", ".join(f"{x:.3f}s" for x in syncs), flush=True)
                            print("raw iptables-restore of the same text: " + ", ".join(f"{x:.3f}s" for x in raws),
                                  flush=True)
                        times = []
                        for k in range(changes):
                            await asyncio.sleep(1.0)
                            i = (k * 97) % services
                            new_ip = f"10.250.{k // 250}.{k % 250 + 1}"
                            sp = ServicePortInfo("default", f"svc-{i}", "http", "TCP", 80, "")
                            ep = await client.get(EndpointSlice, f"svc-{i}-bench", namespace="default")
                            ips = [e.addresses[0] for e in ep.endpoints or []][1:] + [new_ip]
                            sep = endpoint_chain(sp, Endpoint(new_ip, 8080))
                            t0 = time.perf_counter()
                            ep.endpoints = endpoints(i, ips).endpoints
                            await client.update(ep)
                            if not await proxier.wait_until(lambda rs, sep=sep: sep in rs["nat"], 30):
                                raise SystemExit(f"change {k} never applied")
                            times.append((time.perf_counter() - t0) * 1000)
                        _, saved, _ = await iptables.runner.run("iptables-save", "-t", "nat")
                        assert sep in saved, "the last change is not in the kernel"
                        if log:
                            print("endpoints change -> rules in place: "
                                  + ", ".join(f"{t:.0f}ms" for t in times), flush=True)
                    finally:
                        task.cancel()
                        await asyncio.gather(task, return_exceptions=True)
                finally:
                    await client.close()
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)
    return {"services": services, "endpoints_per_service": per, "sync_s": round(sync_s, 3),
            "raw_restore_s": round(raw_s, 3), "ratio": round(sync_s / raw_s, 3),
            "change_to_rules_ms": round(statistics.median(times), 1) if times else None}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--services", type=int, default=1000)
    p.add_argument("--endpoints", type=int, default=10)
    p.add_argument("--changes", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3, help="full syncs and raw restores, interleaved (medians)")
    p.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        print("bench/proxy.py needs root (network namespaces, iptables)", file=sys.stderr)
        return 2
    result = asyncio.run(bench(args.services, args.endpoints, args.changes, args.rounds, log=True))
    print(f"{result['services']} services x {result['endpoints_per_service']} endpoints: sync "
          f"{result['sync_s']}s, raw restore {result['raw_restore_s']}s, ratio {result['ratio']}, "
          f"change to rules {result['change_to_rules_ms']}ms (median)")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
