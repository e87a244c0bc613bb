"""Probe thresholds and actions: results flip only after N equal outcomes; HTTP/TCP/exec probes."""
from __future__ import annotations

import asyncio

from api.models.core import Container, Probe
from kubelet.probes import LIVENESS, READINESS, STARTUP, ProbeManager, Prober, ProbeState, ProbeTarget
from kubelet.runtime.fake import FakeRuntime
from kubelet.runtime.interface import ContainerConfig, SandboxConfig


def test_initial_results() -> None:
    assert ProbeState(READINESS).result is False
    assert ProbeState(LIVENESS).result is True
    assert ProbeState(STARTUP).result is None


def test_failure_threshold() -> None:
    s = ProbeState(LIVENESS, success_threshold=1, failure_threshold=3)
    assert not s.record(False) and not s.record(False) and s.result is True
    assert s.record(True) is False  # a success resets the run
    assert not s.record(False) and not s.record(False)
    assert s.record(False) and s.result is False
    assert s.on_hold and not s.record(True) and s.result is False  # held until the container is replaced


def test_success_threshold() -> None:
    s = ProbeState(READINESS, success_threshold=2, failure_threshold=1)
    assert not s.record(True) and s.result is False
    assert s.record(True) and s.result is True
    assert s.record(False) and s.result is False  # readiness is never held
    assert not s.record(True) and s.record(True)


def test_startup_succeeds_once() -> None:
    s = ProbeState(STARTUP, 1, 2)
    assert s.record(True) and s.result is True


async def test_http_and_tcp_probes() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readline()).decode()
        code = 200 if " /ok " in line else 500
        writer.write(f"HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()
        writer.close()
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    prober = Prober(FakeRuntime())
    c = Container(name="c", ports=[{"name": "http", "containerPort": port}])  # type: ignore[list-item]
    try:
        ok = Probe.model_validate({"httpGet": {"path": "/ok", "port": "http"}, "timeoutSeconds": 1})
        bad = Probe.model_validate({"httpGet": {"path": "/bad", "port": port}})
        tcp = Probe.model_validate({"tcpSocket": {"port": port}})
        assert (await prober.run(ok, c, "x", "127.0.0.1"))[0] is True
        result = await prober.run(bad, c, "x", "127.0.0.1")
        assert result == (False, "HTTP probe failed with statuscode: 500")
        assert (await prober.run(tcp, c, "x", "127.0.0.1"))[0] is True
    finally:
        server.close()
        await server.wait_closed()
    assert (await prober.run(tcp, c, "x", "127.0.0.1"))[0] is False  # refused


async def test_exec_probe_and_manager_flip() -> None:
    rt = FakeRuntime(pod_cidr="10.9.0.0/24", images=["busybox:1"])
    sc = SandboxConfig(name="p", namespace="d", uid="u")
    sid = await rt.run_pod_sandbox(sc)
    cid = await rt.create_container(sid, ContainerConfig(name="c", image="busybox:1", command=["sleep", "1000"]), sc)
    await rt.start_container(cid)
    changes: list[str] = []
    mgr = ProbeManager(Prober(rt), changes.append)
    c = Container.model_validate({"name": "c", "livenessProbe": {"exec": {"command": ["false"]}, "periodSeconds": 1,
                                                                 "failureThreshold": 1},
                                  "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 1}})
    mgr.sync_pod("u", [ProbeTarget(c, cid, None, "10.9.0.2")])
    try:
        for _ in range(50):
            if mgr.result(cid, LIVENESS) is False and mgr.result(cid, READINESS) is True:
                break
            await asyncio.sleep(0.05)
        assert mgr.result(cid, LIVENESS) is False and mgr.result(cid, READINESS) is True
        assert changes.count("u") == 2
    finally:
        await mgr.close()
    assert mgr.workers == {}
