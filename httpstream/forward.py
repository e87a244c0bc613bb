"""Forwarding one request to a backend (a kubelet, a pod, a service's endpoint, an apiserver).

Owns `BackendProxy.forward(request, scheme, host, port, target, token)`, Kubernetes'
"upgrade-aware proxy" in small (the apiserver's connect and proxy subresources use it, and
`kubectl proxy` through client/apiproxy.py):
- a plain request is sent on with httpx (body streamed both ways); hop-by-hop headers,
  the client's credentials and impersonation headers stay behind, the backend gets the
  apiserver's own token when one is given (kubelets) and none otherwise (pods);
- an `Upgrade:` request (WebSocket, SPDY/3.1) is sent as a raw HTTP/1.1 request head; a
  backend's 101 is passed to the client as it came and the two connections are joined
  byte for byte (`httpstream.upgrade.relay`), so whatever the client and the backend
  negotiated (v5 channels, SPDY tunnels, an application's own WebSocket) passes
  untouched; any other answer goes back as an ordinary response.
A backend that cannot be reached is a 503 ServiceUnavailable Status, as from kube-apiserver.
TLS to the backend uses the context given (the apiserver's: unverified, see kubeletproxy.py).
"""
from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator

import httpx
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from httpstream import upgrade
from httpstream.hijack import hijack, upgrade_of

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "host", "content-length"}
_CLIENT_ONLY = {"authorization", "cookie"}


def insecure_tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def outgoing_headers(headers: list[tuple[str, str]], token: str | None, upgrading: bool) -> list[tuple[str, str]]:
    """The client's headers as the backend should see them."""
    out = []
    for k, v in headers:
        lk = k.lower()
        if lk in _CLIENT_ONLY or lk.startswith("impersonate-"):
            continue
        if lk in HOP_BY_HOP and not (upgrading and lk in ("connection", "upgrade", "content-length")):
            continue
        out.append((k, v))
    if token:
        out.append(("Authorization", f"Bearer {token}"))
    return out


def incoming_headers(headers: httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "set-cookie"}


def unreachable(host: str, port: int, e: Exception) -> Response:
    message = f"error trying to reach service: dial tcp {_bracket(host)}:{port}: {e or type(e).__name__}"
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": "ServiceUnavailable", "code": 503}
    return Response(json.dumps(body), status_code=503, media_type="application/json")


async def streamed(resp: httpx.Response) -> AsyncIterator[bytes]:
    """A streamed httpx response's bytes as they come (closed at the end or on error)."""
    try:
        async for chunk in resp.aiter_raw():
            yield chunk
    except httpx.HTTPError:
        return
    finally:
        await resp.aclose()


class BackendProxy:
    def __init__(self, timeout: float = 30.0, tls: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self.tls = tls or insecure_tls()
        self.sessions = upgrade.Sessions()
        self._http = httpx.AsyncClient(verify=self.tls, trust_env=False, follow_redirects=False,
                                       timeout=httpx.Timeout(timeout, read=None))

    async def close(self) -> None:
        await self.sessions.close_all()
        await self._http.aclose()

    async def forward(self, request: Request, scheme: str, host: str, port: int, target: str,
                      token: str | None = None) -> Response:
        """Send `request` on to `scheme://host:port{target}` and answer with what comes back."""
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]]
        if upgrade_of(request.scope["headers"]):
            return await self._upgrade(request, scheme, host, port, target, outgoing_headers(headers, token, True))
        url = f"{scheme}://{_bracket(host)}:{port}{target}"
        has_body = request.method not in ("GET", "HEAD", "DELETE", "OPTIONS")
        req = self._http.build_request(request.method, url, headers=outgoing_headers(headers, token, False),
                                       content=request.stream() if has_body else None)
        try:
            resp = await self._http.send(req, stream=True)
        except httpx.HTTPError as e:
            return unreachable(host, port, e)

        return StreamingResponse(streamed(resp), status_code=resp.status_code, headers=incoming_headers(resp.headers))

    async def _upgrade(self, request: Request, scheme: str, host: str, port: int, target: str,
                       headers: list[tuple[str, str]]) -> Response:
        try:
            head, reader, writer = await upgrade.open_upgrade(
                host, port, request.method, target, headers, self.tls if scheme == "https" else None, self.timeout)
        except (OSError, ConnectionError, TimeoutError) as e:
            return unreachable(host, port, e)
        if head.status != 101:
            body = await upgrade.read_body(head, reader)
            await upgrade.close(writer)
            keep = {k: v for k, v in head.headers if k.lower() not in HOP_BY_HOP}
            return Response(body, status_code=head.status, headers=keep)
        client = hijack(request.scope)
        self.sessions.add(client[1], writer)
        try:
            client[1].write(head.raw)
            await upgrade.relay(client, (reader, writer))
        finally:
            self.sessions.discard(client[1], writer)
        return Response(status_code=101)   # not sent: the connection was handed over


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host
