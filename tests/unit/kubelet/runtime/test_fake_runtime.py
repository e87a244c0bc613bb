"""FakeRuntime beyond the shared contract: hollow-node scale, planned lives, delays, IPs."""

from __future__ import annotations

import asyncio
import time
import tracemalloc

import pytest

from kubelet.runtime.fake import FakeRuntime, IPPool
from kubelet.runtime.fakeproc import FakeProcess, answer_exec, plan
from kubelet.runtime.interface import (
    LABEL_POD_UID,
    ContainerConfig,
    ContainerState,
    ExecResult,
    Runtime,
    RuntimeServiceError,
    SandboxConfig,
)


def test_both_runtimes_satisfy_the_protocol() -> None:
    from kubelet.runtime.cri import CRIRuntime

    assert isinstance(FakeRuntime(), Runtime)
    assert isinstance(CRIRuntime("/nonexistent.sock"), Runtime)


def test_plan_reads_a_tiny_shell() -> None:
    assert plan(["sh", "-c", "echo hi; echo err >&2; exit 3"]) == FakeProcess(
        3, 0.0, [("stdout", "hi"), ("stderr", "err")]
    )
    assert plan(["sh", "-c", "sleep 2 && exit 5"]) == FakeProcess(5, 2.0, [])
    assert plan(["/bin/true"]).exit_code == 0 and plan(["false"]).exit_code == 1
    assert plan(["sleep", "1000"]) == FakeProcess(0, 1000.0, [])
    assert plan(["nginx"]).exit_code is None  # runs until stopped
    assert plan(["sh", "-c", "echo start; exec httpd -f"]) == FakeProcess(None, 0.0, [("stdout", "start")])
    assert plan([]).exit_code is None and plan(["sh", "-c", "'unbalanced"]).exit_code is None


def test_answer_exec() -> None:
    canned = ExecResult(0, b"canned")
    assert answer_exec(["cat", "/etc/hostname"], "h1", canned) == ExecResult(0, b"h1\n")
    assert answer_exec(["sh", "-c", "exit 7"], "h1", canned).exit_code == 7
    assert answer_exec(["wget", "-qO-", "x"], "h1", canned) is canned


def test_ip_pool_skips_gateway_and_reuses_released() -> None:
    pool = IPPool("10.9.0.0/30")  # hosts .1 (gateway) and .2
    assert pool.allocate() == "10.9.0.2"
    with pytest.raises(RuntimeServiceError):
        pool.allocate()
    pool.release("10.9.0.2")
    assert pool.allocate() == "10.9.0.2"
    pool = IPPool("10.9.0.0/29")  # round-robin: a released IP is not reused at once
    a, b = pool.allocate(), pool.allocate()
    pool.release(a)
    assert (a, b, pool.allocate()) == ("10.9.0.2", "10.9.0.3", "10.9.0.4")
    assert pool.allocated == {"10.9.0.3", "10.9.0.4"}


def _sandbox(i: int) -> SandboxConfig:
    return SandboxConfig(name=f"p{i}", namespace="hollow", uid=f"uid-{i}")


async def test_hundreds_of_pods_are_cheap() -> None:
    rt = FakeRuntime(pod_cidr="10.244.0.0/22", images=["local/pause:1"])
    tracemalloc.start()
    t0 = time.monotonic()
    for i in range(500):
        sc = _sandbox(i)
        sid = await rt.run_pod_sandbox(sc)
        cid = await rt.create_container(sid, ContainerConfig(name="c", image="local/pause:1"), sc)
        await rt.start_container(cid)
    elapsed = time.monotonic() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 2.0 and peak < 20 * 1024 * 1024
    assert rt.counts == {"sandboxes": 500, "containers": 500}
    running = await rt.list_containers(state=ContainerState.RUNNING)
    assert len(running) == 500
    assert len(await rt.list_pod_sandboxes(labels={LABEL_POD_UID: "uid-42"})) == 1
    assert len(rt.ips.allocated) == 500 and len(asyncio.all_tasks()) == 1


async def test_planned_exit_happens_lazily_and_delays_apply() -> None:
    rt = FakeRuntime(images=["busybox"], start_delay=0.05, sandbox_delay=0.05)
    sc = _sandbox(1)
    t0 = time.monotonic()
    sid = await rt.run_pod_sandbox(sc)
    cid = await rt.create_container(sid, ContainerConfig(name="c", image="busybox", command=["sleep", "0.1"]), sc)
    await rt.start_container(cid)
    assert time.monotonic() - t0 >= 0.1
    assert (await rt.container_status(cid)).state == ContainerState.RUNNING
    await asyncio.sleep(0.12)
    st = await rt.container_status(cid)
    assert (st.state, st.exit_code, st.reason) == (ContainerState.EXITED, 0, "Completed")


async def test_images_pull_and_failures() -> None:
    rt = FakeRuntime(pull_failures=["local/broken:1"])
    assert await rt.image_status("nginx") is None
    ref = await rt.pull_image("nginx")
    assert ref.startswith("docker.io/library/nginx@sha256:")
    info = await rt.image_status("docker.io/library/nginx:latest")
    assert info is not None and info.repo_tags == ["docker.io/library/nginx:latest"]
    with pytest.raises(RuntimeServiceError):
        await rt.pull_image("local/broken:1")
    sc = _sandbox(2)
    sid = await rt.run_pod_sandbox(sc)
    with pytest.raises(RuntimeServiceError):  # never pulled
        await rt.create_container(sid, ContainerConfig(name="c", image="local/other:1"), sc)
    await rt.remove_image("nginx")
    assert await rt.list_images() == []


async def test_host_network_sandbox_has_no_pod_ip() -> None:
    rt = FakeRuntime()
    sid = await rt.run_pod_sandbox(SandboxConfig(name="h", namespace="n", uid="u", host_network=True))
    assert (await rt.pod_sandbox_status(sid)).ip == "" and rt.ips.allocated == set()
