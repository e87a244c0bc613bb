"""List and watch, served from the watch cache.

Owns: selector handling (label selectors, field selectors with the spec.nodeName index),
limit/continue pagination, Table answers, and the chunked watch stream with bookmarks,
timeoutSeconds, watch-list (`sendInitialEvents`) and 410 Expired for a too-old
resourceVersion. List bytes are assembled from each object's cached serialisation.
"""
from __future__ import annotations

import asyncio
import base64
from typing import Any, AsyncIterator, Callable

from starlette.responses import Response, StreamingResponse

from api import selectors
from api.resources import ResourceInfo
from apiserver import errors, strategies
from apiserver.wire import dumps, loads
from apiserver.request import json_response
from apiserver.storage.interface import CompactedError
from apiserver.watchcache import CachedObject, WatchCache, Watcher, bookmark_event

BOOKMARK_INTERVAL = 5.0
_NODE_FIELDS = ("spec.nodeName",)


class Selection:
    """A parsed list/watch request: namespace, selectors, and the node index hint."""

    def __init__(self, resource: ResourceInfo, namespace: str | None, query: dict[str, str]) -> None:
        self.resource, self.namespace = resource, namespace
        try:
            self.labels = selectors.parse_label_selector(query.get("labelSelector", ""))
            self.fields = selectors.parse_field_selector(query.get("fieldSelector", ""))
        except ValueError as e:
            raise errors.bad_request(str(e)) from None
        self.node_name: str | None = None
        rest = []
        allowed = strategies.for_resource(resource).field_labels()
        for f in self.fields:
            field, op, value = f
            if allowed is not None and field not in allowed:
                raise errors.bad_request(f'field label not supported: {field}')
            if field in _NODE_FIELDS and op in ("=", "=="):   # the cache's spec.nodeName index
                self.node_name = value
            else:
                rest.append(f)
        self.rest_fields = rest

    def match(self, co: CachedObject) -> bool:
        if not self.labels.empty and not self.labels.matches(co.labels):
            return False
        if self.rest_fields and not selectors.field_matches(co.obj, self.rest_fields):
            return False
        return True

    def objects(self, cache: WatchCache) -> list[CachedObject]:
        rc = cache.cache(self.resource)
        return [co for co in rc.select(self.namespace, self.node_name) if self.match(co)]


def _encode_continue(key: str, rv: int) -> str:
    return base64.urlsafe_b64encode(dumps({"k": key, "rv": rv})).decode()


def _decode_continue(token: str) -> tuple[str, int]:
    try:
        d = loads(base64.urlsafe_b64decode(token.encode()))
        return str(d["k"]), int(d["rv"])
    except (ValueError, KeyError, TypeError):
        raise errors.bad_request("continue key is not valid: illegal base64 data") from None


async def list_objects(cache: WatchCache, resource: ResourceInfo, namespace: str | None,
                       query: dict[str, str], table: str | None = None) -> Response:
    """A list (or, with `table` set to the includeObject mode, a Table) from the cache."""
    if query.get("resourceVersion") not in ("0",):
        await cache.sync()
    sel = Selection(resource, namespace, query)
    objs = sorted(sel.objects(cache), key=lambda o: o.key)
    rv = cache.rv
    cont = query.get("continue")
    if cont:
        start_key, _ = _decode_continue(cont)
        objs = [o for o in objs if o.key > start_key]
    limit = max(0, errors.integer("limit", query.get("limit") or 0))   # <= 0: no limit, as Kubernetes
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if limit and len(objs) > limit:
        meta["continue"] = _encode_continue(objs[limit - 1].key, rv)
        meta["remainingItemCount"] = len(objs) - limit
        objs = objs[:limit]
    if table:
        return json_response(make_table(resource, [o.obj for o in objs], meta, table))
    head = dumps({"kind": resource.list_kind, "apiVersion": resource.api_version, "metadata": meta})
    raws = [o.raw for o in objs] if not resource.storage_version else \
        [_as_version(resource, o.raw) for o in objs]
    body = head[:-1] + b',"items":[' + b",".join(raws) + b"]}"
    return json_response(body)


def _as_version(resource: ResourceInfo, raw: bytes) -> bytes:
    """A stored object's bytes as `resource`'s version (CRDs served at several versions
    convert with strategy None: only apiVersion changes)."""
    obj = loads(raw)
    if obj.get("apiVersion") == resource.api_version:
        return raw
    obj["apiVersion"] = resource.api_version
    return dumps(obj)


class VersionEvents:
    """Watch event lines with their object as `resource`'s version."""

    def __init__(self, resource: ResourceInfo, then: Callable[[bytes], bytes]) -> None:
        self.resource, self.then = resource, then

    def __call__(self, line: bytes) -> bytes:
        ev = loads(line)
        obj = ev.get("object")
        if isinstance(obj, dict) and obj.get("kind") == self.resource.kind and \
                obj.get("apiVersion") != self.resource.api_version:
            obj["apiVersion"] = self.resource.api_version
            line = dumps(ev) + b"\n"
        return self.then(line)


