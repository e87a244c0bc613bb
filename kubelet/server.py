"""The kubelet's HTTPS API (port 10250): container logs, the streaming endpoints, pods, health.

Owns the server and the routes the apiserver proxies to, with the real kubelet's paths:
- `GET /containerLogs/{ns}/{pod}/{container}?follow=&tailLines=&previous=&timestamps=
  &sinceSeconds=&limitBytes=`: the container's CRI log file as text, streamed;
- `/exec/...`, `/attach/...`, `/portForward/...`: interactive streams through the
  runtime's streaming server (streaming.py);
- `GET /pods`: the pods this kubelet runs, as a PodList (what `nodes/proxy/pods` shows);
- `GET /stats/summary`, `GET /metrics/resource`: usage from cgroups (kubelet/stats/);
- `GET /healthz`: "ok", unauthenticated.

Security, documented: the serving certificate is self-signed (a kubelet given only a
kubeconfig cannot get one from the cluster CA), made once under `<data dir>/pki/`; every
request but /healthz carries a bearer token that the apiserver authenticates
(TokenReview) and authorizes on this Node's subresources (SubjectAccessReview), as
upstream's webhook modes (auth.py).
`port=0` picks a free port; the Node publishes it in status.daemonEndpoints.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from api.models import Pod
from httpstream.hijack import HijackableHttpToolsProtocol
from kubelet.auth import KubeletAuth
from kubelet.logs import LogOptions, log_instance, stream_log
from kubelet.runtime.interface import ContainerState, ContainerStatus, Runtime, RuntimeServiceError
from kubelet.runtime_pod import get_runtime_pod
from kubelet.streaming import StreamingEndpoints, status_response

log = logging.getLogger("kubelet.server")


class PodHost(Protocol):
    runtime: Runtime
    pods: dict[str, Pod]              # by uid: the pods this kubelet runs

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


class KubeletServer:
    def __init__(self, host: PodHost, auth: KubeletAuth, cert: Path, key: Path,
                 bind_address: str = "0.0.0.0", port: int = 10250,
                 extra_routes: Sequence[BaseRoute] = ()) -> None:
        self.host, self.auth = host, auth
        self.cert, self.key = cert, key
        self.bind_address, self.wanted_port = bind_address, port
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._sock: socket.socket | None = None
        self.streaming = StreamingEndpoints(host, lambda ns, pod, c: self._container(ns, pod, c, False))
        self.routes = Starlette(routes=[
            Route("/healthz", self.healthz),
            Route("/pods", self.pods),
            Route("/containerLogs/{namespace}/{pod}/{container}", self.container_logs),
            *self.streaming.routes(),
            *extra_routes,   # /stats/summary, /metrics/resource (kubelet/stats/routes.py)
        ])

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET6 if ":" in self.bind_address else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.bind_address, self.wanted_port))
        sock.listen(128)
        sock.setblocking(False)
        self._sock, self.port = sock, sock.getsockname()[1]
        cfg = uvicorn.Config(self.app, interface="asgi3", ssl_certfile=str(self.cert), ssl_keyfile=str(self.key),
                             log_level="warning", lifespan="off", access_log=False,
                             timeout_graceful_shutdown=1, http=HijackableHttpToolsProtocol)
        cfg.load()
        server = uvicorn.Server(cfg)
        server.lifespan = cfg.lifespan_class(cfg)
        # startup() without serve(): no 10 Hz main loop per kubelet (hollow nodes run hundreds)
        await server.startup(sockets=[sock])
        self._server = server

    async def stop(self) -> None:
        await self.streaming.close()
        if self._server is not None:
            self._server.force_exit = True
            await self._server.shutdown(sockets=[self._sock] if self._sock else None)
            self._server = None

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Every request but /healthz is authenticated and authorized first (auth.py)."""
        if scope["type"] == "http" and scope["path"] != "/healthz":
            request = Request(scope)
            refusal = await self.auth.check(request.headers.get("authorization"), request.method, scope["path"])
            if refusal is not None:
                await PlainTextResponse(refusal.message, status_code=refusal.code)(scope, receive, send)
                return
        await self.routes(scope, receive, send)

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def pods(self, request: Request) -> Response:
        items = [p.to_dict() for p in list(self.host.pods.values())]
        body = {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}
        return Response(json.dumps(body), media_type="application/json")

    async def _container(self, ns: str, pod_name: str, container: str,
                         previous: bool) -> tuple[ContainerStatus | None, Response | None]:
        pod = self.host.find_pod(ns, pod_name)
        if pod is None or pod.spec is None:
            return None, status_response(404, "NotFound", f'pods "{pod_name}" not found')
        spec = pod.spec
        if container not in [c.name for c in [*spec.containers, *(spec.init_containers or []),
                                              *(spec.ephemeral_containers or [])]]:
            return None, status_response(400, "BadRequest", f"container {container} is not valid for pod {pod_name}")
        rp = await get_runtime_pod(self.host.runtime, pod.metadata.uid or "")
        picked = log_instance(pod, container, rp.by_name(container), previous)
        if isinstance(picked, str):
            return None, status_response(400, "BadRequest", picked)
        return picked, None

    async def container_logs(self, request: Request) -> Response:
        ns, pod, container = (request.path_params[k] for k in ("namespace", "pod", "container"))
        q = dict(request.query_params)
        try:
            opts = LogOptions.from_query(q)
        except ValueError as e:
            return status_response(400, "BadRequest", str(e))
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
