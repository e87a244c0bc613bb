"""The apiserver's connect and proxy subresources without root: hollow kubelets, local servers.

- pods/proxy and services/proxy reach an HTTP server on loopback (the pod's IP and the
  Endpoints say 127.0.0.1): method, path, query and body arrive, the client's token does
  not; a WebSocket passes through pods/proxy (the upgrade-aware relay);
- nodes/proxy reaches the kubelet's own endpoints (`/pods`, `/healthz`);
- exec without an upgrade is refused as kube-apiserver refuses it; interactive streams
  to a hollow node end with the hollow runtime's clear error, for kubectl over SPDY and
  over WebSockets, and for port-forward.
"""
from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from api.resources import resolve
from client.rest import Client
from tests.integration.kubelet.conftest import KubeletFactory, pod_body, ready, wait_pod

KUBECTL = str(Path(sys.executable).parent / "kubectl")


class Echo:
    """An HTTP server on loopback that answers with what it received (and a WebSocket echo)."""

    async def __aenter__(self) -> Echo:
        async def http(ws: ServerConnection) -> None:
            async for message in ws:
                await ws.send(message)

        async def plain(connection: ServerConnection, request: Any) -> Any:
            if request.path.startswith("/ws"):
                return None
            seen = {"path": request.path, "auth": request.headers.get("Authorization")}
            body = json.dumps(seen).encode()
            from websockets.datastructures import Headers
            from websockets.http11 import Response
            return Response(200, "OK", Headers([("Content-Type", "application/json"),
                                                ("Content-Length", str(len(body))), ("X-Echo", "yes")]), body)
        self.server = await serve(http, "127.0.0.1", 0, process_request=plain)
        self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[index]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()


async def _pod_at_loopback(client: Client, name: str, port: int) -> None:
    pods = resolve("pods")
    await client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default",
                                                                         "labels": {"app": name}},
                         "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": port}]}]}})
    pod = await client.get(pods, name, namespace="default")
    pod["status"] = {"phase": "Running", "podIP": "127.0.0.1"}
    await client.request("PUT", pods.path("default", name, "status"), json=pod)


async def test_pods_and_services_proxy_reach_the_backend(apiserver: Any, http: httpx.AsyncClient,
                                                         client: Client) -> None:
    async with Echo() as echo:
        await _pod_at_loopback(client, "web", echo.port)
        await client.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
                             "spec": {"ports": [{"name": "http", "port": 80, "targetPort": echo.port}]}})
        await client.create({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"},
                             "subsets": [{"addresses": [{"ip": "127.0.0.1"}],
                                          "ports": [{"name": "http", "port": echo.port}]}]})
        for path in ("/api/v1/namespaces/default/pods/web/proxy/a/b?x=1",
                     f"/api/v1/namespaces/default/pods/web:{echo.port}/proxy/a/b?x=1",
                     "/api/v1/namespaces/default/services/web:80/proxy/a/b?x=1",
                     "/api/v1/namespaces/default/services/web:http/proxy/a/b?x=1"):
            r = await http.get(path)
            assert r.status_code == 200, r.text
            assert r.json() == {"path": "/a/b?x=1", "auth": None}          # the client's token stays behind
            assert r.headers["x-echo"] == "yes"
        r = await http.get("/api/v1/namespaces/default/services/web:80/proxy")
        assert r.status_code == 301 and r.headers["location"].endswith("/services/web:80/proxy/")
        tls = ssl.create_default_context(cafile=str(apiserver.ca_path))
        url = apiserver.url.replace("https", "wss") + "/api/v1/namespaces/default/pods/web/proxy/ws"
        async with connect(url, ssl=tls, proxy=None,
                           additional_headers={"Authorization": f"Bearer {apiserver.token}"}) as ws:
            await ws.send("through the apiserver")
            assert await ws.recv() == "through the apiserver"


async def test_proxy_to_nothing_is_503(http: httpx.AsyncClient, client: Client) -> None:
    async with Echo() as echo:
        port = echo.port
    await _pod_at_loopback(client, "gone", port)                      # nothing listens any more
    r = await http.get("/api/v1/namespaces/default/pods/gone/proxy/")
    assert r.status_code == 503 and r.json()["reason"] == "ServiceUnavailable"
    assert "error trying to reach service" in r.json()["message"]


async def test_nodes_proxy_reaches_the_kubelet(http: httpx.AsyncClient, client: Client,
                                               kubelets: KubeletFactory) -> None:
    await kubelets("node-1")
    await client.create(pod_body("p1"))
    await wait_pod(client, "p1", ready)
    r = await http.get("/api/v1/nodes/node-1/proxy/pods")
    assert r.status_code == 200 and [p["metadata"]["name"] for p in r.json()["items"]] == ["p1"]
    assert (await http.get("/api/v1/nodes/node-1/proxy/healthz")).text == "ok"


async def test_exec_needs_an_upgrade(http: httpx.AsyncClient, client: Client, kubelets: KubeletFactory) -> None:
    await kubelets("node-1")
    await client.create(pod_body("p1"))
    await wait_pod(client, "p1", ready)
    r = await http.post("/api/v1/namespaces/default/pods/p1/exec?command=ls")
    assert r.status_code == 400 and r.json()["message"] == "Upgrade request required"


async def _kubectl(apiserver: Any, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        KUBECTL, "--kubeconfig", str(apiserver.kubeconfig_path), *args, env={**os.environ, **(env or {})},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(b"input\n"), 30)
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.mark.parametrize("env", [{}, {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"}], ids=["websocket", "spdy"])
async def test_interactive_streams_to_a_hollow_node_say_why_not(apiserver: Any, client: Client,
                                                                kubelets: KubeletFactory,
                                                                env: dict[str, str]) -> None:
    await kubelets("node-1")
    await client.create(pod_body("p1"))
    await wait_pod(client, "p1", ready)
    code, out, err = await _kubectl(apiserver, "exec", "-i", "p1", "--", "cat", env=env)
    assert code == 1 and "streaming exec is not supported by the hollow runtime" in err, err
    code, out, err = await _kubectl(apiserver, "exec", "p1", "--", "hostname", env=env)
    if env:   # SPDY: the hollow runtime has no streaming server at all
        assert code == 1 and "not supported by the hollow runtime" in err, err
    else:     # WebSocket, no stdin: served by ExecSync
        assert (code, out) == (0, "p1\n"), err


async def test_port_forward_to_a_hollow_node_says_why_not(apiserver: Any, client: Client,
                                                          kubelets: KubeletFactory) -> None:
    await kubelets("node-1")
    await client.create(pod_body("p1"))
    await wait_pod(client, "p1", ready)
    code, out, err = await _kubectl(apiserver, "port-forward", "pod/p1", ":80")
    assert code == 1 and "port-forward is not supported by the hollow runtime" in err, (out, err)
