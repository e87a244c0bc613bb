"""The server's own etcd member, as k3s' embedded etcd: `--cluster-init` and `--server URL`.

Owns the member's life under `<data dir>/server/db/etcd` (Debian's `etcd` binary, plain
HTTP on the node's address: clients on :2379, peers on :2380, as NODE-STACK.md's etcd):
- `pykube server --cluster-init` starts a one-member cluster;
- `pykube server --server https://S:6443 --token T` joins: `etcdctl member add` through
  the etcd of S's host (a member left over from an earlier try at the same peer URL is
  removed first), then this member starts with `--initial-cluster-state existing`;
- a member whose data dir exists just starts again (it rejoins with its own identity).
The member is this server's child and dies with it (PR_SET_PDEATHSIG), as it would with
the machine: a SIGKILLed server takes its member along, a restarted one brings it back.
The bootstrap data every server must share (the cluster CA and its key, the
service-account key, the admin token) is kept in etcd under `/pykube/bootstrap`, sealed
with AES-GCM under a key derived from the node token's secret (bootstrap.py).
"""
from __future__ import annotations

import asyncio
import ctypes
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

from pykube.hostnet import run
from pykube.supervisor import Component, Ready

log = logging.getLogger("pykube.etcd")

CLIENT_PORT, PEER_PORT = 2379, 2380


def die_with_parent() -> None:
    """preexec_fn: SIGKILL this child when the server process dies (Linux prctl)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG


@dataclass
class Member:
    name: str
    ip: str
    data_dir: Path                      # <data dir>/server/db/etcd

    @property
    def client_url(self) -> str:
        return f"http://{self.ip}:{CLIENT_PORT}"

    @property
    def peer_url(self) -> str:
        return f"http://{self.ip}:{PEER_PORT}"

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "member").is_dir()

    def argv(self, initial_cluster: str = "", state: str = "new") -> list[str]:
        listen = f"{self.client_url},http://127.0.0.1:{CLIENT_PORT}" if self.ip != "127.0.0.1" else self.client_url
        argv = ["etcd", "--name", self.name, "--data-dir", str(self.data_dir),
                "--listen-client-urls", listen, "--advertise-client-urls", self.client_url,
                "--listen-peer-urls", self.peer_url, "--initial-advertise-peer-urls", self.peer_url,
                "--heartbeat-interval", "100", "--election-timeout", "1000", "--log-level", "warn"]
        if not self.initialized:
            argv += ["--initial-cluster", initial_cluster or f"{self.name}={self.peer_url}",
                     "--initial-cluster-state", state]
        return argv


def etcd_endpoint_of(server_url: str) -> str:
    """`https://10.0.0.11:6443` → `http://10.0.0.11:2379`: the etcd a joining server asks."""
    host = server_url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    return f"http://{host}:{CLIENT_PORT}"


def parse_member_add(out: str) -> str:
    """The ETCD_INITIAL_CLUSTER value `etcdctl member add` prints."""
    for line in out.splitlines():
        if line.startswith("ETCD_INITIAL_CLUSTER="):
            return line.split("=", 1)[1].strip().strip('"')
    raise RuntimeError(f"etcdctl member add printed no ETCD_INITIAL_CLUSTER:\n{out}")


async def etcdctl(endpoints: str, *args: str, timeout: float = 20.0) -> str:
    code, out, err = await run("etcdctl", "--endpoints", endpoints, "--command-timeout=5s", *args, timeout=timeout)
    if code != 0:
        raise RuntimeError(f"etcdctl {' '.join(args[:2])} at {endpoints}: {err.strip() or out.strip()}")
    return out


async def member_add(existing: str, m: Member) -> str:
    """Register `m` with the running cluster; its --initial-cluster value."""
    listing = await etcdctl(existing, "member", "list")
    for line in listing.splitlines():          # id, status, name, peer urls, client urls, learner
        fields = [f.strip() for f in line.split(",")]
        if len(fields) > 3 and m.peer_url in fields[3].split(" "):
            log.info("etcd: removing the earlier member %s at %s", fields[0], m.peer_url)
            await etcdctl(existing, "member", "remove", fields[0])
    return parse_member_add(await etcdctl(existing, "member", "add", m.name, f"--peer-urls={m.peer_url}"))


async def healthy(url: str) -> bool:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 2)
    except (OSError, asyncio.TimeoutError):
        return False
    try:
        writer.write(f"GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        body = await asyncio.wait_for(reader.read(), 3)
        return b'"health":"true"' in body
    except (OSError, asyncio.TimeoutError):
        return False
    finally:
        writer.close()


def component(m: Member, logs: Path, join: str = "") -> Component:
    """The member as a supervised component, ready once `/health` says true. `join`: an
    existing member's client URL, for a member that is not initialized yet."""
    async def run_member(ready: Ready) -> None:
        initial, state = "", "new"
        if join and not m.initialized:
            initial, state = await member_add(join, m), "existing"
        m.data_dir.mkdir(parents=True, exist_ok=True)
        m.data_dir.chmod(0o700)
        logs.mkdir(parents=True, exist_ok=True)
        out = await asyncio.to_thread(open, logs / "etcd.log", "ab")
        try:
            proc = await asyncio.create_subprocess_exec(*m.argv(initial, state), stdin=asyncio.subprocess.DEVNULL,
                                                        stdout=out, stderr=out, preexec_fn=die_with_parent)
        except FileNotFoundError:
            raise RuntimeError("an embedded etcd needs etcd (Debian's etcd-server)") from None
        finally:
            out.close()
        try:
            for _ in range(300):
                if proc.returncode is not None:
                    raise RuntimeError(f"etcd exited with {proc.returncode}; see {logs / 'etcd.log'}")
                if await healthy(f"http://127.0.0.1:{CLIENT_PORT}"):
                    break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"etcd is not healthy after 30s; see {logs / 'etcd.log'}")
            log.info("etcd member %s serving on %s (peers %s)", m.name, m.client_url, m.peer_url)
            ready()
            code = await proc.wait()
            raise RuntimeError(f"etcd exited with {code}")
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 10)
                except asyncio.TimeoutError:
                    proc.kill()
                    await proc.wait()
    return Component("etcd", run_member, start_timeout=90.0)