def make_table(resource: ResourceInfo, objs: list[dict[str, Any]], meta: dict[str, Any],
               include: str = "Metadata", headers: bool = True) -> dict[str, Any]:
    """A meta.k8s.io/v1 Table; `headers=False` leaves out the column definitions, as the
    events after the first of a Table watch do."""
    strategy = strategies.for_resource(resource)
    rows = []
    for o in objs:
        if include == "Object":
            ref = o
        elif include == "None":
            ref = None
        else:
            ref = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                   "metadata": o.get("metadata", {})}
        row: dict[str, Any] = {"cells": strategy.table_row(o)}
        if ref is not None:
            row["object"] = ref
        rows.append(row)
    columns = [c.definition() for c in strategy.table_columns()] if headers else []
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
            "columnDefinitions": columns, "rows": rows}


def _bookmark(resource: ResourceInfo, rv: int, initial_end: bool = False) -> bytes:
    return bookmark_event(resource, rv, initial_end)


def _expired(message: str) -> bytes:
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": message, "reason": "Expired", "code": 410}
    return dumps({"type": "ERROR", "object": status}) + b"\n"


class TableEvents:
    """Turns watch event lines into Table events (`kubectl get -w`): each object becomes a
    one-row Table; only the first event carries the column definitions."""

    def __init__(self, resource: ResourceInfo, include: str) -> None:
        self.resource, self.include, self.first = resource, include, True

    def __call__(self, line: bytes) -> bytes:
        ev = loads(line)
        typ, obj = ev.get("type"), ev.get("object") or {}
        if typ == "ERROR":
            return line
        meta = {"resourceVersion": (obj.get("metadata") or {}).get("resourceVersion", "")}
        table = make_table(self.resource, [] if typ == "BOOKMARK" else [obj], meta, self.include,
                           headers=self.first)
        self.first = False
        return dumps({"type": typ, "object": table}) + b"\n"


def _same(line: bytes) -> bytes:
    return line


async def watch_objects(cache: WatchCache, resource: ResourceInfo, namespace: str | None,
                        query: dict[str, str], on_close: Callable[[], None] | None = None,
                        table: str | None = None) -> Response:
    """A chunked watch stream; `table` (an includeObject mode) sends Table events."""
    sel = Selection(resource, namespace, query)
    render: Callable[[bytes], bytes] = TableEvents(resource, table) if table else _same
    if resource.storage_version:
        render = VersionEvents(resource, render)
    rv_param = query.get("resourceVersion", "")
    send_initial = query.get("sendInitialEvents") == "true"
    bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
    timeout = float(errors.integer("timeoutSeconds", query["timeoutSeconds"])) if query.get("timeoutSeconds") else None
    rc = cache.cache(resource)
    watcher = Watcher(resource, namespace, sel.node_name, sel.match, bookmarks=bookmarks)
    if send_initial or rv_param in ("", "0"):
        if rv_param == "" or send_initial:
            await cache.sync()
        rc.add_watcher(watcher, None, initial=True)
    else:
        try:
            since = int(rv_param)
        except ValueError:
            raise errors.bad_request(f'invalid resource version "{rv_param}"') from None
        try:
            rc.add_watcher(watcher, since, initial=False)
        except CompactedError as e:
            msg = f"too old resource version: {since} ({e.compacted})"
            return StreamingResponse(_once(_expired(msg)), media_type="application/json")
    start_rv = cache.rv

    async def stream() -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout else None
        try:
            if send_initial:
                # the initial ADDED events are queued; mark their end
                n = watcher.queue.qsize()
                for _ in range(n):
                    item = watcher.queue.get_nowait()
                    if item is None:
                        return
                    yield render(item)
                yield render(_bookmark(resource, start_rv, initial_end=True))
            while True:
                wait = BOOKMARK_INTERVAL
                if deadline is not None:
                    wait = min(wait, deadline - loop.time())
                    if wait <= 0:
                        return
                try:
                    async with asyncio.timeout(wait):
                        item = await watcher.queue.get()
                except TimeoutError:
                    if bookmarks:
                        yield render(_bookmark(resource, cache.rv))
                    continue
                if item is None:
                    return
                chunk = [render(item)]
                while not watcher.queue.empty() and len(chunk) < 256:
                    nxt = watcher.queue.get_nowait()
                    if nxt is None:
                        yield b"".join(chunk)
                        return
                    chunk.append(render(nxt))
                yield b"".join(chunk)
        finally:
            rc.remove_watcher(watcher)
            if on_close:
                on_close()

    return StreamingResponse(stream(), media_type="application/json",
                             headers={"Cache-Control": "no-cache, private"})


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
