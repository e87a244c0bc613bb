"""`pykube server` in-process (memory store, hollow local node): every component starts in
order, a crashing component is restarted and the log says so, and a stop is clean."""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import yaml

from pykube import runstate
from pykube.main import build_parser
from pykube.server import serve
from pykube.token import parse, token_path


async def wait_for(predicate: object, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_server_runs_restarts_a_crashed_component_and_stops(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from scheduler.scheduler import Scheduler
    real_run = Scheduler.run
    calls = {"n": 0}

    async def crash_once(self: Scheduler) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("injected scheduler crash")
        await real_run(self)
    monkeypatch.setattr(Scheduler, "run", crash_once)

    data_dir = tmp_path / "d"
    args = build_parser().parse_args([
        "server", "-d", str(data_dir), "--secure-port", "0", "--bind-address", "127.0.0.1",
        "--datastore-endpoint", "memory://", "--runtime", "fake", "--port", "0", "--node-name", "n1",
        "--dns-port", "0", "--leader-elect", "false"])
    caplog.set_level(logging.INFO)
    task = asyncio.create_task(serve(args))
    try:
        await wait_for(lambda: "pykube server ready" in caplog.text or task.done())
        assert not task.done(), caplog.text
        await wait_for(lambda: "scheduler is running again (restart 1)" in caplog.text)
        assert "scheduler crashed: RuntimeError: injected scheduler crash; restarting in 1.0s (restart 1)" \
            in caplog.text
        assert runstate.read_pid(data_dir, "server") is not None
        token = parse(token_path(data_dir).read_text())
        kubeconfig = yaml.safe_load((data_dir / "agent" / "kubelet.kubeconfig").read_text())
        assert kubeconfig["users"][0]["user"]["token"] == token.bearer
        state = runstate.HostState.read(data_dir, "server")
        assert state is not None and state.node_name == "n1" and not state.extra["kube_proxy"]
        # cluster DNS runs and registered kube-dns at 10.96.0.10; the local node went Ready
        from api.models import Endpoints, Node, Service
        from client import kubeconfig as kc
        from client.errors import NotFound
        from client.rest import Client
        async with Client(kc.load(str(data_dir / "admin.kubeconfig"))) as c:
            deadline = asyncio.get_running_loop().time() + 20
            while True:
                try:
                    svc = await c.get(Service, "kube-dns", namespace="kube-system")
                    ep = await c.get(Endpoints, "kube-dns", namespace="kube-system")
                    node = await c.get(Node, "n1")
                    ready = [x.status for x in (node.status.conditions or []) if x.type == "Ready"]
                    if ep.subsets and ready == ["True"]:
                        break
                except NotFound:
                    pass
                assert asyncio.get_running_loop().time() < deadline, "kube-dns or node n1 not ready"
                await asyncio.sleep(0.2)
            assert svc.spec.cluster_ip == "10.96.0.10"
            assert {p.port for p in svc.spec.ports} == {53}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    for name in ("kubelet", "scheduler", "controller-manager", "dns", "apiserver"):
        assert f"{name} stopped" in caplog.text
    assert not runstate.pid_file(data_dir, "server").exists()


async def test_a_second_server_on_the_same_data_dir_is_refused(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    import os
    runstate.pid_file(tmp_path, "server").parent.mkdir(parents=True)
    runstate.pid_file(tmp_path, "server").write_text(f"{os.getppid()}\n")
    args = build_parser().parse_args(["server", "-d", str(tmp_path), "--secure-port", "0"])
    assert await serve(args) == 1
    assert "already runs" in caplog.text
