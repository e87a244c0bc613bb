"""A lean HTTP/1.1 load generator for the apiserver benchmarks: pod creates over keep-alive TLS.

Owns `create_pods(...)`: `concurrency` keep-alive connections, each sending
`POST /api/v1/namespaces/<ns>/pods` one after another, with request bytes built from a
pre-encoded body and responses read by Content-Length (or chunked), so the client spends
well under a tenth of a millisecond per request and the figures measure the server, not
the client. Two untimed creates per connection warm the server up first. Run as a module it is one load process (`bench/api.py` starts one or more):

    python -m bench.loadgen --server https://127.0.0.1:6443 --token T --ca ca.crt \
        --pods 2000 --first 0 --concurrency 32

and prints one JSON object: {"start", "end" (CLOCK_MONOTONIC seconds), "latencies" (s)}.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
import time
from typing import Any, Iterator
from urllib.parse import urlsplit

POD: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "NAME", "labels": {"app": "bench"}},
    "spec": {"containers": [{"name": "c", "image": "nginx:1.14.2", "ports": [{"containerPort": 80}],
                             "env": [{"name": f"E{i}", "value": "x" * 20} for i in range(8)]}]}}


class LoadError(Exception):
    """The server answered something other than 201 Created."""


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked = -1, False
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        k = k.strip().lower()
        if k == b"content-length":
            length = int(v)
        elif k == b"transfer-encoding" and b"chunked" in v.lower():
            chunked = True
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(data[:-2])
        return status, b"".join(parts)
    return status, await reader.readexactly(length) if length > 0 else b""


def _requests(host: str, token: str, namespace: str, names: Iterator[str]) -> Iterator[bytes]:
    before, after = json.dumps(POD, separators=(",", ":")).encode().split(b'"NAME"')
    head = (f"POST /api/v1/namespaces/{namespace}/pods HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: application/json\r\n"
            f"Content-Type: application/json\r\nUser-Agent: pykube-bench\r\n").encode()
    for name in names:
        body = before + b'"' + name.encode() + b'"' + after
        yield head + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body


async def create_pods(server: str, token: str, ca_file: str, n: int, first: int = 0,
                      concurrency: int = 32, namespace: str = "default") -> dict[str, Any]:
    """Create pods bench-<first>..bench-<first+n-1>; {"start", "end", "latencies"}."""
    u = urlsplit(server)
    ctx = ssl.create_default_context(cafile=ca_file) if u.scheme == "https" else None
    port = u.port or (443 if ctx else 80)
    conns = [await asyncio.open_connection(u.hostname, port, ssl=ctx)
             for _ in range(max(1, min(concurrency, n)))]
    latencies: list[float] = []

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     requests: Iterator[bytes], timed: bool) -> None:
        for req in requests:
            t0 = time.perf_counter()
            writer.write(req)
            status, body = await _read_response(reader)
            if timed:
                latencies.append(time.perf_counter() - t0)
            if status != 201:
                raise LoadError(f"create failed: {status} {body[:300].decode(errors='replace')}")

    # warm up (untimed): a couple of creates per connection, so the first timed requests
    # do not pay for the server's lazy start-up work
    warm = _requests(u.netloc, token, namespace, (f"warm-{first}-{i}" for i in range(2 * len(conns))))
    await asyncio.gather(*(worker(r, w, warm, False) for r, w in conns))
    requests = _requests(u.netloc, token, namespace, (f"bench-{i}" for i in range(first, first + n)))
    start = time.monotonic()
    try:
        await asyncio.gather(*(worker(r, w, requests, True) for r, w in conns))
    finally:
        end = time.monotonic()
        for _, w in conns:
            w.close()
    return {"start": start, "end": end, "latencies": latencies}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--pods", type=int, default=2000)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    try:
        out = asyncio.run(create_pods(args.server, args.token, args.ca, args.pods, args.first,
                                      args.concurrency))
    except LoadError as e:
        print(str(e), file=sys.stderr)
        sys.exit(1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
