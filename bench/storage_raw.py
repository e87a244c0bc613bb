"""Raw storage write rate: creates per second straight on a Backend, no apiserver on top.

Owns: `raw_write_rate(backend, n, concurrency)`, the baseline the apiserver benchmark divides
its creates/s by, and a `__main__` that prints it for memory, sqlite (a temp file) and etcd
(a private etcd in a temp dir). Figures only; never pass/fail.

    python bench/storage_raw.py [-n 5000] [--concurrency 32] [--backends memory,sqlite,etcd]
                                [--json]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apiserver.storage import Backend, open_backend
from apiserver.storage.etcd_server import EtcdServer

VALUE_SIZE = 1024


async def raw_write_rate(backend: Backend, n: int, concurrency: int = 32) -> float:
    """Create n keys (~1 KiB values) with `concurrency` concurrent writers; creates/second.

    The backend must be started; keys go under a fresh `/bench/raw/<id>/` prefix."""
    prefix = f"/bench/raw/{uuid.uuid4().hex[:8]}/"
    value = (b'{"kind":"ConfigMap","data":{"blob":"' + b"x" * VALUE_SIZE)[:VALUE_SIZE - 3] + b'"}}'
    counter = iter(range(n))

    async def writer() -> None:
        for i in counter:
            await backend.create(f"{prefix}{i:08d}", value)

    start = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(max(1, min(concurrency, n)))))
    return n / (time.perf_counter() - start)


async def _rate_for(url: str, n: int, concurrency: int) -> float:
    backend = open_backend(url)
    await backend.start()
    try:
        await raw_write_rate(backend, min(200, n), concurrency)      # warm up
        return await raw_write_rate(backend, n, concurrency)
    finally:
        await backend.close()


async def measure(backends: list[str], n: int, concurrency: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="pykube-bench-storage-") as tmp:
        for name in backends:
            if name == "memory":
                figures[name] = await _rate_for("memory://", n, concurrency)
            elif name == "sqlite":
                figures[name] = await _rate_for(f"sqlite://{tmp}/state.db", n, concurrency)
            elif name == "etcd":
                if shutil.which("etcd") is None:
                    print("etcd: skipped (no etcd binary)", file=sys.stderr)
                    continue
                async with EtcdServer(os.path.join(tmp, "etcd")) as server:
                    figures[name] = await _rate_for(server.url, n, concurrency)
            else:
                raise SystemExit(f"unknown backend {name!r} (memory, sqlite, etcd)")
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="creates per backend")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--backends", default="memory,sqlite,etcd")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args(argv)
    figures = asyncio.run(measure(args.backends.split(","), args.n, args.concurrency))
    for name, rate in figures.items():
        print(f"{name:>7}: {rate:10.0f} creates/s  (n={args.n}, concurrency={args.concurrency},"
              f" {VALUE_SIZE} B values)")
    if args.json:
        print(json.dumps({f"{name}_writes_per_s": round(rate, 1)
                          for name, rate in figures.items()}))


if __name__ == "__main__":
    main()
