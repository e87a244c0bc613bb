"""Apiserver write benchmark: pod creates per second and latency with 32 concurrent clients.

For each datastore (sqlite, then etcd started here), starts `pykube apiserver` as its own
process, creates N pods from 32 concurrent client tasks, and prints creates/s, p50 and p99
latency, next to the raw backend write rate measured in this same run (bench/storage_raw.py)
and the ratio between the two. `--json` prints one JSON object as the last line:
{"sqlite": {"creates_per_s", "p50_ms", "p99_ms", "raw_writes_per_s", "ratio"}, "etcd": {...}}
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ssl

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apiserver.storage import open_backend  # noqa: E402
from apiserver.storage.etcd_server import EtcdServer, free_port  # noqa: E402
from bench.storage_raw import raw_write_rate  # noqa: E402

POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"labels": {"app": "bench"}},
       "spec": {"containers": [{"name": "c", "image": "nginx:1.14.2", "ports": [{"containerPort": 80}],
                                "env": [{"name": f"E{i}", "value": "x" * 20} for i in range(8)]}]}}


async def _wait_ready(data_dir: Path, proc: subprocess.Popen[bytes]) -> httpx.AsyncClient:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"apiserver exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        kc = data_dir / "admin.kubeconfig"
        if kc.exists():
            cfg = yaml.safe_load(kc.read_text())
            c = httpx.AsyncClient(base_url=cfg["clusters"][0]["cluster"]["server"],
                                  verify=ssl.create_default_context(cafile=str(data_dir / "server/tls/server-ca.crt")),
                                  headers={"Authorization": "Bearer " + cfg["users"][0]["user"]["token"]},
                                  limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
                                  timeout=30)
            try:
                if (await c.get("/readyz")).status_code == 200:
                    return c
            except httpx.HTTPError:
                pass
            await c.aclose()
        await asyncio.sleep(0.1)
    raise SystemExit("apiserver did not start")


async def run_api(store: str | None, n: int, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="pykube-bench-") as d:
        data_dir = Path(d)
        cmd = [sys.executable, "-m", "pykube.main", "apiserver", "--data-dir", str(data_dir),
               "--secure-port", str(free_port())]
        if store:
            cmd += ["--datastore-endpoint", store]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            client = await _wait_ready(data_dir, proc)
            lat: list[float] = []
            counter = iter(range(n))

            async def worker(w: int) -> None:
                for i in counter:
                    body = json.loads(json.dumps(POD))
                    body["metadata"]["name"] = f"bench-{i}"
                    t0 = time.perf_counter()
                    r = await client.post("/api/v1/namespaces/default/pods", json=body)
                    lat.append(time.perf_counter() - t0)
                    if r.status_code != 201:
                        raise SystemExit(f"create failed: {r.status_code} {r.text[:300]}")
            # warm up connections
            await asyncio.gather(*(client.get("/api/v1/namespaces/default/pods", params={"limit": "1"})
                                   for _ in range(concurrency)))
            t0 = time.perf_counter()
            await asyncio.gather(*(worker(w) for w in range(concurrency)))
            elapsed = time.perf_counter() - t0
            await client.aclose()
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    lat.sort()
    return {"creates_per_s": round(n / elapsed, 1),
            "p50_ms": round(statistics.median(lat) * 1000, 2),
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 2)}


async def run_raw(url: str, n: int, concurrency: int) -> float:
    backend = open_backend(url)
    await backend.start()
    try:
        return await raw_write_rate(backend, n, concurrency)
    finally:
        await backend.close()


async def main_async(n: int, concurrency: int, stores: list[str]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    if "sqlite" in stores:
        with tempfile.TemporaryDirectory(prefix="pykube-raw-") as d:
            raw = await run_raw(f"sqlite:///{d}/raw.db", n, concurrency)
        api = await run_api(None, n, concurrency)
        out["sqlite"] = {**api, "raw_writes_per_s": round(raw, 1), "ratio": round(api["creates_per_s"] / raw, 3)}
    if "etcd" in stores:
        with tempfile.TemporaryDirectory(prefix="pykube-etcd-") as d:
            async with EtcdServer(Path(d) / "raw") as etcd:
                raw = await run_raw(etcd.url, n, concurrency)
            async with EtcdServer(Path(d) / "api") as etcd:
                api = await run_api(etcd.url, n, concurrency)
        out["etcd"] = {**api, "raw_writes_per_s": round(raw, 1), "ratio": round(api["creates_per_s"] / raw, 3)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--stores", default="sqlite,etcd")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = asyncio.run(main_async(args.pods, args.concurrency, args.stores.split(",")))
    for store, f in res.items():
        print(f"{store:7s} apiserver {f['creates_per_s']:8.1f} creates/s  p50 {f['p50_ms']:7.2f} ms  "
              f"p99 {f['p99_ms']:7.2f} ms | raw store {f['raw_writes_per_s']:8.1f} writes/s | ratio {f['ratio']:.2f}")
    if args.json:
        print(json.dumps(res))


if __name__ == "__main__":
    main()
