"""The chaos suite's cluster: every component a process of its own, so each can be
SIGKILLed and started again (by the pid we started, never by name).

Owns `Cluster`: `pykube apiserver` (sqlite, or etcd when given), `pykube controller-manager`
and `pykube scheduler` (each holding its Lease under a stable identity, as `pykube server`
runs them, so a restarted one takes its Lease back at once), and two hollow-kubelet processes
(`python -m kubelet.hollow`, two fake-runtime nodes each, as kubemark). `kill(name)` sends
SIGKILL and starts the component again on the same data dir and port. Logs go to
`<base>/<name>.log`; `stop()` ends everything it started.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

PYKUBE = [sys.executable, "-m", "pykube.main"]
HOLLOW = [sys.executable, "-m", "kubelet.hollow"]
KILLABLE = ("apiserver", "controller-manager", "scheduler", "kubelets-a", "kubelets-b")


@dataclass
class Cluster:
    base: Path
    port: int
    store: str | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    kills: dict[str, int] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "admin.kubeconfig"

    def argv(self, name: str) -> list[str]:
        kc = str(self.kubeconfig)
        if name == "apiserver":
            extra = ["--datastore-endpoint", self.store] if self.store else []
            return [*PYKUBE, "apiserver", "--data-dir", str(self.data_dir), "--secure-port", str(self.port), *extra]
        if name == "controller-manager":
            # the root CA it publishes (kube-root-ca.crt) is what every pod's service
            # account volume needs before it can start, as under `pykube server`
            return [*PYKUBE, "controller-manager", "--kubeconfig", kc, "--leader-elect-identity", "chaos-cm",
                    "--node-monitor-grace-period", "60s",
                    "--root-ca-file", str(self.data_dir / "server" / "tls" / "server-ca.crt")]
        if name == "scheduler":
            return [*PYKUBE, "scheduler", "--kubeconfig", kc, "--leader-elect=false"]
        if name.startswith("kubelets-"):
            tag = name.rsplit("-", 1)[1]
            cidr = "10.244.0.0/17" if tag == "a" else "10.244.128.0/17"
            return [*HOLLOW, "--kubeconfig", kc, "--count", "2", "--prefix", f"chaos-{tag}-",
                    "--cidr-base", cidr, "--data-dir", str(self.base / name)]
        raise ValueError(name)

    def start(self, name: str) -> None:
        with open(self.base / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(self.argv(name), stdin=subprocess.DEVNULL,
                                                stdout=log, stderr=log, cwd=os.getcwd())

    def kill(self, name: str) -> None:
        """SIGKILL, then the same component again."""
        p = self.procs[name]
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.kills[name] = self.kills.get(name, 0) + 1
        self.start(name)

    def alive(self) -> dict[str, bool]:
        return {n: p.poll() is None for n, p in self.procs.items()}

    def log_tail(self, name: str, size: int = 2000) -> str:
        try:
            return (self.base / f"{name}.log").read_text(errors="replace")[-size:]
        except OSError:
            return ""

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            p = self.procs[name]
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
