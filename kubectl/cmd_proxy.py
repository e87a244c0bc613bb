"""`pykubectl proxy [-p PORT] [--address ADDR] [--api-prefix /] [--accept-hosts RE] ...`.

Serves the apiserver on a local port with the kubeconfig's credentials, as kubectl proxy
does: `Starting to serve on 127.0.0.1:8001`, everything under `--api-prefix` forwarded
(client/apiproxy.py), and kubectl's filter: only the accepted hosts (localhost by
default), no exec or attach paths unless `--disable-filter`, 403 "Forbidden" otherwise.
`-p 0` picks a free port. Runs until interrupted. `allowed` is pure.
"""
from __future__ import annotations

import argparse
import asyncio
import re
import signal
import socket

from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError

ACCEPT_HOSTS = r"^localhost$,^127\.0\.0\.1$,^\[::1\]$"
REJECT_PATHS = r"^/api/.*/pods/.*/exec,^/api/.*/pods/.*/attach"


def configure(p: Parser) -> None:
    """Run a proxy to the Kubernetes API server."""
    p.add_argument("-p", "--port", type=int, default=8001, help="the port to serve on (0: a random one)")
    p.add_argument("--address", default="127.0.0.1", help="the IP address to serve on")
    p.add_argument("--api-prefix", default="/", help="the prefix the API is served under")
    p.add_argument("--accept-hosts", default=ACCEPT_HOSTS, help="regular expressions of hosts to accept")
    p.add_argument("--accept-paths", default="^.*", help="regular expressions of paths to accept")
    p.add_argument("--reject-paths", default=REJECT_PATHS, help="regular expressions of paths to reject")
    p.add_argument("--reject-methods", default="^$", help="regular expressions of methods to reject")
    p.add_bool("--disable-filter", help="accept every request (dangerous)")


def _patterns(text: str) -> list[re.Pattern[str]]:
    return [re.compile(p) for p in text.split(",") if p]


def allowed(args: argparse.Namespace, method: str, path: str, host: str) -> bool:
    """kubectl proxy's request filter."""
    if args.disable_filter:
        return True
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if not any(p.search(hostname) for p in _patterns(args.accept_hosts)):
        return False
    if any(p.search(path) for p in _patterns(args.reject_paths)):
        return False
    if not any(p.search(path) for p in _patterns(args.accept_paths)):
        return False
    return not any(p.search(method) for p in _patterns(args.reject_methods))


async def run(ctx: Context, args: argparse.Namespace) -> int:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    from client.apiproxy import ApiServerForwarder
    from httpstream.hijack import HijackableHttpToolsProtocol

    prefix = "/" + args.api_prefix.strip("/")
    prefix = prefix.rstrip("/") + "/"
    forwarder = ApiServerForwarder(ctx.config)

    async def handle(request: Request) -> Response:
        path = request.url.path
        if not path.startswith(prefix) and path + "/" != prefix:
            return PlainTextResponse("404 page not found\n", status_code=404)
        backend = "/" + path[len(prefix):] if path.startswith(prefix) else "/"
        if not allowed(args, request.method, backend, request.headers.get("host", "")):
            return PlainTextResponse("Forbidden\n", status_code=403)
        raw = request.scope.get("raw_path", b"").decode("latin-1") or path
        target = "/" + raw[len(prefix):] if raw.startswith(prefix) else backend
        query = request.url.query
        return await forwarder.forward(request, target + (f"?{query}" if query else ""))

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", handle, methods=methods)])
    try:
        sock = socket.socket(socket.AF_INET6 if ":" in args.address else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.address, args.port))
    except OSError as e:
        raise CmdError(f"listen tcp {args.address}:{args.port}: bind: {e.strerror.lower() if e.strerror else e}") from None
    sock.listen(128)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                            http=HijackableHttpToolsProtocol, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    server.capture_signals = _no_signals  # type: ignore[method-assign,assignment]
    host, port = sock.getsockname()[:2]
    ctx.out(f"Starting to serve on {host}:{port}\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await asyncio.wait([serving, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
    finally:
        server.should_exit = True
        await forwarder.close()
        await asyncio.gather(serving, return_exceptions=True)
    return 0


def _no_signals() -> object:
    import contextlib
    return contextlib.nullcontext()


COMMANDS = {"proxy": (configure, run)}
