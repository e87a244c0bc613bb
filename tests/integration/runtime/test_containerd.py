"""Containerd lifecycle (root): restart keeping pods, no shim left after a hard stop,
and the offline nginx image serving under containerd.

A kubelet agent restart must not kill pods: ``stop(keep_pods=True)`` leaves shims
running, a new containerd on the same data dir reconnects to them. And when pods are
left behind by a crash, ``kill_shims`` finds the shims working in the task bundles of
containerd's state dir (checked against the shims serving its socket) and kills them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from kubelet.runtime.containerd import find_shims, kill_shims, process_argv, shim_pids, shim_socket
from kubelet.runtime.interface import ContainerConfig, ContainerState, SandboxState
from tests.support.runtime_node import BUSYBOX, CRIHarness, build_images, cri_node, missing_node_tools

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.root]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def node(tmp_path_factory: pytest.TempPathFactory, images_dir: Path) -> AsyncIterator[CRIHarness]:
    if os.geteuid() != 0:
        pytest.skip("needs root (containerd, CNI)")
    if missing := missing_node_tools():
        pytest.skip(f"missing: {', '.join(missing)}")
    async with cri_node(tmp_path_factory.mktemp("ctrd"), images_dir) as h:
        assert isinstance(h, CRIHarness)
        yield h


async def _pod(h: CRIHarness, name: str) -> tuple[str, str]:
    sc = h.sandbox_config(name)
    sid = await h.rt.run_pod_sandbox(sc)
    cc = ContainerConfig(name="c", image=BUSYBOX, command=["sleep", "1000"], log_path="c/0.log")
    cid = await h.rt.create_container(sid, cc, sc)
    await h.rt.start_container(cid)
    return sid, cid


async def test_restart_keeps_pods(node: CRIHarness) -> None:
    sid, cid = await _pod(node, "survivor")
    shims = find_shims(node.node.socket)
    assert shims, "a running pod has a shim serving our socket"
    for shim in shims:  # we know where each shim's own socket is
        sock = shim_socket(process_argv(shim))
        assert sock is not None and sock.is_socket()
    await node.rt.close()
    await node.node.stop(keep_pods=True)
    assert find_shims(node.node.socket) == shims  # the pod outlives containerd
    t0 = time.monotonic()
    await node.node.start()
    node.record("containerd restart", time.monotonic() - t0)
    assert (await node.rt.pod_sandbox_status(sid)).state == SandboxState.READY
    assert (await node.rt.container_status(cid)).state == ContainerState.RUNNING
    r = await node.rt.exec_sync(cid, ["cat", "/etc/hostname"], timeout=5)
    assert r.stdout == b"survivor\n"
    await node.rt.stop_pod_sandbox(sid)
    await node.rt.remove_pod_sandbox(sid)
    assert find_shims(node.node.socket) == []


async def test_orphaned_shims_are_killed(node: CRIHarness) -> None:
    sid, cid = await _pod(node, "orphan")
    await node.rt.close()
    await node.node.stop(keep_pods=True)
    shims = find_shims(node.node.socket)
    sockets = [shim_socket(process_argv(p)) for p in shims]
    assert shims and all(s is not None and s.exists() for s in sockets)
    # what killall and stop() go by: shims working in our task bundles, not command lines
    assert shim_pids(node.node.options.state) == shims
    assert await kill_shims(node.node.socket, state_dir=node.node.options.state) == []
    assert find_shims(node.node.socket) == []
    assert not any(s is not None and s.exists() for s in sockets)
    await node.node.start()  # containerd notices the dead task; CRI cleanup still works
    assert (await node.rt.container_status(cid)).state in (ContainerState.EXITED, ContainerState.UNKNOWN)
    await node.rt.stop_pod_sandbox(sid)
    await node.rt.remove_pod_sandbox(sid)
    assert await node.rt.list_pod_sandboxes() == []


@pytest.mark.skipif(shutil.which("nginx") is None, reason="the host has no nginx to copy")
async def test_offline_nginx_image_serves_and_stops_gracefully(node: CRIHarness, images_dir: Path) -> None:
    await asyncio.to_thread(build_images, images_dir, ("nginx",))
    await node.node.import_image(images_dir / "nginx.tar")
    assert await node.rt.image_status("local/nginx:1.22") is not None
    sc = node.sandbox_config("nginx")
    sid = await node.rt.run_pod_sandbox(sc)
    try:
        cc = ContainerConfig(name="nginx", image="local/nginx:1.22", log_path="nginx/0.log")
        cid = await node.rt.create_container(sid, cc, sc)
        await node.rt.start_container(cid)
        ip = (await node.rt.pod_sandbox_status(sid)).ip
        body = b""
        for _ in range(50):
            try:
                reader, writer = await asyncio.open_connection(ip, 80)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.write(b"GET / HTTP/1.0\r\n\r\n")
            body = await reader.read()
            writer.close()
            break
        assert b"200 OK" in body and b"Welcome to nginx!" in body
        t0 = time.monotonic()
        await node.rt.stop_container(cid, timeout=10)  # the image's SIGQUIT: graceful
        st = await node.rt.container_status(cid)
        assert st.exit_code == 0 and time.monotonic() - t0 < 5
        log = Path(st.log_path).read_text()
        assert '"GET / HTTP/1.0" 200' in log  # access log went to stdout
    finally:
        await node.rt.stop_pod_sandbox(sid)
        await node.rt.remove_pod_sandbox(sid)
