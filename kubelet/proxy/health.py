"""kube-proxy's small HTTP endpoints: /healthz and /livez (10256), /metrics (10249).

Owns `HTTPEndpoint`, a minimal asyncio HTTP/1.1 server (one request per connection, GET
only) mapping paths to handlers that return (status, content type, body), and
`parse_bind` for `host:port` flags (`[::]:10256` too; port 0 picks a free port, read back
from `.port`). Handlers are plain functions: no I/O, they read the proxier's state.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

Response = tuple[int, str, bytes]
Handler = Callable[[], Response]
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


def parse_bind(text: str, default_port: int) -> tuple[str, int]:
    """`0.0.0.0:10256`, `[::]:10256`, `127.0.0.1` or `:10256` -> (host, port)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":")
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    return host or "0.0.0.0", int(port) if port else default_port


class HTTPEndpoint:
    def __init__(self, bind: str, default_port: int, routes: dict[str, Handler]) -> None:
        self.host, self.port = parse_bind(bind, default_port)
        self.routes = routes
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            method, path, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            path = path.split("?", 1)[0]
            handler = self.routes.get(path)
            if method not in ("GET", "HEAD"):
                status, ctype, body = 405, "text/plain", b"method not allowed\n"
            elif handler is None:
                status, ctype, body = 404, "text/plain", b"404 page not found\n"
            else:
                status, ctype, body = handler()
            writer.write(f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\nContent-Type: {ctype}\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
            if method != "HEAD":
                writer.write(body)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError,
                ValueError):
            pass
        except Exception:  # a handler bug must not kill the server
            log.exception("http endpoint: handler failed")
        finally:
            writer.close()
