"""Test support for the endpoint, namespace, GC, node lifecycle and node IPAM controllers:
a recording fake client (objects kept by kind and key, every verb logged) and helpers to
seed informer caches, so one `reconcile` runs without a server."""
from __future__ import annotations

import itertools
from typing import Any

from api.models import K8sObject
from api.resources import ResourceInfo
from client.errors import AlreadyExists, NotFound
from client.rest import ObjectList
from controllers.base import SharedInformers

_uids = itertools.count(1)
_rvs = itertools.count(1000)


def new_uid(prefix: str = "uid") -> str:
    return f"{prefix}-{next(_uids)}"


def obj(model: type[K8sObject], name: str, ns: str | None = "default", **fields: Any) -> Any:
    """A cached-looking object: uid and resourceVersion filled in."""
    meta = dict(fields.pop("metadata", {}))
    meta.setdefault("name", name)
    if ns is not None and model.RESOURCE.namespaced:
        meta.setdefault("namespace", ns)
    meta.setdefault("uid", new_uid(model.RESOURCE.kind.lower()))
    meta.setdefault("resourceVersion", str(next(_rvs)))
    return model.from_dict({"metadata": meta, **fields})


def _not_found(name: str) -> NotFound:
    return NotFound({"code": 404, "reason": "NotFound", "message": f'"{name}" not found'})


class RecordingClient:
    """The client verbs controllers call, answered from `objects` and logged in `actions`."""

    def __init__(self, *objs: Any) -> None:
        self.objects: dict[tuple[str, str], Any] = {}
        self.actions: list[tuple[str, str, Any]] = []
        self.seed(*objs)

    def seed(self, *objs: Any) -> None:
        for o in objs:
            self.objects[(o.RESOURCE.kind, o.key)] = o

    @staticmethod
    def _info(kind: Any) -> ResourceInfo:
        return kind if isinstance(kind, ResourceInfo) else kind.RESOURCE

    @staticmethod
    def _key(info: ResourceInfo, name: str, namespace: str | None) -> str:
        return f"{namespace}/{name}" if info.namespaced else name

    async def get(self, kind: Any, name: str, namespace: str | None = None) -> Any:
        info = self._info(kind)
        o = self.objects.get((info.kind, self._key(info, name, namespace)))
        self.actions.append(("get", f"{info.kind}/{name}", None))
        if o is None:
            raise _not_found(name)
        return o.to_dict() if isinstance(kind, ResourceInfo) else o.model_copy(deep=True)

    async def list_all(self, kind: Any, namespace: str | None = None, **kw: Any) -> ObjectList[Any]:
        info = self._info(kind)
        items = [o for (k, _), o in self.objects.items() if k == info.kind and
                 (namespace is None or o.metadata.namespace == namespace)]
        raw = isinstance(kind, ResourceInfo)
        return ObjectList([o.to_dict() if raw else o for o in items], "1", None)

    async def create(self, o: Any, namespace: str | None = None) -> Any:
        info = self._info(type(o))
        if (info.kind, o.key) in self.objects:
            raise AlreadyExists({"code": 409, "reason": "AlreadyExists", "message": o.key})
        out = o.model_copy(deep=True)
        out.metadata.uid = out.metadata.uid or new_uid()
        out.metadata.resource_version = str(next(_rvs))
        self.actions.append(("create", f"{info.kind}/{o.name}", out))
        self.seed(out)
        return out

    async def update(self, o: Any) -> Any:
        self.actions.append(("update", f"{o.RESOURCE.kind}/{o.name}", o))
        self.seed(o)
        return o

    async def update_status(self, o: Any) -> Any:
        self.actions.append(("update_status", f"{o.RESOURCE.kind}/{o.name}", o))
        self.seed(o)
        return o

    async def patch(self, kind: Any, name: str, patch: Any, namespace: str | None = None,
                    **kw: Any) -> Any:
        self.actions.append(("patch", f"{self._info(kind).kind}/{name}", patch))
        return None

    async def delete(self, kind: Any, name: str, namespace: str | None = None, **kw: Any) -> Any:
        info = self._info(kind)
        self.actions.append(("delete", f"{info.kind}/{name}", kw))
        self.objects.pop((info.kind, self._key(info, name, namespace)), None)
        return None

    async def request(self, method: str, path: str, **kw: Any) -> Any:
        self.actions.append(("request", f"{method} {path}", kw.get("json")))
        if method == "DELETE":      # a DeleteCollection: drop the collection's objects not terminating
            for (kind, key), o in list(self.objects.items()):
                if o.RESOURCE.path(o.metadata.namespace) == path and not o.metadata.deletion_timestamp:
                    del self.objects[(kind, key)]
        return None

    def verbs(self, *verbs: str) -> list[tuple[str, str, Any]]:
        return [a for a in self.actions if a[0] in verbs]

    def writes(self) -> list[tuple[str, str, Any]]:
        return [a for a in self.actions if a[0] not in ("get",)]


def informers_for(client: Any) -> SharedInformers:
    return SharedInformers(client)


def seed(informers: SharedInformers, *objs: Any, namespace: str | None = None) -> None:
    """Put objects straight into the shared caches (as a list would)."""
    for o in objs:
        informers.get(type(o), namespace).store.put(o)

