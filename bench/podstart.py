"""Pod startup latency through the kubelet, next to the raw CRI time, in the same run (root).

Starts a private containerd under a temporary data dir (where the kubelet would start
its own), with the offline busybox and pause images (deploy/images/build.py) imported
by the kubelet at start, so the image is warm; `pykube apiserver` as its own process;
and a kubelet in this process on that containerd. Then, after one untimed warm-up of
each, N rounds of: a raw start (RunPodSandbox + CreateContainer + StartContainer called
directly on the same containerd and CNI network, then removed, untimed) and a kubelet
pod (created already bound to the node, no scheduler in the path, timed from the create
call until a watch opened beforehand reports it Running). Interleaving gives both the
same machine: the same pods alive and the same background noise. Each start follows
`--gap` seconds of quiet. Prints p50 and p99 (nearest rank) of both and the ratio of the
p99s (Kubernetes' SLO: p99 under 5 s; our goal: within 1.5 times the raw CRI p99).
`--json` ends with one line {"pods", "p50_s", "p99_s", "raw_p50_s", "raw_p99_s", "ratio_p99"}.
Everything it made (pods, containerd, shims, mounts, bridge, cgroups) is removed at
the end.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.models import Pod
from client import kubeconfig
from client.rest import Client
from kubelet.config import KubeletConfig
from kubelet.kubelet import Kubelet
from kubelet.runtime.containerd import Containerd, ContainerdOptions
from kubelet.runtime.interface import ContainerConfig, Runtime, SandboxConfig
from kubelet.sync import remove_cgroups

REPO = Path(__file__).resolve().parent.parent
IMAGE = "local/busybox:1"


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def free_subnet() -> str:
    used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout + \
        subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    for x in range(1, 255):
        if f"10.87.{x}." not in used:
            return f"10.87.{x}.0/24"
    raise SystemExit("no free 10.87.x.0/24")


def nat_table() -> str:
    if shutil.which("nft") is None:
        return ""
    return subprocess.run(["nft", "list", "table", "ip", "nat"], capture_output=True, text=True).stdout


def drop_empty_nat_table() -> None:
    """The bridge plugin creates `table ip nat`; drop it again when it holds no rule."""
    skeleton = ("table ", "chain ", "type ", "}")
    listing = nat_table()
    if listing and all(line.strip().startswith(skeleton) for line in listing.splitlines() if line.strip()):
        subprocess.run(["nft", "delete", "table", "ip", "nat"], check=False)


def pod_body(name: str, node: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 0,
                     "containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "3600"]}]}}


async def start_apiserver(data_dir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    cmd = [sys.executable, "-m", "pykube.main", "apiserver", "--data-dir", str(data_dir), "--secure-port", "0"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    kc = data_dir / "admin.kubeconfig"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"apiserver exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        if kc.exists():
            client = Client(kubeconfig.load(kc), component="bench")
            try:
                await client.request("GET", "/readyz")
                await client.close()
                return proc, kc
            except Exception:  # noqa: BLE001 - not up yet
                await client.close()
        await asyncio.sleep(0.1)
    raise SystemExit("apiserver did not start")


class RunningWatch:
    """One watch on the namespace's pods, open before the first create, that resolves
    a future when a pod is first seen Running."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.task: asyncio.Task[None] | None = None
        self.probe = ""

    async def start(self) -> None:
        lst = await self.client.list(Pod, "default")
        self.stream = self.client.watch(Pod, "default", resource_version=lst.resource_version, timeout_seconds=3600)
        self.task = asyncio.create_task(self._run())
        self.probe = f"probe-{uuid.uuid4().hex[:6]}"  # the watch is open once it sees this pod
        fut = self.waiting[self.probe] = asyncio.get_running_loop().create_future()
        await self.client.create(pod_body(self.probe, "no-such-node"))
        await asyncio.wait_for(fut, 30)

    async def _run(self) -> None:
        async with self.stream:
            async for ev in self.stream:
                name = ev.object.metadata.name or ""
                fut = self.waiting.get(name)
                if fut is None or fut.done():
                    continue
                if name == self.probe or (ev.object.status and ev.object.status.phase == "Running"):
                    fut.set_result(time.perf_counter())

    async def time_pod(self, name: str, node: str) -> float:
        """Create a bound pod; seconds until the watch sees it Running."""
        fut = self.waiting[name] = asyncio.get_running_loop().create_future()
        t0 = time.perf_counter()
        await self.client.create(pod_body(name, node))
        return await asyncio.wait_for(fut, 120) - t0

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - stopping
                pass


async def raw_start(rt: Runtime, name: str, log_root: Path, cgroup_parent: str) -> float:
    """RunPodSandbox + CreateContainer + StartContainer, timed; then removed, untimed."""
    uid = str(uuid.uuid4())
    sc = SandboxConfig(name=name, namespace="bench", uid=uid, hostname=name,
                       log_directory=str(log_root / f"bench_{name}_{uid}"), cgroup_parent=f"{cgroup_parent}/pod{uid}")
    Path(sc.log_directory).mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    sid = await rt.run_pod_sandbox(sc)
    cid = await rt.create_container(sid, ContainerConfig(name="c", image=IMAGE, command=["sleep", "3600"],
                                                         log_path="c/0.log"), sc)
    await rt.start_container(cid)
    elapsed = time.perf_counter() - t0
    await rt.stop_pod_sandbox(sid)
    await rt.remove_pod_sandbox(sid)
    remove_cgroups(sc.cgroup_parent)
    shutil.rmtree(sc.log_directory, ignore_errors=True)
    return elapsed


