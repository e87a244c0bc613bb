"""Apiserver write benchmark: pod creates per second and latency with 32 concurrent clients.

For each datastore (sqlite, then etcd started here), starts `pykube apiserver` as its own
process, creates N pods over 32 concurrent keep-alive connections from a separate load
process (bench/loadgen.py: raw HTTP/1.1, so the client's own cost stays small beside the
server's; `--client-procs` spreads them over more processes), and prints creates/s, p50 and p99
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
from typing import Any

import ssl

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apiserver.storage import open_backend  # noqa: E402
from apiserver.storage.etcd_server import EtcdServer, free_port  # noqa: E402
from bench.storage_raw import raw_write_rate  # noqa: E402


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


async def _load(server: str, token: str, ca: str, n: int, concurrency: int, procs: int) -> dict[str, Any]:
    """Run the creates from `procs` separate load processes (bench/loadgen.py) at once."""
    procs = max(1, min(procs, concurrency, n))
    share, conc = [n // procs] * procs, [concurrency // procs] * procs
    for i in range(n % procs):
        share[i] += 1
    for i in range(concurrency % procs):
        conc[i] += 1
    cmds, first = [], 0
    for k in range(procs):
        cmds.append([sys.executable, "-m", "bench.loadgen", "--server", server, "--token", token, "--ca", ca,
                     "--pods", str(share[k]), "--first", str(first), "--concurrency", str(conc[k])])
        first += share[k]
    children = [await asyncio.create_subprocess_exec(*c, cwd=str(ROOT), stdout=subprocess.PIPE,
                                                     stderr=subprocess.PIPE) for c in cmds]
    outs = [await c.communicate() for c in children]
    for c, (_, err) in zip(children, outs):
        if c.returncode != 0:
            raise SystemExit(f"load generator failed: {err.decode()[-2000:]}")
    results = [json.loads(out) for out, _ in outs]
    return {"elapsed": max(r["end"] for r in results) - min(r["start"] for r in results),
            "latencies": [x for r in results for x in r["latencies"]]}


async def run_api(store: str | None, n: int, concurrency: int, procs: int = 1) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="pykube-bench-") as d:
        data_dir = Path(d)
        cmd = [sys.executable, "-m", "pykube.main", "apiserver", "--data-dir", str(data_dir),
               "--secure-port", str(free_port())]
        if store:
            cmd += ["--datastore-endpoint", store]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            client = await _wait_ready(data_dir, proc)
            server, token = str(client.base_url).rstrip("/"), client.headers["Authorization"][7:]
            await client.aclose()
            res = await _load(server, token, str(data_dir / "server/tls/server-ca.crt"), n, concurrency, procs)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    lat, elapsed = sorted(res["latencies"]), res["elapsed"]
    return {"creates_per_s": round(n / elapsed, 1),
            "p50_ms": round(statistics.median(lat) * 1000, 2),
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 2)}


async def run_raw(url: str, n: int, concurrency: int) -> float:
    backend = open_backend(url)
    await backend.start()
    try:
        await raw_write_rate(backend, min(200, n), concurrency)      # warm up, as the API run does
        return await raw_write_rate(backend, n, concurrency)
    finally:
        await backend.close()


async def main_async(n: int, concurrency: int, stores: list[str],
                     procs: int = 1) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    if "sqlite" in stores:
        with tempfile.TemporaryDirectory(prefix="pykube-raw-") as d:
            raw = await run_raw(f"sqlite:///{d}/raw.db", n, concurrency)
        api = await run_api(None, n, concurrency, procs)
        out["sqlite"] = {**api, "raw_writes_per_s": round(raw, 1), "ratio": round(api["creates_per_s"] / raw, 3)}
    if "etcd" in stores:
        with tempfile.TemporaryDirectory(prefix="pykube-etcd-") as d:
            async with EtcdServer(Path(d) / "raw") as etcd:
                raw = await run_raw(etcd.url, n, concurrency)
            async with EtcdServer(Path(d) / "api") as etcd:
                api = await run_api(etcd.url, n, concurrency, procs)
        out["etcd"] = {**api, "raw_writes_per_s": round(raw, 1), "ratio": round(api["creates_per_s"] / raw, 3)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--stores", default="sqlite,etcd")
    ap.add_argument("--client-procs", type=int, default=1,
                    help="load generator processes sharing the concurrent connections")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = asyncio.run(main_async(args.pods, args.concurrency, args.stores.split(","), args.client_procs))
    for store, f in res.items():
        print(f"{store:7s} apiserver {f['creates_per_s']:8.1f} creates/s  p50 {f['p50_ms']:7.2f} ms  "
              f"p99 {f['p99_ms']:7.2f} ms | raw store {f['raw_writes_per_s']:8.1f} writes/s | ratio {f['ratio']:.2f}")
    if args.json:
        print(json.dumps(res))


if __name__ == "__main__":
    main()
