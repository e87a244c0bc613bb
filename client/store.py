"""The informer's cache: objects by `namespace/name` key, plus secondary indexes.

Owns `Store` (get, list, keys, by_index, add_index) and the built-in index functions
"namespace", "owner_uid" and "node_name". Pure data, no I/O, no asyncio: the informer is
the only writer. Objects may be models or dicts (a raw informer for a `ResourceInfo`).

Invariant: for every index, `by_index(name, v)` holds exactly the stored objects whose
index function returned `v`. Stored objects are shared with every reader: never mutate
one in place (copy first: `obj.model_copy(deep=True)`).
"""
from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from typing import Any

IndexFunc = Callable[[Any], Iterable[str]]


def meta_of(obj: Any) -> Any:
    return (obj.get("metadata") or {}) if isinstance(obj, dict) else obj.metadata


def _field(meta: Any, name: str, attr: str) -> Any:
    return meta.get(name) if isinstance(meta, dict) else getattr(meta, attr, None)


def object_key(obj: Any) -> str:
    """`namespace/name`, or `name` for a cluster-scoped object (matches `K8sObject.key`)."""
    meta = meta_of(obj)
    ns, name = _field(meta, "namespace", "namespace"), _field(meta, "name", "name") or ""
    return f"{ns}/{name}" if ns else name


def split_key(key: str) -> tuple[str | None, str]:
    """`ns/name` -> (ns, name); `name` -> (None, name)."""
    ns, sep, name = key.partition("/")
    return (ns, name) if sep else (None, ns)


def index_namespace(obj: Any) -> list[str]:
    ns = _field(meta_of(obj), "namespace", "namespace")
    return [ns] if ns else []


def index_owner_uid(obj: Any) -> list[str]:
    refs = _field(meta_of(obj), "ownerReferences", "owner_references") or []
    return [r["uid"] if isinstance(r, dict) else r.uid for r in refs]


def index_node_name(obj: Any) -> list[str]:
    spec = obj.get("spec") if isinstance(obj, dict) else getattr(obj, "spec", None)
    if spec is None:
        return []
    node = spec.get("nodeName") if isinstance(spec, dict) else getattr(spec, "node_name", None)
    return [node] if node else []


BUILTIN_INDEXES: dict[str, IndexFunc] = {
    "namespace": index_namespace,
    "owner_uid": index_owner_uid,
    "node_name": index_node_name,
}


class Store:
    """Thread-unsafe (single event loop) keyed cache with indexes."""

    def __init__(self, indexes: dict[str, IndexFunc] | None = None) -> None:
        self._items: dict[str, Any] = {}
        self._funcs: dict[str, IndexFunc] = {}
        self._indices: dict[str, dict[str, set[str]]] = {}   # index -> value -> keys
        self._values: dict[str, dict[str, builtins.list[str]]] = {}   # index -> key -> values
        for name, fn in (BUILTIN_INDEXES if indexes is None else indexes).items():
            self.add_index(name, fn)

    # ---------------------------------------------------------------- reads
    def get(self, key: str) -> Any | None:
        return self._items.get(key)

    def get_by_name(self, namespace: str | None, name: str) -> Any | None:
        return self._items.get(f"{namespace}/{name}" if namespace else name)

    def list(self) -> builtins.list[Any]:
        return list(self._items.values())

    def keys(self) -> builtins.list[str]:
        return list(self._items)

    def by_index(self, name: str, value: str) -> builtins.list[Any]:
        keys = self._indices[name].get(value, ())
        return [self._items[k] for k in keys]

    def index_keys(self, name: str, value: str) -> builtins.list[str]:
        return list(self._indices[name].get(value, ()))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    # ---------------------------------------------------------------- writes
    def add_index(self, name: str, fn: IndexFunc) -> None:
        """Add (or replace) an index; existing objects are indexed at once."""
        if name in self._funcs:
            del self._funcs[name], self._indices[name], self._values[name]
        self._funcs[name] = fn
        self._indices[name] = {}
        self._values[name] = {}
        for key, obj in self._items.items():
            self._index_one(name, key, obj)

    def put(self, obj: Any) -> tuple[str, Any | None]:
        """Insert or replace; returns (key, previous object or None)."""
        key = object_key(obj)
        old = self._items.get(key)
        if old is not None:
            self._unindex(key)
        self._items[key] = obj
        for name in self._funcs:
            self._index_one(name, key, obj)
        return key, old

    def remove(self, key: str) -> Any | None:
        """Delete by key; returns the removed object or None."""
        old = self._items.pop(key, None)
        if old is not None:
            self._unindex(key)
        return old

    def replace(self, objs: Iterable[Any]) -> None:
        """Drop everything and load `objs` (no diff; the informer diffs before calling)."""
        self._items.clear()
        for name in self._funcs:
            self._indices[name].clear()
            self._values[name].clear()
        for obj in objs:
            self.put(obj)

    def _index_one(self, name: str, key: str, obj: Any) -> None:
        values = list(dict.fromkeys(self._funcs[name](obj)))
        if not values:
            return
        self._values[name][key] = values
        index = self._indices[name]
        for v in values:
            index.setdefault(v, set()).add(key)

    def _unindex(self, key: str) -> None:
        for name, per_key in self._values.items():
            index = self._indices[name]
            for v in per_key.pop(key, ()):
                keys = index.get(v)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[v]