async def measure(cfg: KubeletConfig, containerd: Containerd, base: Path, n: int, gap: float
                  ) -> tuple[list[float], list[float]]:
    """Kubelet pods and raw CRI starts, interleaved so both see the same machine."""
    proc, kc = await start_apiserver(base / "apiserver")
    client = Client(kubeconfig.load(kc), component="bench")
    kubelet = Kubelet(cfg, client=client)
    rt = containerd.runtime()
    lat: list[float] = []
    raw: list[float] = []
    try:
        await kubelet.start()
        while not kubelet.network_ready:
            await asyncio.sleep(0.1)
        watch = RunningWatch(client)
        await watch.start()
        await raw_start(rt, "raw-warmup", cfg.log_dir, cfg.cgroup_parent)  # untimed warm-ups
        await watch.time_pod("warmup", cfg.node_name)
        for i in range(n):
            await asyncio.sleep(gap)
            raw.append(await raw_start(rt, f"raw-{i}", cfg.log_dir, cfg.cgroup_parent))
            await asyncio.sleep(gap)
            lat.append(await watch.time_pod(f"pod-{i}", cfg.node_name))
        await watch.stop()
    finally:
        await rt.close()
        await kubelet.stop()
        await client.close()
        proc.terminate()
        proc.wait(10)
    return lat, raw


async def run(n: int, gap: float) -> dict[str, float]:
    tag = uuid.uuid4().hex[:6]
    cg_root = f"pykube-bench-{tag}"
    forward = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    host_dirs = {d: d.exists() for d in (Path("/run/containerd"), Path("/var/lib/cni"))}
    had_nat = bool(nat_table())
    with tempfile.TemporaryDirectory(prefix="pykube-podstart-") as d:
        base = Path(d)
        # housekeeping would remove the raw sandboxes as orphans: not during this run
        cfg = KubeletConfig(node_name=f"bench-{tag}", data_dir=base / "data", port=0, pod_cidr=free_subnet(),
                            cni_bridge=f"pkb{tag}", cni_network=f"pkb-{tag}", cgroup_parent=f"/{cg_root}/kubepods",
                            housekeeping_period=3600)
        subprocess.run([sys.executable, str(REPO / "deploy/images/build.py"), "--out", str(cfg.images_dir),
                        "pause", "busybox"], check=True, capture_output=True)
        # the containerd the kubelet would start for itself; the kubelet finds it answering
        containerd = Containerd(ContainerdOptions(data_dir=cfg.containerd_dir, cni_conf_dir=cfg.effective_cni_conf_dir))
        try:
            await containerd.start()
            lat, raw = await measure(cfg, containerd, base, n, gap)
        finally:
            await containerd.stop()  # removes every pod, kills shims, unmounts
            if Path(f"/sys/class/net/{cfg.cni_bridge}").exists():
                subprocess.run(["ip", "link", "del", cfg.cni_bridge], check=False)
            Path("/proc/sys/net/ipv4/ip_forward").write_text(forward)
            remove_cgroups(f"/{cg_root}")
            if not had_nat:
                drop_empty_nat_table()
            for hd, existed in host_dirs.items():
                if not existed and hd.exists():
                    shutil.rmtree(hd, ignore_errors=True)
    if os.environ.get("PODSTART_SAMPLES"):
        print("kubelet:", " ".join(f"{x:.3f}" for x in lat), "\nraw:", " ".join(f"{x:.3f}" for x in raw))
    p50, p99, rp50, rp99 = pct(lat, 50), pct(lat, 99), pct(raw, 50), pct(raw, 99)
    return {"pods": n, "p50_s": round(p50, 4), "p99_s": round(p99, 4), "raw_p50_s": round(rp50, 4),
            "raw_p99_s": round(rp99, 4), "ratio_p99": round(p99 / rp99, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=50)
    ap.add_argument("--gap", type=float, default=0.25,
                    help="seconds of quiet before each start, in both runs, so one start's background work "
                         "(shim, runc) is not billed to the next")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("podstart needs root (containerd, CNI)")
    r = asyncio.run(run(args.pods, args.gap))
    print(f"pod startup over {r['pods']} pods (create -> Running seen by a watch, warm image): "
          f"p50 {r['p50_s']:.3f} s  p99 {r['p99_s']:.3f} s")
    print(f"raw CRI (RunPodSandbox + CreateContainer + StartContainer):            "
          f"p50 {r['raw_p50_s']:.3f} s  p99 {r['raw_p99_s']:.3f} s")
    print(f"ratio p99 {r['ratio_p99']:.2f} (goal <= 1.5; Kubernetes SLO: p99 < 5 s)")
    if args.json:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
