"""The runtime contract: one suite, run against FakeRuntime and CRIRuntime (containerd).

Each test owns its sandboxes (the ``pods`` fixture removes them pass or fail). Checks
that need a real network (a pod answering on its IP from the host) skip on the fake.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from kubelet.runtime.interface import (
    LABEL_CONTAINER_NAME,
    LABEL_POD_NAME,
    LABEL_POD_NAMESPACE,
    LABEL_POD_UID,
    ContainerConfig,
    ContainerState,
    ContainerStatus,
    NotFoundError,
    RuntimeServiceError,
    SandboxConfig,
    SandboxState,
)
from tests.support.runtime_node import BUSYBOX, Harness

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def run_pod(h: Harness, pods: list[str], name: str, labels: dict[str, str] | None = None) -> tuple[str, SandboxConfig]:
    config = h.sandbox_config(name, labels)
    t0 = time.monotonic()
    sid = await h.rt.run_pod_sandbox(config)
    h.record("RunPodSandbox", time.monotonic() - t0)
    pods.append(sid)
    return sid, config


async def run_container(h: Harness, sid: str, sc: SandboxConfig, name: str, command: list[str]) -> str:
    config = ContainerConfig(
        name=name, image=BUSYBOX, command=command, log_path=f"{name}/0.log",
        labels={"pykube.test/role": name}, annotations={"pykube.test/c": name},
    )
    t0 = time.monotonic()
    cid = await h.rt.create_container(sid, config, sc)
    await h.rt.start_container(cid)
    h.record("CreateContainer+StartContainer", time.monotonic() - t0)
    return cid


async def wait_state(h: Harness, cid: str, state: ContainerState, timeout: float = 5.0) -> ContainerStatus:
    deadline = time.monotonic() + timeout
    while True:
        st = await h.rt.container_status(cid)
        if st.state == state or time.monotonic() > deadline:
            return st
        await asyncio.sleep(0.05)


async def http_get(ip: str, port: int, path: str, timeout: float = 5.0) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(ip, port), 1.0)
            writer.write(f"GET {path} HTTP/1.0\r\nHost: {ip}\r\n\r\n".encode())
            await writer.drain()
            body = await asyncio.wait_for(reader.read(), 2.0)
            writer.close()
            return body
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def test_version_and_status(harness: Harness) -> None:
    v = await harness.rt.version()
    assert v.runtime_name and v.runtime_version
    assert v.runtime_api_version == "v1"
    conditions = {c.type: c.status for c in await harness.rt.status()}
    assert conditions.get("RuntimeReady") is True
    assert conditions.get("NetworkReady") is True


async def test_sandbox_runs_with_ip_and_identity(harness: Harness, pods: list[str]) -> None:
    sid, sc = await run_pod(harness, pods, "sb1", labels={"app": "contract"})
    st = await harness.rt.pod_sandbox_status(sid)
    assert st.id == sid and st.state == SandboxState.READY
    assert (st.name, st.namespace, st.uid) == (sc.name, sc.namespace, sc.uid)
    assert st.ip and harness.in_pod_cidr(st.ip) and harness.ip_allocated(st.ip)
    assert st.labels[LABEL_POD_UID] == sc.uid and st.labels[LABEL_POD_NAME] == "sb1"
    assert st.labels[LABEL_POD_NAMESPACE] == "contract" and st.labels["app"] == "contract"
    assert st.annotations == sc.annotations


async def test_container_serves_on_pod_ip(harness: Harness, pods: list[str]) -> None:
    sid, sc = await run_pod(harness, pods, "web")
    cid = await run_container(harness, sid, sc, "httpd", ["httpd", "-f", "-p", "8080", "-h", "/etc"])
    st = await harness.rt.container_status(cid)
    assert st.state == ContainerState.RUNNING and st.started_at is not None
    assert st.finished_at is None and st.labels[LABEL_CONTAINER_NAME] == "httpd"
    assert st.image.endswith("local/busybox:1") and st.image_ref
    if not harness.real:
        return  # the status contract above holds for both; only a real node has a network
    ip = (await harness.rt.pod_sandbox_status(sid)).ip
    reply = await http_get(ip, 8080, "/hostname")
    assert reply.startswith(b"HTTP/1.") and b" 200 " in reply.split(b"\r\n", 1)[0]
    assert reply.endswith(b"\r\n\r\nweb\n")


async def test_exit_code_and_logs(harness: Harness, pods: list[str]) -> None:
    sid, sc = await run_pod(harness, pods, "job")
    script = "echo pykube-log-line; echo to-stderr >&2; exit 3"
    cid = await run_container(harness, sid, sc, "exiter", ["sh", "-c", script])
    st = await wait_state(harness, cid, ContainerState.EXITED)
    assert st.state == ContainerState.EXITED
    assert st.exit_code == 3 and st.reason == "Error"
    assert st.started_at is not None and st.finished_at is not None
    assert st.log_path == str(Path(sc.log_directory) / "exiter/0.log")
    lines = Path(st.log_path).read_text().splitlines()
    entries = [line.split(" ", 3)[1:] for line in lines]
    assert ["stdout", "F", "pykube-log-line"] in entries
    assert ["stderr", "F", "to-stderr"] in entries
    assert all(line[:4].isdigit() and line.split(" ", 1)[0].endswith("Z") for line in lines)
    with pytest.raises(RuntimeServiceError):
        await harness.rt.start_container(cid)  # an exited container does not start again


async def test_exec_sync(harness: Harness, pods: list[str]) -> None:
    sid, sc = await run_pod(harness, pods, "exec-host")
    cid = await run_container(harness, sid, sc, "sleeper", ["sleep", "1000"])
    r = await harness.rt.exec_sync(cid, ["cat", "/etc/hostname"], timeout=5)
    assert (r.exit_code, r.stdout) == (0, b"exec-host\n")
    r = await harness.rt.exec_sync(cid, ["sh", "-c", "echo oops >&2; exit 4"], timeout=5)
    assert (r.exit_code, r.stderr) == (4, b"oops\n")


async def test_stop_with_timeout_then_remove(harness: Harness, pods: list[str]) -> None:
    sid, sc = await run_pod(harness, pods, "stopper")
    cid = await run_container(harness, sid, sc, "sleeper", ["sleep", "1000"])
    assert (await harness.rt.container_status(cid)).state == ContainerState.RUNNING
    await harness.rt.stop_container(cid, timeout=1)
    st = await harness.rt.container_status(cid)
    assert st.state == ContainerState.EXITED and st.exit_code in (137, 143)
    assert st.reason == "Error" and st.finished_at is not None
    await harness.rt.stop_container(cid, timeout=1)  # stopping again is fine
    with pytest.raises(RuntimeServiceError):
        await harness.rt.exec_sync(cid, ["true"])
    await harness.rt.remove_container(cid)
    with pytest.raises(NotFoundError):
        await harness.rt.container_status(cid)
    await harness.rt.remove_container(cid)  # removing again is fine
    assert await harness.rt.list_containers(sandbox_id=sid) == []


async def test_list_filters(harness: Harness, pods: list[str]) -> None:
    a, sca = await run_pod(harness, pods, "list-a", labels={"tier": "front"})
    b, scb = await run_pod(harness, pods, "list-b", labels={"tier": "back"})
    ca = await run_container(harness, a, sca, "one", ["sleep", "1000"])
    cb = await run_container(harness, b, scb, "two", ["sh", "-c", "exit 0"])
    await wait_state(harness, cb, ContainerState.EXITED)

    by_uid = await harness.rt.list_pod_sandboxes(labels={LABEL_POD_UID: sca.uid})
    assert [s.id for s in by_uid] == [a]
    assert by_uid[0].state == SandboxState.READY and by_uid[0].labels["tier"] == "front"
    mine = {s.id for s in await harness.rt.list_pod_sandboxes(labels={LABEL_POD_NAMESPACE: "contract"})}
    assert {a, b} <= mine
    assert [c.id for c in await harness.rt.list_containers(sandbox_id=a)] == [ca]
    named = await harness.rt.list_containers(labels={LABEL_POD_UID: scb.uid, LABEL_CONTAINER_NAME: "two"})
    assert [(c.id, c.sandbox_id, c.name, c.state) for c in named] == [(cb, b, "two", ContainerState.EXITED)]
    running = {c.id for c in await harness.rt.list_containers(state=ContainerState.RUNNING)}
    assert ca in running and cb not in running
    assert await harness.rt.list_containers(labels={"pykube.test/role": "nobody"}) == []

    await harness.rt.stop_pod_sandbox(b)
    notready = {s.id for s in await harness.rt.list_pod_sandboxes(state=SandboxState.NOTREADY)}
    assert b in notready and a not in notready

    again = await harness.reconnect()  # a restarted kubelet finds its pods by label
    try:
        found = await again.list_pod_sandboxes(labels={LABEL_POD_UID: sca.uid})
        assert [s.id for s in found] == [a]
    finally:
        if again is not harness.rt:
            await again.close()


async def test_image_status(harness: Harness) -> None:
    present = await harness.rt.image_status(BUSYBOX)
    assert present is not None and "docker.io/local/busybox:1" in present.repo_tags
    assert present.id.startswith("sha256:") and present.size > 0
    assert await harness.rt.image_status("docker.io/local/absent:0") is None
    listed = {t for i in await harness.rt.list_images() for t in i.repo_tags}
    assert "docker.io/local/busybox:1" in listed


async def test_unknown_ids(harness: Harness) -> None:
    rt, nope = harness.rt, "0" * 64
    for call in (rt.container_status(nope), rt.start_container(nope), rt.stop_container(nope),
                 rt.exec_sync(nope, ["true"]), rt.pod_sandbox_status(nope)):
        with pytest.raises(NotFoundError):
            await call
    await rt.remove_container(nope)
    await rt.stop_pod_sandbox(nope)
    await rt.remove_pod_sandbox(nope)


async def test_stop_and_remove_sandbox_release_ip(harness: Harness, pods: list[str]) -> None:
    sid, sc = await run_pod(harness, pods, "bye")
    cid = await run_container(harness, sid, sc, "sleeper", ["sleep", "1000"])
    ip = (await harness.rt.pod_sandbox_status(sid)).ip
    assert harness.ip_allocated(ip)
    await harness.rt.stop_pod_sandbox(sid)
    st = await harness.rt.pod_sandbox_status(sid)
    assert st.state == SandboxState.NOTREADY and st.ip == ""
    assert (await harness.rt.container_status(cid)).state == ContainerState.EXITED
    assert not harness.ip_allocated(ip)
    await harness.rt.stop_pod_sandbox(sid)  # idempotent
    await harness.rt.remove_pod_sandbox(sid)
    with pytest.raises(NotFoundError):
        await harness.rt.pod_sandbox_status(sid)
    with pytest.raises(NotFoundError):
        await harness.rt.container_status(cid)
    assert sid not in {s.id for s in await harness.rt.list_pod_sandboxes()}
