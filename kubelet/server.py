"""The kubelet's HTTPS API (port 10250): container logs, exec, health.

Owns the routes the apiserver proxies `pods/{name}/log` and `pods/{name}/exec` to, with
the real kubelet's paths:
- `GET /containerLogs/{ns}/{pod}/{container}?follow=&tailLines=&previous=&timestamps=
  &sinceSeconds=&limitBytes=`: the container's CRI log file as text, streamed;
- `GET /exec/{ns}/{pod}/{container}?command=..&stdout=&stderr=` as a WebSocket with
  the `v5.channel.k8s.io` / `v4.channel.k8s.io` subprotocols (each binary frame starts
  with a channel byte: 1 stdout, 2 stderr, 3 the final Status with the exit code).
  The command runs through CRI ExecSync, so exec is non-interactive: a request for
  stdin or a tty is refused with a Failure Status (the CRI streaming Exec is missing);
- `GET /healthz`: "ok", unauthenticated.

Security, documented: the serving certificate is self-signed (a kubelet given only a
kubeconfig cannot get one from the cluster CA), made once under
`<data dir>/pki/`; callers present a bearer token, which the kubelet accepts when it is
its own token or when the apiserver, asked with that token, lets it read the pod in
question (a poor man's TokenReview + SubjectAccessReview; answers cached 30 s).
`port=0` picks a free port; the Node publishes it in status.daemonEndpoints.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import socket
import time
from pathlib import Path
from typing import Any, Protocol

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from api.models import Pod
from client.errors import APIError, ConnectionFailed
from client.rest import Client
from kubelet.logs import LogOptions, stream_log
from kubelet.runtime.interface import ContainerState, ContainerStatus, Runtime, RuntimeServiceError
from kubelet.runtime_pod import get_runtime_pod

log = logging.getLogger("kubelet.server")

CHANNEL_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDOUT, STDERR, ERROR = 1, 2, 3


class PodHost(Protocol):
    runtime: Runtime

    def find_pod(self, namespace: str, name: str) -> Pod | None: ...


def ensure_serving_cert(pki: Path, node_name: str, ips: list[str]) -> tuple[Path, Path]:
    """A self-signed serving certificate for the kubelet, made once and reused."""
    crt, key = pki / "kubelet.crt", pki / "kubelet.key"
    if crt.exists() and key.exists():
        return crt, key
    pki.mkdir(parents=True, exist_ok=True)
    k = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{node_name}@{int(time.time())}")])
    now = dt.datetime.now(dt.UTC)
    sans: list[x509.GeneralName] = [x509.DNSName(node_name), x509.DNSName("localhost")]
    sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in {*ips, "127.0.0.1"} if i]
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(k.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(k, hashes.SHA256()))
    key.write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    key.chmod(0o600)
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return crt, key


class TokenReviewer:
    """Is this bearer token allowed to read this pod? Asked of the apiserver, cached."""

    def __init__(self, client: Client, own_token: str | None, ttl: float = 30.0) -> None:
        self.client, self.own_token, self.ttl = client, own_token, ttl
        self._cache: dict[tuple[str, str, str], tuple[float, int]] = {}

    async def review(self, header: str | None, namespace: str, pod: str) -> int:
        """200 when allowed, else the HTTP code to answer (401, 403)."""
        if not header or not header.startswith("Bearer "):
            return 401
        token = header[7:].strip()
        if self.own_token and token == self.own_token:
            return 200
        key = (token, namespace, pod)
        hit = self._cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        try:
            await self.client.request("GET", Pod.RESOURCE.path(namespace, pod),
                                      headers={"Authorization": f"Bearer {token}"})
            code = 200
        except APIError as e:
            code = 200 if e.code == 404 else (e.code if e.code in (401, 403) else 401)
        except ConnectionFailed:
            return 503
        self._cache[key] = (time.monotonic() + self.ttl, code)
        return code


def _status(code: int, reason: str, message: str) -> Response:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    return Response(json.dumps(body), status_code=code, media_type="application/json")


def exec_status(exit_code: int, command: list[str]) -> dict[str, Any]:
    """The channel-3 Status for a finished exec (what kubectl turns into its exit code)."""
    if exit_code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command {command}, "
                       f"exit code {exit_code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(exit_code)}]}}


def failure_status(message: str, reason: str = "InternalError") -> dict[str, Any]:
    return {"metadata": {}, "status": "Failure", "message": message, "reason": reason}


class KubeletServer:
    def __init__(self, host: PodHost, reviewer: TokenReviewer, cert: Path, key: Path,
                 bind_address: str = "0.0.0.0", port: int = 10250) -> None:
        self.host, self.reviewer = host, reviewer
        self.cert, self.key = cert, key
        self.bind_address, self.wanted_port = bind_address, port
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._sock: socket.socket | None = None
        self.app = Starlette(routes=[
            Route("/healthz", self.healthz),
            Route("/containerLogs/{namespace}/{pod}/{container}", self.container_logs),
            WebSocketRoute("/exec/{namespace}/{pod}/{container}", self.exec_ws),
        ])

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET6 if ":" in self.bind_address else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.bind_address, self.wanted_port))
        sock.listen(128)
        sock.setblocking(False)
        self._sock, self.port = sock, sock.getsockname()[1]
        cfg = uvicorn.Config(self.app, ssl_certfile=str(self.cert), ssl_keyfile=str(self.key),
                             log_level="warning", lifespan="off", access_log=False,
                             timeout_graceful_shutdown=1, ws="websockets-sansio")
        cfg.load()
        server = uvicorn.Server(cfg)
        server.lifespan = cfg.lifespan_class(cfg)
        # startup() without serve(): no 10 Hz main loop per kubelet (hollow nodes run hundreds)
        await server.startup(sockets=[sock])
        self._server = server

    async def stop(self) -> None:
        if self._server is not None:
            self._server.force_exit = True
            await self._server.shutdown(sockets=[self._sock] if self._sock else None)
            self._server = None

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def _container(self, ns: str, pod_name: str, container: str,
                         previous: bool) -> tuple[ContainerStatus | None, Response | None]:
        pod = self.host.find_pod(ns, pod_name)
        if pod is None or pod.spec is None:
            return None, _status(404, "NotFound", f'pods "{pod_name}" not found')
        if container not in [c.name for c in pod.spec.containers]:
            return None, _status(400, "BadRequest", f"container {container} is not valid for pod {pod_name}")
        rp = await get_runtime_pod(self.host.runtime, pod.metadata.uid or "")
        instances = rp.by_name(container)
        if previous:
            if len(instances) < 2:
                return None, _status(400, "BadRequest", f'previous terminated container "{container}" in pod '
                                     f'"{pod_name}" not found')
            return instances[1], None
        if not instances:
            return None, _status(400, "BadRequest", f'container "{container}" in pod "{pod_name}" is waiting '
                                 "to start: ContainerCreating")
        return instances[0], None

    async def container_logs(self, request: Request) -> Response:
        ns, pod, container = (request.path_params[k] for k in ("namespace", "pod", "container"))
        code = await self.reviewer.review(request.headers.get("authorization"), ns, pod)
        if code != 200:
            return _status(code, "Unauthorized" if code == 401 else "Forbidden", "Unauthorized")
        q = dict(request.query_params)
        try:
            opts = LogOptions.from_query(q)
        except ValueError as e:
            return _status(400, "BadRequest", str(e))
        st, err = await self._container(ns, pod, container, q.get("previous") in ("1", "true", "True"))
        if err is not None:
            return err
        assert st is not None
        if not st.log_path:
            return PlainTextResponse("")
        cid, rt = st.id, self.host.runtime

        async def running() -> bool:
            try:
                return (await rt.container_status(cid)).state == ContainerState.RUNNING
            except RuntimeServiceError:
                return False
        return StreamingResponse(stream_log(Path(st.log_path), opts, running), media_type="text/plain")

    async def exec_ws(self, ws: WebSocket) -> None:
        ns, pod, container = (ws.path_params[k] for k in ("namespace", "pod", "container"))
        offered = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        proto = next((p for p in CHANNEL_PROTOCOLS if p in offered), None)
        code = await self.reviewer.review(ws.headers.get("authorization"), ns, pod)
        if code != 200 or proto is None:
            await ws.close(code=1008 if code != 200 else 1002)
            return
        await ws.accept(subprotocol=proto)
        q = ws.query_params
        command = q.getlist("command")
        try:
            if not command:
                raise _ExecRefused("you must specify at least one command for the container")
            if q.get("stdin") in ("1", "true") or q.get("tty") in ("1", "true"):
                raise _ExecRefused("interactive exec (stdin or tty) is not supported by this kubelet: "
                                   "the runtime only offers ExecSync")
            st, err = await self._container(ns, pod, container, False)
            if err is not None or st is None:
                raise _ExecRefused(json.loads(bytes(err.body))["message"] if err else "container not found")
            if st.state != ContainerState.RUNNING:
                raise _ExecRefused(f"container {container} is not running")
            result = await self.host.runtime.exec_sync(st.id, command, timeout=0)
            if q.get("stdout", "1") in ("1", "true") and result.stdout:
                await ws.send_bytes(bytes([STDOUT]) + result.stdout)
            if q.get("stderr", "1") in ("1", "true") and result.stderr:
                await ws.send_bytes(bytes([STDERR]) + result.stderr)
            status = exec_status(result.exit_code, command)
        except _ExecRefused as e:
            status = failure_status(str(e), "BadRequest")
        except RuntimeServiceError as e:
            status = failure_status(f"exec failed: {e}")
        try:
            await ws.send_bytes(bytes([ERROR]) + json.dumps(status).encode())
            await ws.close(code=1000)
        except (WebSocketDisconnect, RuntimeError):
            pass


class _ExecRefused(Exception):
    pass
