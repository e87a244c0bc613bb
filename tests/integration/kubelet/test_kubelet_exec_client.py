"""`Client.websocket` (client/websocket.py): pods/exec through the apiserver with the
client's own credentials, and the Status of a refused upgrade as the matching error."""
from __future__ import annotations

from typing import Any

import pytest

from client import kubeconfig
from client.errors import Forbidden, Unauthorized
from client.rest import Client
from tests.integration.kubelet.conftest import KubeletFactory, pod_body, ready, wait_pod

EXEC = "/api/v1/namespaces/default/pods/{}/exec?command=cat&command=/etc/hostname&stdout=1&container=c"


async def test_exec_through_the_apiserver(client: Client, kubelets: KubeletFactory, kubelet_proxy: Any) -> None:
    await kubelets("node-1")
    await client.create(pod_body("web"))
    await wait_pod(client, "web", ready)
    async with await client.websocket(EXEC.format("web"), ["v5.channel.k8s.io", "v4.channel.k8s.io"]) as ws:
        assert ws.subprotocol == "v5.channel.k8s.io"
        frames = [m async for m in ws]
    assert frames[0] == b"\x01web\n"                       # channel 1: stdout
    assert b'"Success"' in frames[-1] and frames[-1][0] == 3   # channel 3: the exit status


async def test_refused_upgrade_is_the_status_error(apiserver: Any, kubelet_proxy: Any) -> None:
    cfg = kubeconfig.load(str(apiserver.kubeconfig_path))
    cfg.token = "not-the-token"
    async with Client(cfg) as stranger:
        # kube-apiserver answers 401; the exec endpoint here refuses the upgrade with 403
        with pytest.raises((Unauthorized, Forbidden)):
            await stranger.websocket(EXEC.format("nope"), ["v5.channel.k8s.io"])
