"""Ephemeral containers on a hollow node: `kubectl debug` adds one, the kubelet starts it
in the running pod and reports it in ephemeralContainerStatuses (never ready, no part of
the pod's readiness); when attaching is
impossible (the hollow runtime has no streaming server) kubectl and pykubectl both warn
and fall back to its log."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from api.models import Pod
from client.rest import Client
from tests.integration.kubelet.conftest import KubeletFactory, pod_body, ready, wait_pod

BIN = Path(sys.executable).parent
WARNING = "warning: couldn't attach to pod/web, falling back to streaming logs: unable to upgrade connection: "


async def _run(binary: str, kubeconfig: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        binary, "--kubeconfig", str(kubeconfig), *args, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


def _debugger(name: str):  # type: ignore[no-untyped-def]
    def check(p: Pod) -> bool:
        statuses = (p.status.ephemeral_container_statuses if p.status else None) or []
        return any(s.name == name and s.state is not None and s.state.running is not None for s in statuses)
    return check


@pytest.mark.parametrize("binary", ["kubectl", "pykubectl"])
async def test_debug_starts_a_debugger_and_falls_back_to_its_log(apiserver: Any, client: Client, kubelets: KubeletFactory,
                                                         binary: str) -> None:
    await kubelets("node-1")
    await client.create(pod_body("web"))
    await wait_pod(client, "web", ready)
    code, out, err = await _run(str(BIN / binary), apiserver.kubeconfig_path, "debug", "web", "-i",
                                "--image=local/busybox:1", "-c", "dbg", "--target=c", "--",
                                "sh", "-c", "echo from-debugger; sleep 1000")
    assert code == 0, err
    assert out.startswith('Targeting container "c".') and out.endswith("from-debugger\n")
    assert WARNING in err          # running, but the hollow runtime cannot attach
    pod = await wait_pod(client, "web", _debugger("dbg"))
    assert pod.status is not None and pod.status.phase == "Running"
    (st,) = pod.status.ephemeral_container_statuses or []
    assert (st.restart_count, st.ready, st.image) == (0, False, "docker.io/local/busybox:1")
    assert [c.name for c in pod.status.container_statuses or []] == ["c"]
    assert ready(pod)
    code, out, err = await _run(str(BIN / binary), apiserver.kubeconfig_path, "logs", "web", "-c", "dbg")
    assert (code, out) == (0, "from-debugger\n"), err
