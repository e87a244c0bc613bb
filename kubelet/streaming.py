"""The kubelet's streaming endpoints, on upstream kubelet's paths:

- `/exec/{ns}/{pod}/{container}?command=..&stdin=&stdout=&stderr=&tty=` and
  `/attach/{ns}/{pod}/{container}?...` (flags "1" or "true"; `input`/`output`/`error`,
  upstream kubelet's names, are read too);
- `/portForward/{ns}/{pod}` (`?port=N...` for the WebSocket channel protocols).

Each is an `Upgrade:` request, GET or POST, whose caller the server has authorized
(`create` on nodes/proxy, auth.py). The kubelet finds the running container (or the pod's
sandbox), asks the runtime for a streaming URL (CRI Exec, Attach, PortForward), takes the
connection over (`httpstream.hijack`) and joins it to the runtime's (`stream_bridge`):

| client speaks                         | joined to the runtime by |
|---------------------------------------|--------------------------|
| WebSocket `v5.channel.k8s.io`         | `bridge_v5` (SPDY)       |
| WebSocket v4 / `channel.k8s.io` / base64 | `relay_websocket`     |
| WebSocket `SPDY/3.1+portforward.k8s.io` | `relay_spdy_tunnel`    |
| `Upgrade: SPDY/3.1`                   | `relay_spdy`             |

Errors found before the switch are HTTP answers with a `Status` body; after it, a Failure
`Status` on the error channel.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.models import Pod
from httpstream import channels, upgrade
from httpstream.hijack import hijack, upgrade_of
from httpstream.websocket import WebSocket, accept_response
from kubelet import stream_bridge as bridge
from kubelet.runtime.interface import (ContainerState, ContainerStatus, Runtime, RuntimeServiceError,
                                       StreamingUnsupported, StreamOptions)
from kubelet.runtime_pod import get_runtime_pod

log = logging.getLogger("kubelet.streaming")
_TRUE = ("1", "true", "True")
ContainerLookup = Callable[[str, str, str], Awaitable[tuple[ContainerStatus | None, Response | None]]]


class PodHost(Protocol):
    runtime: Runtime

    def find_pod(self, namespace: str, name: str) -> Pod | None: ...


def status_response(code: int, reason: str, message: str) -> Response:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    return Response(json.dumps(body), status_code=code, media_type="application/json")


def stream_options(q: Any) -> StreamOptions:
    def flag(*names: str) -> bool:
        return any(q.get(n) in _TRUE for n in names)
    return StreamOptions(stdin=flag("stdin", "input"), stdout=flag("stdout", "output"),
                         stderr=flag("stderr", "error"), tty=flag("tty"))


def parse_ports(values: list[str]) -> list[int]:
    """`port` query values (each may list several, comma-separated) as port numbers."""
    ports = []
    for value in values:
        for word in value.split(","):
            if not word.strip().isdigit() or not 0 < int(word) < 65536:
                raise ValueError(f"invalid port {word!r}")
            ports.append(int(word))
    return ports


def exit_status(exit_code: int, command: list[str]) -> dict[str, Any]:
    """The error channel's Status for a finished command (what clients turn into exit codes)."""
    if exit_code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command {command}, "
                       f"exit code {exit_code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(exit_code)}]}}


def _failure(protocol: str, message: str) -> bytes:
    if protocol in (channels.V5, channels.V4, channels.V4_BASE64):
        return json.dumps({"metadata": {}, "status": "Failure", "message": message,
                           "reason": "InternalError", "code": 500}).encode()
    return message.encode()


