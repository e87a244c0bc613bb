"""The processes of a benchmark cluster, each on its own: apiserver, controller-manager,
scheduler and groups of hollow nodes, plus what `/proc` says about them.

Owns `BenchCluster` (starts `pykube apiserver` on a free port with its data dir, then the
controller-manager and the scheduler without leader election, then `python -m
kubelet.hollow` processes of `per_process` hollow nodes each, each group with its own
/16 of pod CIDRs; stops them all, in reverse order, by the pids it started), `rss_mib` and
`cpu_seconds` of a pid, and `connect()`, an httpx client with the admin token. Each
process's stderr goes to `<data dir>/<name>.log`, whose tail is printed when it dies.
"""
from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apiserver.storage.etcd_server import free_port  # noqa: E402


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the benchmark dies, however it dies."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def rss_mib(pid: int) -> float:
    """Resident set size of `pid` in MiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds `pid` has used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.popen.pid

    def check(self) -> None:
        if self.popen.poll() is not None:
            tail = self.log_path.read_bytes()[-3000:].decode(errors="replace")
            raise SystemExit(f"{self.name} exited with {self.popen.returncode}:\n{tail}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.log.close()


@dataclass
class BenchCluster:
    data_dir: Path
    nodes: int
    per_process: int = 100
    datastore: str | None = None          # None: the apiserver's default (sqlite in the data dir)
    profile_dir: Path | None = None       # py-spy profiles of the control plane go here
    control_plane: dict[str, Proc] = field(default_factory=dict)
    hollow: list[Proc] = field(default_factory=list)
    profilers: list[Proc] = field(default_factory=list)

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "admin.kubeconfig"

    def _spawn(self, name: str, args: list[str]) -> Proc:
        log_path = self.data_dir / f"{name}.log"
        log = open(log_path, "wb")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        popen = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                 stderr=log, preexec_fn=_die_with_parent)
        return Proc(name, popen, log_path, log)

    def start_profilers(self) -> None:
        """py-spy (sampling, 20 Hz) on each control-plane process, until `stop_profilers`;
        one `<name>.txt` of collapsed stacks each in `profile_dir`."""
        assert self.profile_dir is not None
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        spy = str(Path(sys.executable).parent / "py-spy")
        for name, proc in self.control_plane.items():
            out = self.profile_dir / f"{name}.txt"
            log = open(self.profile_dir / f"{name}.spy.log", "wb")
            popen = subprocess.Popen([spy, "record", "--nonblocking", "-r", "20", "-f", "raw",
                                      "-o", str(out), "--pid", str(proc.pid)],
                                     stdout=log, stderr=subprocess.STDOUT)
            self.profilers.append(Proc(f"py-spy {name}", popen, out, log))

    def stop_profilers(self) -> None:
        for p in self.profilers:
            if p.popen.poll() is None:
                p.popen.send_signal(signal.SIGINT)   # py-spy writes its output on SIGINT
                try:
                    p.popen.wait(60)
                except subprocess.TimeoutExpired:
                    p.popen.kill()
                    p.popen.wait()
            p.log.close()
        self.profilers.clear()

    async def start_control_plane(self) -> httpx.AsyncClient:
        args = ["-m", "pykube.main", "apiserver", "--data-dir", str(self.data_dir),
                "--secure-port", str(free_port())]
        if self.datastore:
            args += ["--datastore-endpoint", self.datastore]
        self.control_plane["apiserver"] = self._spawn("apiserver", args)
        http = await self._connect()
        kc = str(self.kubeconfig)
        self.control_plane["controller-manager"] = self._spawn(
            "controller-manager", ["-m", "pykube.main", "controller-manager", "--kubeconfig", kc,
                                   "--leader-elect=false", "--root-ca-file",
                                   str(self.data_dir / "server/tls/server-ca.crt")])
        self.control_plane["scheduler"] = self._spawn(
            "scheduler", ["-m", "scheduler.cli", "--kubeconfig", kc, "--leader-elect=false"])
        return http

    async def _connect(self) -> httpx.AsyncClient:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            self.control_plane["apiserver"].check()
            if self.kubeconfig.exists():
                http = connect(self.kubeconfig, self.data_dir / "server/tls/server-ca.crt")
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        return http
                except httpx.HTTPError:
                    pass
                await http.aclose()
            await asyncio.sleep(0.2)
        raise SystemExit("the apiserver did not become ready")

    def start_hollow_nodes(self, lease_interval: float | None = None) -> None:
        """ceil(nodes / per_process) processes named hollow-<j>-<i>; group j's pod CIDRs are
        /24s of 10.<j+1>.0.0/16 (below the service range 10.96.0.0/12)."""
        remaining, j = self.nodes, 0
        while remaining > 0:
            count = min(self.per_process, remaining)
            if j + 1 >= 96:
                raise SystemExit("too many hollow-node processes for the 10.<j>.0.0/16 CIDR plan")
            args = ["-m", "kubelet.hollow", "--kubeconfig", str(self.kubeconfig), "--count", str(count),
                    "--prefix", f"hollow-{j}-", "--cidr-base", f"10.{j + 1}.0.0/16",
                    "--data-dir", str(self.data_dir / f"hollow-{j}")]
            self.hollow.append(self._spawn(f"hollow-{j}", args))
            remaining -= count
            j += 1

    def check(self) -> None:
        for p in [*self.control_plane.values(), *self.hollow]:
            p.check()

    def stop(self) -> None:
        self.stop_profilers()
        for p in reversed(self.hollow):
            p.stop()
        for name in ("scheduler", "controller-manager", "apiserver"):
            if name in self.control_plane:
                self.control_plane[name].stop()

    def store_bytes(self) -> int:
        """The size of the sqlite store (database and its write-ahead log) in the data dir."""
        return sum(p.stat().st_size for p in self.data_dir.rglob("*.db*") if p.is_file())


def connect(kubeconfig: Path, ca: Path) -> httpx.AsyncClient:
    cfg = yaml.safe_load(kubeconfig.read_text())
    return httpx.AsyncClient(
        base_url=cfg["clusters"][0]["cluster"]["server"], verify=str(ca),
        headers={"Authorization": "Bearer " + cfg["users"][0]["user"]["token"]},
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
        timeout=httpx.Timeout(120))
