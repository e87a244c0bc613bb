"""The apiserver side of `pods/{name}/log` and `pods/{name}/exec`: a proxy to the kubelet.

Owns `KubeletProxy`, the `Handlers.kubelet_proxy` hook, and the WebSocket route for exec:
- it finds the pod's node and the kubelet there (the Node's InternalIP and
  status.daemonEndpoints.kubeletEndpoint.Port, which a kubelet on port 0 publishes),
  picks the container (the only one, or 400 naming the choices), and forwards;
- `log`: `GET /containerLogs/{ns}/{pod}/{container}` with follow, tailLines, previous,
  timestamps, sinceSeconds, limitBytes; the kubelet's text is streamed back unchanged;
- `exec`: kubectl upgrades `GET .../exec?command=..` to a WebSocket with
  `v5.channel.k8s.io` (or v4); `install_exec_websocket(app, proxy, user_for)` adds that
  route (the REST routes are HTTP-only), authenticates the bearer token, opens a
  WebSocket to the kubelet's `/exec/...` with the same subprotocol and pumps frames both
  ways unchanged. A plain HTTP exec request gets 400 "Upgrade request required", as
  from kube-apiserver.

Security, documented: the proxy authenticates to kubelets with the apiserver's own
(admin) bearer token, and does not verify the kubelets' self-signed serving
certificates, as kube-apiserver does by default (no `--kubelet-certificate-authority`).
"""
from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from api.resources import by_kind
from apiserver import errors
from apiserver.request import Target

LOG_PARAMS = ("follow", "tailLines", "previous", "timestamps", "sinceSeconds", "limitBytes")
EXEC_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
PodGetter = Callable[[str, str], Awaitable[dict[str, Any]]]


def _insecure_tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def pick_container(pod: dict[str, Any], wanted: str | None) -> str:
    names = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
    name = pod["metadata"]["name"]
    if wanted:
        if wanted not in names:
            raise errors.bad_request(f"container {wanted} is not valid for pod {name}")
        return wanted
    if len(names) == 1:
        return names[0]
    raise errors.bad_request(f"a container name must be specified for pod {name}, "
                             f"choose one of: [{' '.join(names)}]")


def kubelet_endpoint(node: dict[str, Any]) -> tuple[str, int]:
    status = node.get("status") or {}
    addrs = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    host = addrs.get("InternalIP") or addrs.get("ExternalIP") or addrs.get("Hostname")
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") or 10250
    if not host:
        raise errors.APIError(503, "ServiceUnavailable", f"node {node['metadata']['name']} has no address")
    return host, int(port)


