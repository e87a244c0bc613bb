"""The ingress controller against the in-process apiserver with a real nginx (the process
data plane: nginx as the controller's child on loopback ports) and real HTTP backends on
loopback, their addresses published in EndpointSlices as the EndpointSlice controller
would: host and path routing with Kubernetes' precedence, the default backend, TLS from a
kubernetes.io/tls Secret chosen by SNI, a quick reroute with no failed request, broken
Ingresses reported in Events while the others keep serving, and status.loadBalancer."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import shutil
import socket
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.models import Event, Ingress
from client import kubeconfig
from client.rest import Client
from ingress.cli import run_ingress
from ingress.dataplane import manifests
from tests.support.apps_cluster import eventually

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (nginx-light)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def backend(name: str) -> tuple[asyncio.Server, int]:
    """A tiny HTTP server answering `<name> <path>`."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ")[1].decode()
            body = f"{name} {path}".encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            await writer.drain()
        writer.close()
    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    return srv, srv.sockets[0].getsockname()[1]


def service(name: str, namespace: str = "default", port: int = 80, port_name: str = "") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {"ports": [{"name": port_name, "port": port, "targetPort": 8080}]}}


def endpoint_slice(svc: str, port: int, port_name: str = "") -> dict[str, Any]:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": f"{svc}-abc", "namespace": "default", "labels": {"kubernetes.io/service-name": svc}},
            "ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
            "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": True}}]}


def backend_ref(svc: str, port: int | str = 80) -> dict[str, Any]:
    return {"service": {"name": svc, "port": {"number": port} if isinstance(port, int) else {"name": port}}}


def path(p: str, path_type: str, svc: str, port: int | str = 80) -> dict[str, Any]:
    return {"path": p, "pathType": path_type, "backend": backend_ref(svc, port)}


def ingress(name: str, spec: dict[str, Any], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default"}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec}


def tls_secret(name: str, host: str, mismatched_key: bool = False) -> dict[str, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(key, hashes.SHA256()))
    if mismatched_key:
        key = ec.generate_private_key(ec.SECP256R1())
    crt_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": "default"},
            "data": {"tls.crt": base64.b64encode(crt_pem).decode(), "tls.key": base64.b64encode(key_pem).decode()}}


@dataclass
class Env:
    api: Client
    http: httpx.AsyncClient
    http_port: int
    https_port: int

    async def get(self, host: str, p: str) -> tuple[int, str]:
        """One request on a new connection, as curl makes it (a client reusing an idle
        keep-alive connection must retry when the server closes it, as a reload does)."""
        r = await self.http.get(f"http://127.0.0.1:{self.http_port}{p}", headers={"Host": host, "Connection": "close"})
        return r.status_code, r.text

    async def answers(self, host: str, p: str, want: tuple[int, str], times: int = 10) -> bool:
        """`times` answers in a row are `want`: nginx's old workers, which may still take a
        connection or two just after a reload, have gone."""
        with contextlib.suppress(httpx.HTTPError):
            for _ in range(times):
                if await self.get(host, p) != want:
                    return False
            return True
        return False

    async def served_cn(self, host: str) -> str:
        """The common name of the certificate nginx presents for SNI `host`."""
        from cryptography import x509
        from cryptography.x509.oid import NameOID
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        _, writer = await asyncio.open_connection("127.0.0.1", self.https_port, ssl=ctx, server_hostname=host)
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.close()
        cert = x509.load_der_x509_certificate(der)
        return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)

    async def events(self, name: str) -> list[tuple[str, str]]:
        evs = (await self.api.list(Event, "default")).items
        return [(e.reason or "", e.message or "") for e in evs if e.involved_object.name == name]


@pytest.fixture
async def env(apiserver: Any, tmp_path: Path) -> AsyncIterator[Env]:
    api = Client(kubeconfig.load(str(apiserver.kubeconfig_path)), component="test")
    servers = []
    for name in ("apple", "banana"):
        srv, port = await backend(name)
        servers.append(srv)
        await api.create(service(name))
        await api.create(endpoint_slice(name, port))
    await api.create(manifests("node", tmp_path)[0])      # the default IngressClass "nginx"
    http_port, https_port = free_port(), free_port()
    task = asyncio.create_task(run_ingress(api, "node", tmp_path / "conf", "process",
                                           f"127.0.0.1:{http_port}", f"127.0.0.1:{https_port}"))
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            yield Env(api, http, http_port, https_port)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for srv in servers:
            srv.close()
        await api.close()


FRUIT = ingress("fruit", {"rules": [
    {"host": "fruit.local", "http": {"paths": [path("/apple", "Prefix", "apple"), path("/banana", "Prefix", "banana"),
                                               path("/apple/special", "Exact", "banana"),
                                               path("/apple/long/er", "Prefix", "banana")]}},
    {"host": "*.fruit.local", "http": {"paths": [path("/", "Prefix", "banana")]}},
]})


