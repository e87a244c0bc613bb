"""open_backend: choosing a driver by URL."""
from __future__ import annotations

import pytest

from apiserver.storage import open_backend
from apiserver.storage.etcd import EtcdBackend, parse_endpoints
from apiserver.storage.memory import MemoryBackend
from apiserver.storage.sqlite import SqliteBackend


def test_schemes() -> None:
    assert isinstance(open_backend("memory://"), MemoryBackend)
    abs_store = open_backend("sqlite:///var/lib/pykube/state.db")
    assert isinstance(abs_store, SqliteBackend) and abs_store.path == "/var/lib/pykube/state.db"
    rel_store = open_backend("sqlite://data/state.db")
    assert isinstance(rel_store, SqliteBackend) and rel_store.path == "data/state.db"
    etcd = open_backend("etcd://h1:2379,h2:2380")
    assert isinstance(etcd, EtcdBackend) and etcd.endpoints == [("h1", 2379), ("h2", 2380)]


def test_endpoint_forms() -> None:
    assert parse_endpoints("h1") == [("h1", 2379)]
    assert parse_endpoints("[::1]:2381, 10.0.0.1") == [("::1", 2381), ("10.0.0.1", 2379)]


@pytest.mark.parametrize("url", ["nope", "mysql://x", "sqlite://", "etcd://", "etcd://h:port"])
def test_bad_urls_say_why(url: str) -> None:
    with pytest.raises(ValueError):
        open_backend(url)
