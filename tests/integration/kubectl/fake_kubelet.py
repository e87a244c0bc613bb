"""Test support: a stand-in kubelet for `logs` and `exec` through the apiserver's proxy.

Serves HTTPS on a free loopback port (with any certificate: the apiserver does not verify
kubelets) the two kubelet endpoints the proxy calls:
- `GET /containerLogs/{ns}/{pod}/{container}` answers `log line N from {container}` lines
  (`tailLines` keeps the last N of five) followed by the query it received;
- `/exec/{ns}/{pod}/{container}?command=...` (WebSocket, v5/v4 channel protocol): for
  `echo ARGS...` writes ARGS on stdout; for `cat` copies stdin to stdout until stdin is
  closed; for `fail N` writes `oops` on stderr and ends with exit code N.
"""
from __future__ import annotations

import contextlib
import http
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

SUCCESS = {"metadata": {}, "status": "Success"}


def _failure(code: int) -> dict[str, object]:
    return {"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
            "message": f"command terminated with non-zero exit code: exit status {code}",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def _logs(request: Request) -> Response:
    url = urlsplit(request.path)
    _, _, ns, pod, container = url.path.split("/")
    q = {k: v[-1] for k, v in parse_qs(url.query).items()}
    lines = [f"log line {i} from {container}" for i in range(1, 6)]
    if "tailLines" in q:
        lines = lines[-int(q["tailLines"]):]
    body = "".join(line + "\n" for line in lines) + f"query: {json.dumps(q, sort_keys=True)}\n"
    headers = Headers([("Content-Type", "text/plain"), ("Content-Length", str(len(body.encode()))),
                       ("Connection", "close")])   # websockets closes after an HTTP answer
    return Response(http.HTTPStatus.OK.value, "OK", headers, body.encode())


async def _process_request(connection: ServerConnection, request: Request) -> Response | None:
    if request.path.startswith("/containerLogs/"):
        return _logs(request)
    return None


async def _exec(ws: ServerConnection) -> None:
    assert ws.request is not None
    q = parse_qs(urlsplit(ws.request.path).query)
    command = q.get("command", [])
    if command[:1] == ["echo"]:
        await ws.send(b"\x01" + (" ".join(command[1:]) + "\n").encode())
        await ws.send(b"\x03" + json.dumps(SUCCESS).encode())
    elif command[:1] == ["cat"]:
        async for msg in ws:
            data = msg if isinstance(msg, bytes) else msg.encode()
            if data[:1] == b"\x00":
                await ws.send(b"\x01" + data[1:])
            elif data[:1] == b"\xff":
                break
        await ws.send(b"\x03" + json.dumps(SUCCESS).encode())
    elif command[:1] == ["fail"]:
        await ws.send(b"\x02oops\n")
        await ws.send(b"\x03" + json.dumps(_failure(int(command[1]))).encode())
    await ws.close()


@contextlib.asynccontextmanager
async def fake_kubelet(cert: Path, key: Path) -> AsyncIterator[int]:
    """Run the fake kubelet; yields its port."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    async with serve(_exec, "127.0.0.1", 0, ssl=ctx, process_request=_process_request,
                     subprotocols=["v5.channel.k8s.io", "v4.channel.k8s.io"],  # type: ignore[list-item]
                     compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield port
