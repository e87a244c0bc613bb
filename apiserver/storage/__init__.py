"""Storage for the apiserver: the kine-style `Backend` protocol and its drivers.

Owns: choosing a driver by URL (`open_backend`). The protocol, value types and errors are
in `interface.py`; drivers in `memory.py`, `sqlite.py` (default) and `etcd.py`;
`etcd_server.py` runs a private etcd for tests and benchmarks.

    memory://                              everything in this process, gone on exit
    sqlite:///abs/path/state.db            one file (also sqlite://relative/path.db)
    etcd://host:port[,host:port...]        an etcd v3 cluster (default port 2379)

`open_backend` only builds the driver; call `await backend.start()` before use and
`await backend.close()` after.
"""
from __future__ import annotations

from .interface import (
    Backend, CompactedError, ConflictError, Event, KeyExistsError, KeyValue, ListResult,
    NotFoundError, StorageError,
)

__all__ = [
    "Backend", "CompactedError", "ConflictError", "Event", "KeyExistsError", "KeyValue",
    "ListResult", "NotFoundError", "StorageError", "open_backend",
]


def open_backend(url: str) -> Backend:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"storage URL {url!r} has no scheme (memory://, sqlite://, etcd://)")
    scheme = scheme.lower()
    if scheme == "memory":
        from .memory import MemoryBackend
        return MemoryBackend()
    if scheme == "sqlite":
        from .sqlite import SqliteBackend
        path = rest.split("?", 1)[0]
        if not path:
            raise ValueError(f"storage URL {url!r} names no file (sqlite:///abs/path/state.db)")
        return SqliteBackend(path)
    if scheme == "etcd":
        from .etcd import EtcdBackend, parse_endpoints
        return EtcdBackend(parse_endpoints(rest.split("/", 1)[0]))
    raise ValueError(f"unknown storage scheme {scheme!r} in {url!r} (memory, sqlite, etcd)")