class StreamingEndpoints:
    def __init__(self, host: PodHost, lookup: ContainerLookup) -> None:
        self.host, self.lookup = host, lookup
        self.sessions = upgrade.Sessions()

    async def close(self) -> None:
        """End every stream still open (the server is stopping)."""
        await self.sessions.close_all()

    def _take(self, request: Request) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = hijack(request.scope)
        self.sessions.add(writer)
        return reader, writer

    def routes(self) -> list[Route]:
        both = ["GET", "POST"]
        return [Route("/exec/{namespace}/{pod}/{container}", self.exec, methods=both),
                Route("/attach/{namespace}/{pod}/{container}", self.attach, methods=both),
                Route("/portForward/{namespace}/{pod}", self.port_forward, methods=both)]

    async def exec(self, request: Request) -> Response:
        return await self._remote_command(request, "exec")

    async def attach(self, request: Request) -> Response:
        return await self._remote_command(request, "attach")

    async def _check(self, request: Request) -> Response | None:
        """The caller was authorized already (the server's auth.py, `create` on nodes/proxy)."""
        if not upgrade_of(request.scope["headers"]):
            return status_response(400, "BadRequest", "Upgrade request required")
        return None

    async def _remote_command(self, request: Request, verb: str) -> Response:
        refused = await self._check(request)
        if refused is not None:
            return refused
        ns, pod, container = (request.path_params[k] for k in ("namespace", "pod", "container"))
        q = request.query_params
        opts, command = stream_options(q), q.getlist("command")
        if not (opts.stdin or opts.stdout or opts.stderr):
            return status_response(400, "BadRequest", "you must specify at least 1 of stdin, stdout, stderr")
        if verb == "exec" and not command:
            return status_response(400, "BadRequest", "you must specify at least one command for the container")
        st, err = await self.lookup(ns, pod, container)
        if err is not None or st is None:
            return err or status_response(404, "NotFound", f'container "{container}" not found')
        if st.state != ContainerState.RUNNING:
            return status_response(400, "BadRequest", f'container "{container}" in pod "{pod}" is not running')
        kind = upgrade_of(request.scope["headers"])
        protocol = channels.negotiate(channels.offered(request.headers.get("sec-websocket-protocol")),
                                      channels.EXEC_PROTOCOLS)
        try:
            rt = self.host.runtime
            url = await (rt.exec(st.id, command, opts) if verb == "exec" else rt.attach(st.id, opts))
        except StreamingUnsupported as e:
            if verb == "exec" and kind == "websocket" and not (opts.stdin or opts.tty):
                return await self._exec_sync(request, protocol, st.id, command, opts)
            return status_response(400, "BadRequest", str(e))
        except RuntimeServiceError as e:
            return status_response(500, "InternalError", f"error {verb}ing in container {container}: {e}")
        if kind == "websocket":
            return await self._websocket(request, protocol, url, opts)
        return await self._spdy(request, url)

    async def port_forward(self, request: Request) -> Response:
        refused = await self._check(request)
        if refused is not None:
            return refused
        ns, name = request.path_params["namespace"], request.path_params["pod"]
        pod = self.host.find_pod(ns, name)
        if pod is None:
            return status_response(404, "NotFound", f'pods "{name}" not found')
        rp = await get_runtime_pod(self.host.runtime, pod.metadata.uid or "")
        if not rp.ready_sandbox_ids:
            return status_response(400, "BadRequest", f'pod "{name}" has no running sandbox')
        sandbox = rp.ready_sandbox_ids[0]
        try:
            ports = parse_ports(request.query_params.getlist("port"))
        except ValueError as e:
            return status_response(400, "BadRequest", str(e))
        try:
            url = await self.host.runtime.port_forward(sandbox, ports)
        except RuntimeServiceError as e:
            return status_response(500, "InternalError", f"error forwarding ports of pod {name}: {e}")
        if upgrade_of(request.scope["headers"]) != "websocket":
            return await self._spdy(request, url)
        offers = channels.offered(request.headers.get("sec-websocket-protocol"))
        if channels.SPDY_PORTFORWARD_TUNNEL in offers:
            return await self._websocket(request, channels.SPDY_PORTFORWARD_TUNNEL, url, None)
        if not ports:
            return status_response(400, "BadRequest", 'query parameter "port" is required')
        return await self._websocket(request, channels.negotiate(offers, channels.PORTFORWARD_PROTOCOLS), url,
                                     None, [("port", str(p)) for p in ports])

    async def _websocket(self, request: Request, protocol: str | None, url: str, opts: StreamOptions | None,
                         query: list[tuple[str, str]] | None = None) -> Response:
        key = request.headers.get("sec-websocket-key")
        if protocol is None or not key:
            offered = request.headers.get("sec-websocket-protocol", "")
            return status_response(400, "BadRequest", f"unable to negotiate a WebSocket subprotocol from {offered!r}")
        reader, writer = self._take(request)
        writer.write(accept_response(key, protocol))
        ws = WebSocket(reader, writer, protocol)
        try:
            if protocol == channels.SPDY_PORTFORWARD_TUNNEL:
                await bridge.relay_spdy_tunnel(ws, url)
            elif protocol == channels.V5 and opts is not None:
                await bridge.bridge_v5(ws, url, opts)
            else:
                await bridge.relay_websocket(ws, url, query)
        except bridge.RuntimeStreamError as e:
            log.info("stream %s: %s", request.url.path, e)
            if protocol != channels.SPDY_PORTFORWARD_TUNNEL:
                try:
                    await ws.send(channels.encode(protocol, channels.ERROR, _failure(protocol, str(e))))
                except ConnectionError:
                    pass
            await ws.close(1011)
        finally:
            self.sessions.discard(writer)
        return Response(status_code=101)   # not sent: the connection was handed over

    async def _exec_sync(self, request: Request, protocol: str | None, container_id: str, command: list[str],
                         opts: StreamOptions) -> Response:
        """A runtime without a streaming server (the hollow one) still runs a command to
        its end: ExecSync, its output on channels 1 and 2, the Status on 3."""
        key = request.headers.get("sec-websocket-key")
        if protocol is None or not key:
            return status_response(400, "BadRequest", "unable to negotiate a WebSocket subprotocol")
        try:
            result = await self.host.runtime.exec_sync(container_id, command, timeout=0)
            status = exit_status(result.exit_code, command)
        except RuntimeServiceError as e:
            result, status = None, {"metadata": {}, "status": "Failure", "message": f"exec failed: {e}",
                                    "reason": "InternalError", "code": 500}
        reader, writer = self._take(request)
        writer.write(accept_response(key, protocol))
        ws = WebSocket(reader, writer, protocol)
        try:
            if result is not None and opts.stdout and result.stdout:
                await ws.send(channels.encode(protocol, channels.STDOUT, result.stdout))
            if result is not None and opts.stderr and result.stderr:
                await ws.send(channels.encode(protocol, channels.STDERR, result.stderr))
            await ws.send(channels.encode(protocol, channels.ERROR, json.dumps(status).encode()))
        except ConnectionError:
            pass
        await ws.close(1000)
        self.sessions.discard(writer)
        return Response(status_code=101)

    async def _spdy(self, request: Request, url: str) -> Response:
        if upgrade_of(request.scope["headers"]) != "spdy/3.1":
            return status_response(400, "BadRequest", "unsupported upgrade: only websocket and SPDY/3.1")
        protocols = [p.strip() for h in request.headers.getlist("x-stream-protocol-version")
                     for p in h.split(",") if p.strip()]
        client = self._take(request)
        try:
            await bridge.relay_spdy(client, url, protocols)
        finally:
            self.sessions.discard(client[1])
        return Response(status_code=101)
