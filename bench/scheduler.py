"""Scheduler benchmark: pods bound per second, and p50/p99 time from creation to binding.

Starts `pykube apiserver` (memory store) and then the scheduler (`python -m scheduler.cli`,
no leader election) as their own processes, creates N Node objects (default 1,000; 4 cpu,
32Gi, 110 pods, as kube-scheduler's scheduler_perf node template) before the scheduler
starts, binds one warm-up pod, then creates M pending pods (default 10,000; 100m cpu,
500Mi, as scheduler_perf's pod template) over 32 concurrent keep-alive connections while
the scheduler runs. A watch in this process stamps each pod when it is seen bound. The
load generator writes raw HTTP/1.1 so that it takes little of the two cores from the
apiserver and the scheduler; the watch uses httpx.

Figures: pods/s = bound pods / (last binding seen - first create sent); latency per pod =
seen bound - its create answered (so it includes the wait in the queue while creation
outpaces scheduling). Also printed: the create rate and the CPU seconds of the scheduler,
the apiserver and this process over the measured phase. `--json` prints
`{"nodes", "pods", "pods_per_s", "p50_ms", "p99_ms"}` as the last line. `--profile FILE`
runs the scheduler under cProfile.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apiserver.storage.etcd_server import free_port  # noqa: E402

NS = "default"
PODS_PATH = f"/api/v1/namespaces/{NS}/pods"
NODE_TEMPLATE = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": ""},
                 "spec": {}, "status": {
                     "capacity": {"cpu": "4", "memory": "32Gi", "pods": "110"},
                     "allocatable": {"cpu": "4", "memory": "32Gi", "pods": "110"},
                     "conditions": [{"type": "Ready", "status": "True"}]}}
POD_TEMPLATE = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "", "namespace": NS},
                "spec": {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.9",
                                         "resources": {"requests": {"cpu": "100m",
                                                                    "memory": "500Mi"}}}]}}


def _body(template: dict[str, Any], name: str) -> bytes:
    doc = json.loads(json.dumps(template))
    doc["metadata"]["name"] = name
    return json.dumps(doc).encode()


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _connect(data_dir: Path, proc: subprocess.Popen[bytes]) -> httpx.AsyncClient:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"apiserver exited with {proc.returncode}")
        kc = data_dir / "admin.kubeconfig"
        if kc.exists():
            cfg = yaml.safe_load(kc.read_text())
            c = httpx.AsyncClient(
                base_url=cfg["clusters"][0]["cluster"]["server"],
                verify=str(data_dir / "server/tls/server-ca.crt"),
                headers={"Authorization": "Bearer " + cfg["users"][0]["user"]["token"],
                         "Content-Type": "application/json"},
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=64), timeout=60)
            try:
                if (await c.get("/readyz")).status_code == 200:
                    return c
            except httpx.HTTPError:
                pass
            await c.aclose()
        await asyncio.sleep(0.1)
    raise SystemExit("apiserver did not become ready")


class _RawConnection:
    """One keep-alive HTTP/1.1 connection for the load generator: creating 10,000 pods
    through httpx would cost this process more CPU than the scheduler gets on two cores."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 head: bytes) -> None:
        self.reader, self.writer, self.head = reader, writer, head

    @classmethod
    async def open(cls, http: httpx.AsyncClient, ca: Path) -> _RawConnection:
        url = http.base_url
        ctx = ssl.create_default_context(cafile=str(ca))
        reader, writer = await asyncio.open_connection(url.host, url.port, ssl=ctx,
                                                       server_hostname=url.host)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = (f"Host: {url.host}:{url.port}\r\n"
                f"Authorization: {http.headers['Authorization']}\r\n"
                "Content-Type: application/json\r\nAccept: application/json\r\n").encode()
        return cls(reader, writer, head)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        self.writer.write(b"POST " + path.encode() + b" HTTP/1.1\r\n" + self.head +
                          b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        lower = head.lower()
        if b"transfer-encoding: chunked" in lower:
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
            return status, data
        i = lower.index(b"content-length:")
        length = int(lower[i + 15:lower.index(b"\r\n", i)])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def _create_all(http: httpx.AsyncClient, ca: Path, path: str,
                      bodies: list[tuple[str, bytes]], concurrency: int,
                      created: dict[str, float] | None = None) -> None:
    it = iter(bodies)

    async def worker() -> None:
        conn = await _RawConnection.open(http, ca)
        try:
            for name, body in it:
                status, answer = await conn.post(path, body)
                if status != 201:
                    raise SystemExit(f"create {name} failed: {status} {answer[:300]!r}")
                if created is not None:
                    created[name] = time.perf_counter()
        finally:
            conn.close()
    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _watch_bindings(http: httpx.AsyncClient, rv: str, bound: dict[str, float],
                          want: int, done: asyncio.Event) -> None:
    params = {"watch": "1", "resourceVersion": rv, "allowWatchBookmarks": "true"}
    async with http.stream("GET", PODS_PATH, params=params, timeout=httpx.Timeout(60, read=None)) as r:
        async for line in r.aiter_lines():
            if '"nodeName"' not in line:
                continue
            ev = json.loads(line)
            obj = ev.get("object") or {}
            name = (obj.get("metadata") or {}).get("name")
            if name and (obj.get("spec") or {}).get("nodeName") and name not in bound:
                bound[name] = time.perf_counter()
                if len(bound) >= want:
                    done.set()
                    return


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


async def run(nodes: int, pods: int, concurrency: int, timeout: float,
              profile: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="pykube-bench-sched-") as d:
        data_dir = Path(d)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        api_log = open(data_dir / "api.log", "wb")
        sched_log = open(data_dir / "scheduler.log", "wb")
        api = subprocess.Popen(
            [sys.executable, "-m", "pykube.main", "apiserver", "--data-dir", str(data_dir),
             "--secure-port", str(free_port()), "--datastore-endpoint", "memory://"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=api_log)
        sched: subprocess.Popen[bytes] | None = None
        try:
            http = await _connect(data_dir, api)
            ca = data_dir / "server/tls/server-ca.crt"
            t = time.perf_counter()
            await _create_all(http, ca, "/api/v1/nodes",
                              [(f"node-{i}", _body(NODE_TEMPLATE, f"node-{i}")) for i in range(nodes)],
                              concurrency)
            print(f"created {nodes} nodes in {time.perf_counter() - t:.1f}s", file=sys.stderr)
            prof = ["-m", "cProfile", "-o", profile] if profile else []
            sched = subprocess.Popen(
                [sys.executable, *prof, "-m", "scheduler.cli", "--kubeconfig",
                 str(data_dir / "admin.kubeconfig"), "--leader-elect=false"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=sched_log)
            await _create_all(http, ca, PODS_PATH, [("warmup", _body(POD_TEMPLATE, "warmup"))], 1)
            deadline = time.monotonic() + 60
            while True:
                p = (await http.get(f"{PODS_PATH}/warmup")).json()
                if (p.get("spec") or {}).get("nodeName"):
                    break
                if time.monotonic() > deadline or sched.poll() is not None:
                    raise SystemExit("scheduler did not bind the warm-up pod:\n" +
                                     (data_dir / "scheduler.log").read_text()[-3000:])
                await asyncio.sleep(0.1)
            rv = (await http.get(PODS_PATH, params={"limit": "1"})).json()["metadata"]["resourceVersion"]
            bound: dict[str, float] = {}
            created: dict[str, float] = {}
            done = asyncio.Event()
            watcher = asyncio.create_task(_watch_bindings(http, rv, bound, pods, done))
            bodies = [(f"pod-{i}", _body(POD_TEMPLATE, f"pod-{i}")) for i in range(pods)]
            cpu0 = _cpu_seconds(sched.pid)
            api0, me0 = _cpu_seconds(api.pid), time.process_time()
            t0 = time.perf_counter()
            await _create_all(http, ca, PODS_PATH, bodies, concurrency, created)
            t_created = time.perf_counter() - t0
            try:
                await asyncio.wait_for(done.wait(), timeout)
            except asyncio.TimeoutError:
                print(f"timed out: {len(bound)}/{pods} pods bound", file=sys.stderr)
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            sched_cpu = _cpu_seconds(sched.pid) - cpu0
            api_cpu, bench_cpu = _cpu_seconds(api.pid) - api0, time.process_time() - me0
            await http.aclose()
        finally:
            if sched is not None:
                _stop(sched)
            _stop(api)
            api_log.close()
            sched_log.close()
    last = max(bound.values(), default=t0)
    lat = [max(0.0, bound[n] - created[n]) for n in bound if n in created]
    return {"nodes": nodes, "pods": pods, "bound": len(bound),
            "pods_per_s": round(len(bound) / (last - t0), 1) if last > t0 else 0.0,
            "p50_ms": round(_percentile(lat, 0.5) * 1000, 1),
            "p99_ms": round(_percentile(lat, 0.99) * 1000, 1),
            "creates_per_s": round(pods / t_created, 1), "scheduler_cpu_s": round(sched_cpu, 1),
            "apiserver_cpu_s": round(api_cpu, 1), "bench_cpu_s": round(bench_cpu, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="seconds to wait for every pod to be bound after the last create")
    ap.add_argument("--profile", metavar="FILE", help="run the scheduler under cProfile, "
                                                      "stats written to FILE")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = asyncio.run(run(args.nodes, args.pods, args.concurrency, args.timeout, args.profile))
    print(f"{res['nodes']} nodes, {res['bound']}/{res['pods']} pods bound: "
          f"{res['pods_per_s']} pods/s, creation->binding p50 {res['p50_ms']} ms, "
          f"p99 {res['p99_ms']} ms | creates {res['creates_per_s']}/s, "
          f"CPU s: scheduler {res['scheduler_cpu_s']}, apiserver {res['apiserver_cpu_s']}, "
          f"bench {res['bench_cpu_s']}")
    if args.json:
        print(json.dumps({k: res[k] for k in ("nodes", "pods", "pods_per_s", "p50_ms", "p99_ms")}))


if __name__ == "__main__":
    main()