class KubeletProxy:
    def __init__(self, get: Callable[[Any, str | None, str], Awaitable[dict[str, Any]]], token: str,
                 timeout: float = 30.0) -> None:
        """`get(resource, namespace, name)` reads an object (the registry's `get`)."""
        self._get, self.token, self.timeout = get, token, timeout
        self._tls = _insecure_tls()
        self._http = httpx.AsyncClient(verify=self._tls, trust_env=False,
                                       timeout=httpx.Timeout(timeout, read=None))

    async def close(self) -> None:
        await self._http.aclose()

    async def locate(self, namespace: str, name: str, container: str | None) -> tuple[str, int, str]:
        """(kubelet host, port, container) for a pod, or the APIError explaining why not."""
        pod = await self._get(by_kind("v1", "Pod"), namespace, name)
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            raise errors.bad_request(f"pod {name} does not have a host assigned")
        c = pick_container(pod, container)
        node = await self._get(by_kind("v1", "Node"), None, node_name)
        host, port = kubelet_endpoint(node)
        return host, port, c

    async def __call__(self, request: Request, t: Target) -> Response:
        assert t.name is not None and t.namespace is not None
        if t.subresource == "exec":
            raise errors.bad_request("Upgrade request required")
        if t.subresource != "log" or request.method != "GET":
            raise errors.method_not_allowed()
        q = request.query_params
        host, port, c = await self.locate(t.namespace, t.name, q.get("container"))
        params = {k: q[k] for k in LOG_PARAMS if q.get(k) not in (None, "")}
        url = f"https://{_host(host)}:{port}/containerLogs/{t.namespace}/{t.name}/{c}"
        req = self._http.build_request("GET", url, params=params,
                                       headers={"Authorization": f"Bearer {self.token}"})
        try:
            resp = await self._http.send(req, stream=True)
        except httpx.HTTPError as e:
            raise errors.APIError(502, "InternalError", f"error dialing kubelet {host}:{port}: {e}") from None
        if resp.status_code >= 400:
            body = await resp.aread()
            await resp.aclose()
            return Response(body, status_code=resp.status_code,
                            media_type=resp.headers.get("content-type", "application/json"))

        async def body_iter() -> AsyncIterator[bytes]:
            try:
                async for chunk in resp.aiter_raw():
                    yield chunk
            except httpx.HTTPError:
                return
            finally:
                await resp.aclose()
        return StreamingResponse(body_iter(), media_type="text/plain")

    async def exec_websocket(self, ws: WebSocket, namespace: str, name: str) -> None:
        offered = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        protocols = [p for p in offered if p in EXEC_PROTOCOLS]
        if not protocols:
            await ws.close(code=1002)
            return
        q = ws.query_params
        try:
            host, port, c = await self.locate(namespace, name, q.get("container"))
        except errors.APIError as e:
            await _refuse(ws, protocols[0], e.message)
            return
        params = [(k, v) for k, v in q.multi_items() if k != "container"]
        url = f"wss://{_host(host)}:{port}/exec/{namespace}/{name}/{c}?{urlencode(params)}"
        try:
            upstream = await connect(url, ssl=self._tls, subprotocols=protocols,  # type: ignore[arg-type]
                                     additional_headers={"Authorization": f"Bearer {self.token}"},
                                     proxy=None, max_size=None, compression=None, open_timeout=self.timeout)
        except (OSError, InvalidHandshake, TimeoutError) as e:
            await _refuse(ws, protocols[0], f"error dialing kubelet {host}:{port}: {e}")
            return
        async with upstream:
            await ws.accept(subprotocol=upstream.subprotocol)
            await _pump(ws, upstream)


async def _refuse(ws: WebSocket, protocol: str, message: str) -> None:
    await ws.accept(subprotocol=protocol)
    status = {"metadata": {}, "status": "Failure", "message": message, "reason": "BadRequest", "code": 400}
    await ws.send_bytes(b"\x03" + json.dumps(status).encode())
    await ws.close(code=1000)


async def _pump(ws: WebSocket, upstream: ClientConnection) -> None:
    async def down() -> None:  # kubelet -> client
        try:
            async for msg in upstream:
                if isinstance(msg, str):
                    await ws.send_text(msg)
                else:
                    await ws.send_bytes(msg)
        except ConnectionClosed:
            pass

    async def up() -> None:  # client -> kubelet (stdin, resize, close signals)
        try:
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    return
                data = msg.get("bytes")
                await upstream.send(data if data is not None else msg.get("text", ""))
        except (WebSocketDisconnect, ConnectionClosed, RuntimeError):
            pass

    tasks = [asyncio.create_task(down()), asyncio.create_task(up())]
    await asyncio.wait([tasks[0]])   # the kubelet ends the exec
    tasks[1].cancel()
    try:
        await tasks[1]
    except asyncio.CancelledError:
        pass
    try:
        await ws.close(code=1000)
    except RuntimeError:
        pass


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def install_exec_websocket(app: Any, proxy: KubeletProxy,
                           user_for: Callable[[str | None], str | None]) -> None:
    """Add the exec WebSocket route to the FastAPI app (authenticated by bearer token)."""
    async def route(websocket: WebSocket, namespace: str, name: str) -> None:
        if user_for(websocket.headers.get("authorization")) is None:
            await websocket.close(code=1008)   # before accept: an HTTP 403
            return
        await proxy.exec_websocket(websocket, namespace, name)
    app.add_api_websocket_route("/api/v1/namespaces/{namespace}/pods/{name}/exec", route)
