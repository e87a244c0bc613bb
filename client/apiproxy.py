"""The apiserver as the backend of a local proxy (`pykubectl proxy`).

Owns `ApiServerForwarder`: a request received locally goes on to the kubeconfig's server with
its credentials (bearer token, client certificate) and TLS settings, through
`httpstream.forward.BackendProxy` (plain requests streamed both ways; `Upgrade:` requests,
such as exec through the proxy, relayed byte for byte after the apiserver's 101).
"""
from __future__ import annotations

import ssl
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from client.kubeconfig import ClientConfig
from httpstream.forward import BackendProxy


class ApiServerForwarder:
    def __init__(self, config: ClientConfig, timeout: float = 30.0) -> None:
        u = urlsplit(config.server)
        self.scheme = u.scheme or "https"
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or (443 if self.scheme == "https" else 80)
        self.base_path = u.path.rstrip("/")
        tls = config.ssl_context()
        self.proxy = BackendProxy(timeout, tls if isinstance(tls, ssl.SSLContext) else None)
        self.token = config.token

    async def forward(self, request: Request, target: str) -> Response:
        """Send `request` to the apiserver's `target` (path and query)."""
        return await self.proxy.forward(request, self.scheme, self.host, self.port, self.base_path + target,
                                        self.token)

    async def close(self) -> None:
        await self.proxy.close()
