"""Client certificates on the wire: the TLS context that asks for them, and the HTTP protocol
that hands the one a connection presented to the application.

Kubernetes asks for a client certificate without requiring one and checks it in its
authenticator, so an expired certificate is answered 401. Python's ssl can only ask with
verification: the context checks the chain against the cluster CA but, with OpenSSL's
X509_V_FLAG_NO_CHECK_TIME, not the dates, which `authenticator.user_from_certificate` checks.
uvicorn puts no certificate in the ASGI scope, so `ClientCertHttpToolsProtocol` adds it as
the ASGI TLS extension (`scope["extensions"]["tls"]["client_cert_der"]`).
"""
from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any, Callable

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

X509_V_FLAG_NO_CHECK_TIME = 0x200000


def context_factory(ca_file: Path) -> Callable[[Any, Callable[[], ssl.SSLContext]], ssl.SSLContext]:
    """An `ssl_context_factory` for uvicorn: the serving context, asking for client certs."""
    def factory(config: Any, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        ctx = default()
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.load_verify_locations(cafile=str(ca_file))
        ctx.verify_flags = ssl.VerifyFlags(ctx.verify_flags | X509_V_FLAG_NO_CHECK_TIME)
        return ctx
    return factory


class ClientCertHttpToolsProtocol(HttpToolsProtocol):
    _client_cert: bytes | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        self._client_cert = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._client_cert:
            self.scope["extensions"] = {"tls": {"client_cert_der": self._client_cert}}  # type: ignore[typeddict-unknown-key]