async def test_routing_precedence_and_default_backend(env: Env) -> None:
    await env.api.create(FRUIT)
    await eventually(lambda: env.answers("fruit.local", "/apple", (200, "apple /apple")), what="/apple routed")
    assert await env.get("fruit.local", "/apple/x") == (200, "apple /apple/x")
    assert await env.get("fruit.local", "/banana") == (200, "banana /banana")
    assert await env.get("fruit.local", "/apple/special") == (200, "banana /apple/special")   # Exact first
    assert await env.get("fruit.local", "/apple/special/x") == (200, "apple /apple/special/x")
    assert await env.get("fruit.local", "/apple/long/er/x") == (200, "banana /apple/long/er/x")  # longest prefix
    assert (await env.get("fruit.local", "/applepie"))[0] == 404                  # element-wise prefix
    assert await env.get("www.fruit.local", "/x") == (200, "banana /x")           # wildcard: one label
    assert (await env.get("a.b.fruit.local", "/x"))[0] == 404
    assert await env.get("unknown.example", "/apple") == (404, "default backend - 404\n")
    ing = await eventually(lambda: env.api.get(Ingress, "fruit", "default"))
    assert ing.spec.ingress_class_name == "nginx"                                 # the default class


async def test_tls_reroute_without_failures_and_status(env: Env) -> None:
    await env.api.create(tls_secret("fruit-tls", "fruit.local"))
    await env.api.create({**FRUIT, "spec": {**FRUIT["spec"], "tls": [{"hosts": ["fruit.local"],
                                                                      "secretName": "fruit-tls"}]}})
    await eventually(lambda: env.answers("fruit.local", "/banana", (200, "banana /banana")), what="routed")
    assert await env.served_cn("fruit.local") == "fruit.local"
    assert await env.served_cn("other.local") == "Kubernetes Ingress Controller Fake Certificate"

    lb = await env.api.create({**service("ingress-nginx", "kube-system"), "spec": {
        "type": "LoadBalancer", "ports": [{"name": "http", "port": 80, "targetPort": 80}]}})
    lb["status"] = {"loadBalancer": {"ingress": [{"ip": "192.0.2.7"}]}}
    await env.api.update_status(lb)

    async def has_address() -> bool:
        st = (await env.api.get(Ingress, "fruit", "default")).to_dict().get("status") or {}
        return st.get("loadBalancer") == {"ingress": [{"ip": "192.0.2.7"}]}
    await eventually(has_address, what="status.loadBalancer")

    failures: list[Any] = []
    stop = asyncio.Event()

    async def load() -> int:
        n = 0
        while not stop.is_set():
            try:
                code, _ = await env.get("fruit.local", "/banana")
                if code != 200:
                    failures.append(code)
            except httpx.HTTPError as e:
                failures.append(e)
            n += 1
        return n
    loaders = [asyncio.create_task(load()) for _ in range(4)]
    await env.api.patch(Ingress, "fruit", {"spec": {"rules": [{"host": "fruit.local", "http": {"paths": [
        path("/banana", "Prefix", "banana"), path("/apple", "Prefix", "banana")]}}]}}, "default")
    start = time.monotonic()
    await eventually(lambda: env.answers("fruit.local", "/apple", (200, "banana /apple")), what="the reroute")
    print(f"rerouted in {time.monotonic() - start:.2f} s")
    stop.set()
    counts = await asyncio.gather(*loaders)
    assert failures == [] and sum(counts) > 20


async def test_broken_ingresses_are_reported_and_others_keep_serving(env: Env) -> None:
    await env.api.create(FRUIT)
    await eventually(lambda: env.answers("fruit.local", "/apple", (200, "apple /apple")), what="routed")
    await env.api.create(ingress("nosvc", {"rules": [{"host": "nosvc.local", "http": {"paths": [
        path("/", "Prefix", "missing")]}}]}))
    await env.api.create(ingress("badnote", {"rules": [{"host": "badnote.local", "http": {"paths": [
        path("/", "Prefix", "apple")]}}]}, {"nginx.ingress.kubernetes.io/proxy-body-size": "lots"}))
    await env.api.create(tls_secret("mismatch", "bad.local", mismatched_key=True))
    await env.api.create(ingress("badcert", {"tls": [{"hosts": ["bad.local"], "secretName": "mismatch"}],
                                             "rules": [{"host": "bad.local", "http": {"paths": [
                                                 path("/", "Prefix", "apple")]}}]}))

    async def reported(name: str, reason: str) -> bool:
        return any(r == reason for r, _ in await env.events(name))
    await eventually(lambda: reported("nosvc", "BackendNotFound"), what="BackendNotFound event")
    assert ("BackendNotFound", 'service "default/missing" not found') in await env.events("nosvc")
    await eventually(lambda: reported("badnote", "InvalidAnnotation"), what="InvalidAnnotation event")
    await eventually(lambda: reported("badcert", "RejectedByNginx"), what="RejectedByNginx event")
    assert any("nginx -t refused" in m for _, m in await env.events("badcert"))
    await eventually(lambda: env.answers("nosvc.local", "/", (503, env_503)), what="503 for the missing service")
    assert (await env.get("badnote.local", "/"))[0] == 404                # left out: the default backend
    assert (await env.get("bad.local", "/"))[0] == 404
    assert await env.get("fruit.local", "/apple") == (200, "apple /apple")   # the rest keeps serving


env_503 = ("<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
           "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n"
           "</body>\r\n</html>\r\n")
