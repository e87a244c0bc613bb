"""One user's view of the cluster (I/O): informers (list + watch through `client/`) of the
kinds the dashboard shows, in the scope the user's RBAC allows, feeding the timeline and
the subscribers (the browser's SSE streams).

Scope: every kind cluster-wide when the user may list it so; else in the user's namespace;
a kind the user may not list at all is left out (named in `forbidden`), as is a kind the
server does not serve. Objects already there when the view starts are not timeline
entries (nothing happened to them), except Events, which are history.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from api.resources import ResourceInfo, UnknownResourceError, by_kind
from client.errors import ApiError, Forbidden, NotFound
from client.informer import Informer
from client.rest import Client
from dashboard import topology
from dashboard.objects import Obj, rv_key
from dashboard.timeline import Entry, Timeline, from_event, from_watch

log = logging.getLogger(__name__)

#: (apiVersion, kind) the dashboard watches; Events feed the timeline only
KINDS = [("v1", "Node"), ("v1", "Pod"), ("v1", "Service"), ("apps/v1", "Deployment"),
         ("apps/v1", "ReplicaSet"), ("networking.k8s.io/v1", "Ingress"),
         ("discovery.k8s.io/v1", "EndpointSlice"), ("v1", "Endpoints"), ("v1", "Event")]


def resource(api_version: str, kind: str) -> ResourceInfo:
    try:
        return by_kind(api_version, kind)
    except UnknownResourceError:   # a kind this build's table lacks; the server may serve it
        group, _, version = api_version.rpartition("/")
        return ResourceInfo(group, version, kind, kind.lower() + "s", True)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ClusterView:
    """Informers for one user; `subscribe()` gives a queue of `(event, data)` messages:
    `("timeline", entry)` for each entry, `("topology", None)` after a change of a kind the
    topology shows (the stream builds the topology when it sends)."""

    def __init__(self, client: Client, namespace: str, *, timeline_size: int = 5000) -> None:
        self.client = client
        self.namespace = namespace
        self.timeline = Timeline(timeline_size)
        self.informers: dict[str, Informer] = {}
        self.forbidden: list[str] = []
        self.scope: dict[str, str] = {}          # kind -> "" (cluster) or a namespace
        self._subscribers: set[asyncio.Queue[tuple[str, Any]]] = set()
        self._started = False
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ lifecycle
    async def start(self, sync_timeout: float = 30.0) -> None:
        async with self._lock:
            if self._started:
                return
            try:
                await self._start(sync_timeout)
            except BaseException:
                await self.stop()          # a later request tries again
                self.informers, self.scope, self.forbidden = {}, {}, []
                raise
            self._started = True

    async def _start(self, sync_timeout: float) -> None:
        for api_version, kind in KINDS:
            info = resource(api_version, kind)
            scope = await self._scope(info)
            if scope is None:
                continue
            inf = Informer(self.client, info, scope or None, page_size=500)
            self._wire(kind, inf)
            self.informers[kind] = inf
            self.scope[kind] = scope
            await inf.start()
        for inf in self.informers.values():
            await inf.wait_synced(sync_timeout)
        events = self.informers.get("Event")
        if events is not None:         # history, in the order it was written
            for ev in sorted(events.store.list(), key=lambda e: rv_key((e.get("metadata") or {})
                                                                       .get("resourceVersion"))):
                self._add(from_event(ev), topology_changed=False)

    async def _scope(self, info: ResourceInfo) -> str | None:
        """"" for cluster-wide, a namespace, or None when the user may list neither."""
        tries = ["", self.namespace] if info.namespaced else [""]
        for ns in tries:
            try:
                await self.client.list(info, ns or None, limit=1)
                return ns
            except Forbidden:
                continue
            except NotFound:   # not served here
                return None
            except ApiError as e:
                log.info("dashboard: cannot list %s: %s", info.plural, e)
                return None
        self.forbidden.append(info.kind)
        return None

    async def stop(self) -> None:
        for inf in self.informers.values():
            await inf.stop()
        for q in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(("closed", None))

    # ------------------------------------------------------------------ changes
    def _wire(self, kind: str, inf: Informer) -> None:
        if kind == "Event":
            def on_event(ev: Obj) -> None:
                if inf.has_synced:
                    self._add(from_event(ev), topology_changed=False)
            inf.add_handlers(on_add=on_event, on_update=lambda old, new: on_event(new))
            return

        def change(etype: str, old: Obj | None, new: Obj) -> None:
            if not inf.has_synced:     # the first list: the state, not a change
                return
            entry = from_watch(kind, etype, old, new, _now())
            if entry is not None:
                self._add(entry, topology_changed=True)
            else:
                self._publish(("topology", None))
        inf.add_handlers(on_add=lambda o: change("ADDED", None, o),
                         on_update=lambda old, new: change("MODIFIED", old, new),
                         on_delete=lambda o: change("DELETED", None, o))

    def _add(self, entry: Entry, *, topology_changed: bool) -> None:
        added = self.timeline.add(entry)
        if added is not None:
            self._publish(("timeline", added))
        if topology_changed:
            self._publish(("topology", None))

    def _publish(self, msg: tuple[str, Any]) -> None:
        for q in list(self._subscribers):
            try:
                q.put_nowait(msg)
            except asyncio.QueueFull:          # a stalled browser: it reconnects and resyncs
                self._subscribers.discard(q)
                with contextlib.suppress(asyncio.QueueEmpty):
                    q.get_nowait()
                q.put_nowait(("closed", None))

    def subscribe(self, size: int = 10000) -> asyncio.Queue[tuple[str, Any]]:
        q: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(size)
        self._subscribers.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[tuple[str, Any]]) -> None:
        self._subscribers.discard(q)

    # ------------------------------------------------------------------ reads
    def objects(self) -> dict[str, list[Obj]]:
        return {kind: inf.store.list() for kind, inf in self.informers.items()}

    def topology(self) -> dict[str, Any]:
        return {**topology.build(self.objects()), "forbidden": self.forbidden,
                "scope": self.scope}

    def find(self, kind: str, namespace: str, name: str) -> Obj | None:
        inf = self.informers.get(kind)
        if inf is None:
            return None
        return inf.store.get_by_name(namespace or None, name)

    def find_uid(self, uid: str) -> Obj | None:
        for kind, inf in self.informers.items():
            for obj in inf.store.list():
                if (obj.get("metadata") or {}).get("uid") == uid:
                    return {**obj, "kind": obj.get("kind") or kind}
        return None
