"""Runtime test backends: a hollow one (FakeRuntime) and a real private node (CRI).

``Harness`` wraps a Runtime with what tests need beyond it (sandbox configs, IP
bookkeeping probes, timings). ``cri_node`` is the real one: it starts a private
containerd under a tmp dir with a CNI bridge named ``pkt<hex>`` on a free
``10.88.x.0/24``, and imports the images ``build_images`` made with
deploy/images/build.py. Teardown runs pass or fail: every sandbox is stopped and removed through CRI,
containerd is stopped, shims for its socket are killed, mounts under the tmp dir are
undone, the bridge is deleted, ``net.ipv4.ip_forward`` and the cgroup parent are
restored, and host dirs containerd/CNI created (``/run/containerd``, ``/var/lib/cni``)
are removed when empty. It then checks that no iptables rule names the bridge, the
subnet or the CNI network.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from kubelet.runtime.containerd import Containerd, ContainerdOptions, kill_shims, unmount_all
from kubelet.runtime.fake import FakeRuntime
from kubelet.runtime.interface import Runtime, SandboxConfig

REPO = Path(__file__).resolve().parents[2]
BUILDER = REPO / "deploy" / "images" / "build.py"
BUSYBOX = "local/busybox:1"
PAUSE = "local/pause:1"
IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")
HOST_DIRS = [Path("/run/containerd"), Path("/var/lib/cni")]  # made by containerd / libcni
NEEDED = ["containerd", "ctr", "runc", "umoci", "ip", "iptables-save"]


class Harness:
    """What a contract test needs from a backend, beyond the Runtime itself."""

    kind = "fake"
    real = False  # a real network: pod IPs answer from the host

    def __init__(self, rt: Runtime, log_root: Path) -> None:
        self.rt = rt
        self.log_root = log_root
        self.timings: dict[str, list[float]] = {}

    def sandbox_config(self, name: str, labels: dict[str, str] | None = None) -> SandboxConfig:
        uid = str(uuid.uuid4())
        return SandboxConfig(
            name=name,
            namespace="contract",
            uid=uid,
            hostname=name,
            log_directory=str(self.log_root / f"contract_{name}_{uid}"),
            labels=labels or {},
            annotations={"pykube.test/annotation": name},
            cgroup_parent=self.cgroup_parent(uid),
        )

    def cgroup_parent(self, uid: str) -> str:
        return ""

    def ip_allocated(self, ip: str) -> bool:
        assert isinstance(self.rt, FakeRuntime)
        return ip in self.rt.ips.allocated

    def in_pod_cidr(self, ip: str) -> bool:
        assert isinstance(self.rt, FakeRuntime)
        return ipaddress.ip_address(ip) in self.rt.ips.network

    async def reconnect(self) -> Runtime:
        """A runtime as a restarted kubelet would get it."""
        return self.rt

    def record(self, what: str, seconds: float) -> None:
        self.timings.setdefault(what, []).append(seconds)


class CRIHarness(Harness):
    kind = "cri"
    real = True

    def __init__(self, node: Containerd, log_root: Path, subnet: str, ipam_dir: Path, cg_root: str) -> None:
        super().__init__(node.runtime(), log_root)
        self.node, self.subnet, self.ipam_dir, self.cg_root = node, subnet, ipam_dir, cg_root

    def cgroup_parent(self, uid: str) -> str:
        return f"/{self.cg_root}/pod{uid}"

    def ip_allocated(self, ip: str) -> bool:
        return any((d / ip).exists() for d in self.ipam_dir.iterdir() if d.is_dir())

    def in_pod_cidr(self, ip: str) -> bool:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(self.subnet)

    async def reconnect(self) -> Runtime:
        return self.node.runtime()


# ---- host helpers ----------------------------------------------------------------


def _sh(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout


def _free_subnet() -> str:
    used = _sh("ip", "-4", "-o", "addr") + _sh("ip", "-4", "route")
    for x in random.sample(range(1, 255), 254):
        if f"10.88.{x}." not in used:
            return f"10.88.{x}.0/24"
    raise RuntimeError("no free 10.88.x.0/24")


def cni_conflist(network: str, bridge: str, subnet: str, ipam_dir: Path) -> dict[str, object]:
    gateway = subnet.rsplit(".", 1)[0] + ".1"
    return {
        "cniVersion": "0.4.0",
        "name": network,
        "plugins": [
            {
                "type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": subnet, "gateway": gateway}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(ipam_dir),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
            {"type": "loopback"},
        ],
    }


def _remove_cgroups(name: str) -> None:
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        top = hierarchy / name
        if not top.is_dir():
            continue
        for d in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            d.rmdir()
        top.rmdir()


def _remove_if_empty(path: Path) -> None:
    for d in sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(d.iterdir()):
            d.rmdir()
    if path.is_dir() and not any(path.iterdir()):
        path.rmdir()


def build_images(out: Path, names: tuple[str, ...] = ("pause", "busybox")) -> Path:
    """Build (or reuse) the offline images into ``out`` with deploy/images/build.py."""
    subprocess.run([sys.executable, str(BUILDER), "--out", str(out), *names], check=True, capture_output=True)
    return out


def root_node_images(out: Path) -> Path:
    """The offline pause and busybox images for an end-to-end module on real containerd;
    skips the module unless run as root on a machine with the node tools."""
    import pytest
    if os.geteuid() != 0:
        pytest.skip("needs root (containerd, CNI, iptables)")
    if missing := missing_node_tools():
        pytest.skip(f"missing: {', '.join(missing)}")
    return build_images(out)


def missing_node_tools() -> list[str]:
    tools = [b for b in NEEDED if shutil.which(b) is None]
    return tools + [p for p in ("/usr/lib/cni/bridge", "/usr/lib/cni/host-local") if not os.path.exists(p)]


@contextlib.asynccontextmanager
async def cri_node(base: Path, images: Path) -> AsyncIterator[Harness]:
    """A private containerd + CNI node under ``base`` with ``images`` imported."""
    tag = uuid.uuid4().hex[:6]
    bridge, network, cg_root = f"pkt{tag}", f"pkt-{tag}", f"pykube-test-{tag}"
    subnet = _free_subnet()
    ipam_dir = base / "cni" / "ipam"
    opts = ContainerdOptions(data_dir=base / "node")
    node = Containerd(opts)
    forward = IP_FORWARD.read_text().strip()
    host_dirs_before = {d: d.exists() for d in HOST_DIRS}
    nat_before = _nat_table_exists()
    harness: CRIHarness | None = None
    problems: list[str] = []
    try:
        assert opts.cni_conf_dir is not None
        opts.cni_conf_dir.mkdir(parents=True)
        (opts.cni_conf_dir / "10-pykube-test.conflist").write_text(
            json.dumps(cni_conflist(network, bridge, subnet, ipam_dir))
        )
        t0 = time.monotonic()
        await node.start()
        start_s = time.monotonic() - t0
        await node.import_images_dir(images)
        harness = CRIHarness(node, base / "logs", subnet, ipam_dir, cg_root)
        harness.record("containerd ready", start_s)
        yield harness
    finally:
        if harness is not None:
            await harness.rt.close()
            for what, secs in harness.timings.items():
                print(f"\n[cri timings] {what}: " + ", ".join(f"{s:.3f}s" for s in secs))
        steps = [
            ("stop containerd", node.stop()),  # removes every sandbox through CRI first
            ("kill shims", _no_shims(opts.socket)),
            ("unmount", unmount_all(base)),
            ("host", _cleanup_host(bridge, cg_root, forward, host_dirs_before)),
            ("iptables", _no_rules(bridge, network, subnet)),
            ("nat table", _drop_empty_nat_table(nat_before)),
        ]
        for name, step in steps:  # every step runs even when an earlier one failed
            try:
                await step
            except Exception as e:  # noqa: BLE001 - reported below, after all steps ran
                problems.append(f"{name}: {e}")
        for p in problems:
            print(f"\n[cri cleanup] {p}")
    assert not problems, "cleanup left things behind:\n" + "\n".join(problems)


async def _no_shims(socket: Path) -> None:
    left = await kill_shims(socket)
    if left:
        raise RuntimeError(f"shims still alive: {left}")


def _table_exists(table: str) -> bool:
    return shutil.which("nft") is not None and f"table ip {table}" in _sh("nft", "list", "tables")


def _nat_table_exists() -> bool:
    return _table_exists("nat")


async def _drop_empty_table(table: str, existed_before: bool) -> None:
    """iptables-nft calls create ``table ip nat`` / ``table ip filter``; when one was not
    there before and holds no rule now, delete it so the host is as we found it."""
    if existed_before or not await asyncio.to_thread(_table_exists, table):
        return
    listing = await asyncio.to_thread(_sh, "nft", "list", "table", "ip", table)
    skeleton = ("table ", "chain ", "type ", "}")
    if all(line.strip().startswith(skeleton) for line in listing.splitlines() if line.strip()):
        await asyncio.to_thread(_sh, "nft", "delete", "table", "ip", table)


async def _drop_empty_nat_table(existed_before: bool) -> None:
    await _drop_empty_table("nat", existed_before)


async def _no_rules(bridge: str, network: str, subnet: str) -> None:
    rules = await asyncio.to_thread(_sh, "iptables-save")
    needles = (bridge, network, subnet.rsplit(".", 1)[0] + ".")
    found = [line for line in rules.splitlines() if any(n in line for n in needles)]
    if found:
        raise RuntimeError("rules left: " + "; ".join(found))
    if Path(f"/sys/class/net/{bridge}").exists():
        raise RuntimeError(f"bridge {bridge} still present")


async def _cleanup_host(bridge: str, cg_root: str, forward: str, host_dirs_before: dict[Path, bool]) -> None:
    if Path(f"/sys/class/net/{bridge}").exists():
        proc = await asyncio.create_subprocess_exec("ip", "link", "del", bridge)
        await proc.wait()
    IP_FORWARD.write_text(forward + "\n")
    await asyncio.to_thread(_remove_cgroups, cg_root)
    for d, existed in host_dirs_before.items():
        if not existed and d.exists():
            await asyncio.to_thread(_remove_if_empty, d)
