"""The async REST client: the one place pykube speaks HTTP to the apiserver.

Owns an `httpx.AsyncClient` (TLS with the kubeconfig's CA, bearer token or client
certificate, `User-Agent: <binary>/pykube`, whose product name the apiserver records as
the field manager: `kube-controller-manager`, `kube-scheduler`, `kubelet`, ... as Kubernetes) and the typed verbs over the Kubernetes REST
paths: get, list (one page or all pages), create, update, update_status, patch, delete,
watch, the scale subresource and pod binding, plus `request`/`stream` for raw paths.

Typed in, typed out: pass a Model class (`client.get(Pod, "web", namespace="ns")`) and get
models back; pass a `ResourceInfo` and get plain dicts. Error answers raise the
`client.errors` class for their Status; transport failures raise `ConnectionFailed`, so no
caller ever imports httpx. `Warning` headers go to `warning_handler` (default: the log).
"""
from __future__ import annotations

import asyncio

import json as jsonlib
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

import httpx

from api.models import K8sObject, Scale
from api.resources import ResourceInfo, by_kind
from client import kubeconfig
from client.errors import APIError, ConnectionFailed
from client.kubeconfig import ClientConfig
from client.watch import WatchEvent, parse_line, split_lines

log = logging.getLogger(__name__)

M = TypeVar("M", bound=K8sObject)
T = TypeVar("T")
Kind = type[K8sObject] | ResourceInfo

PATCH_CONTENT_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}
#: component -> the Kubernetes binary name its User-Agent starts with (the field manager)
BINARY_NAMES = {"controller-manager": "kube-controller-manager", "scheduler": "kube-scheduler"}
_WARNING = re.compile(r'^\d{3} \S+ "(.*)"')


@dataclass
class ObjectList(Generic[T]):
    """One list answer: the items, the list's resourceVersion (start a watch there) and the
    continue token for the next page (None on the last page)."""

    items: list[T] = field(default_factory=list)
    resource_version: str | None = None
    continue_: str | None = None


def _default_warning(text: str) -> None:
    log.warning("apiserver warning: %s", text)


class WatchStream(Generic[T]):
    """An open watch: `async for event in stream`, or `async with` to be sure it closes.

    Iteration ends when the server ends the stream (its timeout); a broken connection
    raises `ConnectionFailed`, an ERROR event raises its `APIError` (`Gone` for 410).
    """

    def __init__(self, http: httpx.AsyncClient, request: httpx.Request,
                 model: type[K8sObject] | None) -> None:
        self._http, self._request, self._model = http, request, model
        self._response: httpx.Response | None = None
        self._lines: AsyncIterator[bytes] | None = None
        self._closed = False

    async def _open(self) -> None:
        try:
            resp = await self._http.send(self._request, stream=True)
        except httpx.TransportError as e:
            raise ConnectionFailed(f"watch {self._request.url.path}: {e!r}") from e
        if resp.status_code >= 400:
            body = await resp.aread()
            await resp.aclose()
            raise APIError.from_response(resp.status_code, body)
        self._response = resp
        self._lines = split_lines(resp.aiter_bytes())

    def __aiter__(self) -> WatchStream[T]:
        return self

    async def __anext__(self) -> WatchEvent[T]:
        if self._closed:
            raise StopAsyncIteration
        if self._response is None:
            await self._open()
        assert self._lines is not None
        while True:
            try:
                line = await self._lines.__anext__()
            except StopAsyncIteration:
                await self.aclose()
                raise
            except (httpx.TransportError, httpx.StreamError) as e:
                await self.aclose()
                raise ConnectionFailed(f"watch {self._request.url.path}: {e!r}") from e
            try:
                event = parse_line(line, self._model)
            except BaseException:
                await self.aclose()
                raise
            if event is not None:
                return event

    async def aclose(self) -> None:
        self._closed = True
        if self._lines is not None:
            await self._lines.aclose()  # type: ignore[attr-defined]
            self._lines = None
        if self._response is not None:
            await self._response.aclose()

    async def __aenter__(self) -> WatchStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


MAX_IN_FLIGHT = 32


class Client:
    """Async client for one apiserver. Use `async with Client(cfg) as c:` or `await c.close()`."""

    def __init__(self, config: ClientConfig | None = None, *, component: str = "client",
                 timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None,
                 warning_handler: Callable[[str], None] | None = _default_warning,
                 impersonate: tuple[str, list[str]] | None = None,
                 max_in_flight: int = MAX_IN_FLIGHT) -> None:
        """`impersonate`: (user, groups) sent as Impersonate-User / Impersonate-Group;
        `max_in_flight`: requests at once, watches aside."""
        self.config = config if config is not None else kubeconfig.load()
        self.component = component
        self.warning_handler = warning_handler
        agent = f"{BINARY_NAMES.get(component, component)}/pykube"
        headers: list[tuple[str, str]] = [("User-Agent", agent), ("Accept", "application/json")]
        if self.config.token:
            headers.append(("Authorization", f"Bearer {self.config.token}"))
        if impersonate is not None:
            headers.append(("Impersonate-User", impersonate[0]))
            headers += [("Impersonate-Group", g) for g in impersonate[1]]
        self._timeout = timeout
        # at most `max_in_flight` requests at once (watches and streams aside): a burst of
        # thousands (a namespace's deletion, a ReplicaSet's slow start) then waits here
        # instead of opening a TLS connection each, and httpx's pool, which scans its
        # connections for every queued request, stays small
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._http = httpx.AsyncClient(
            base_url=self.config.server, headers=headers, timeout=timeout,
            verify=self.config.ssl_context(), transport=transport,
            # keep-alive unbounded (the semaphore bounds the requests): httpcore compares its
            # keep-alive limit with every connection, watches included, and would otherwise
            # close each idle one while a component's many watches are open
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=None,
                                keepalive_expiry=30.0))   # longer than the 10 s heartbeats

    @property
    def namespace(self) -> str:
        """The default namespace (the kubeconfig context's)."""
        return self.config.namespace

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------ raw
    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                      json: Any = None, content: bytes | None = None,
                      headers: dict[str, str] | None = None,
                      timeout: float | None = None) -> httpx.Response:
        """One request; an error answer raises its `APIError`. Returns the read response."""
        try:
            async with self._in_flight:
                resp = await self._http.request(
                    method, path, params=_clean(params), json=json, content=content,
                    headers=headers, timeout=timeout if timeout is not None else self._timeout)
        except httpx.TransportError as e:
            raise ConnectionFailed(f"{method} {path}: {e!r}") from e
        self._warnings(resp)
        if resp.status_code >= 400:
            raise APIError.from_response(resp.status_code, resp.content)
        return resp

    @asynccontextmanager
    async def stream(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                     ) -> AsyncIterator[httpx.Response]:
        """A streamed answer (pod logs with follow): `async with c.stream(...) as r:`."""
        req = self._http.build_request(method, path, params=_clean(params),
                                       timeout=httpx.Timeout(self._timeout, read=None))
        try:
            resp = await self._http.send(req, stream=True)
        except httpx.TransportError as e:
            raise ConnectionFailed(f"{method} {path}: {e!r}") from e
        try:
            self._warnings(resp)
            if resp.status_code >= 400:
                raise APIError.from_response(resp.status_code, await resp.aread())
            yield resp
        finally:
            await resp.aclose()

    def _warnings(self, resp: httpx.Response) -> None:
        if self.warning_handler is None:
            return
        for value in resp.headers.get_list("warning"):
            m = _WARNING.match(value)
            self.warning_handler(m.group(1).replace('\\"', '"') if m else value)

    # ------------------------------------------------------------ helpers
    def _ns(self, info: ResourceInfo, namespace: str | None, obj: Any = None) -> str | None:
        if not info.namespaced:
            return None
        return namespace or _meta(obj).get("namespace") or self.config.namespace

    async def _call(self, method: str, info: ResourceInfo, model: type[K8sObject] | None,
                    path: str, **kw: Any) -> Any:
        data = (await self.request(method, path, **kw)).json()
        if model is not None and isinstance(data, dict) and data.get("kind") == info.kind:
            return model.from_dict(data)
        return data

    # ------------------------------------------------------------ read
    @overload
    async def get(self, kind: type[M], name: str, namespace: str | None = None) -> M: ...
    @overload
    async def get(self, kind: ResourceInfo, name: str,
                  namespace: str | None = None) -> dict[str, Any]: ...

    async def get(self, kind: Kind, name: str, namespace: str | None = None) -> Any:
        info, model = _kind(kind)
        return await self._call("GET", info, model, info.path(self._ns(info, namespace), name))

    @overload
    async def list(self, kind: type[M], namespace: str | None = None, *,
                   label_selector: str | None = None, field_selector: str | None = None,
                   limit: int | None = None, continue_: str | None = None,
                   resource_version: str | None = None) -> ObjectList[M]: ...
    @overload
    async def list(self, kind: ResourceInfo, namespace: str | None = None, *,
                   label_selector: str | None = None, field_selector: str | None = None,
                   limit: int | None = None, continue_: str | None = None,
                   resource_version: str | None = None) -> ObjectList[dict[str, Any]]: ...

    async def list(self, kind: Kind, namespace: str | None = None, *,
                   label_selector: str | None = None, field_selector: str | None = None,
                   limit: int | None = None, continue_: str | None = None,
                   resource_version: str | None = None) -> ObjectList[Any]:
        """One page (all of them when `limit` is None and the server does not page).
        `namespace=None` lists across all namespaces."""
        info, model = _kind(kind)
        params = {"labelSelector": label_selector, "fieldSelector": field_selector,
                  "limit": limit, "continue": continue_, "resourceVersion": resource_version}
        data = (await self.request("GET", info.path(namespace if info.namespaced else None),
                                   params=params)).json()
        meta = data.get("metadata") or {}
        items = []
        for item in data.get("items") or []:
            item.setdefault("apiVersion", info.api_version)
            item.setdefault("kind", info.kind)
            items.append(model.from_dict(item) if model is not None else item)
        return ObjectList(items, meta.get("resourceVersion"), meta.get("continue") or None)

    async def list_all(self, kind: Kind, namespace: str | None = None, *,
                       label_selector: str | None = None, field_selector: str | None = None,
                       page_size: int = 500) -> ObjectList[Any]:
        """Every page, following continue tokens. The resourceVersion is the first page's
        (the list snapshot), so a watch started there misses nothing."""
        first = await self.list(kind, namespace, label_selector=label_selector,
                                field_selector=field_selector, limit=page_size)
        page = first
        while page.continue_:
            page = await self.list(kind, namespace, label_selector=label_selector,
                                   field_selector=field_selector, limit=page_size,
                                   continue_=page.continue_)
            first.items.extend(page.items)  # type: ignore[arg-type]
        return ObjectList(first.items, first.resource_version, None)

    # ------------------------------------------------------------ write
    @overload
    async def create(self, obj: M, namespace: str | None = None) -> M: ...
    @overload
    async def create(self, obj: dict[str, Any], namespace: str | None = None) -> dict[str, Any]: ...

    async def create(self, obj: Any, namespace: str | None = None) -> Any:
        info, model, body = _body(obj)
        path = info.path(self._ns(info, namespace, body))
        return await self._call("POST", info, model, path, json=body)

    @overload
    async def update(self, obj: M) -> M: ...
    @overload
    async def update(self, obj: dict[str, Any]) -> dict[str, Any]: ...

    async def update(self, obj: Any) -> Any:
        """PUT; the object's resourceVersion makes it compare-and-swap (409 `Conflict`)."""
        return await self._put(obj, None)

    @overload
    async def update_status(self, obj: M) -> M: ...
    @overload
    async def update_status(self, obj: dict[str, Any]) -> dict[str, Any]: ...

    async def update_status(self, obj: Any) -> Any:
        return await self._put(obj, "status")

    async def _put(self, obj: Any, sub: str | None) -> Any:
        info, model, body = _body(obj)
        path = info.path(self._ns(info, None, body), _meta(body).get("name"), sub)
        return await self._call("PUT", info, model, path, json=body)

    async def patch(self, kind: Kind, name: str, patch: Any, namespace: str | None = None,
                    patch_type: str = "merge", subresource: str | None = None) -> Any:
        """PATCH with `patch_type` "merge" (JSON merge patch), "json" (RFC 6902 ops) or
        "strategic". Answers a model (a `Scale` for the scale subresource) or a dict."""
        info, model = _kind(kind)
        resp = await self.request(
            "PATCH", info.path(self._ns(info, namespace), name, subresource),
            content=jsonlib.dumps(patch).encode(),
            headers={"Content-Type": PATCH_CONTENT_TYPES[patch_type]})
        data = resp.json()
        if model is not None and subresource == "scale":
            return Scale.from_dict(data)
        if model is not None and data.get("kind") == info.kind:
            return model.from_dict(data)
        return data

    async def delete(self, kind: Kind, name: str, namespace: str | None = None, *,
                     propagation_policy: str | None = None,
                     grace_period_seconds: int | None = None,
                     preconditions: dict[str, str] | None = None) -> Any:
        """DELETE. Answers the object (when finalizers or grace keep it a while) or the
        Status dict. `preconditions` is `{"uid": ..., "resourceVersion": ...}`."""
        info, model = _kind(kind)
        body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy is not None:
            body["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            body["gracePeriodSeconds"] = grace_period_seconds
        if preconditions:
            body["preconditions"] = preconditions
        return await self._call("DELETE", info, model,
                                info.path(self._ns(info, namespace), name), json=body)

    # ------------------------------------------------------------ watch
    def watch(self, kind: Kind, namespace: str | None = None, *,
              resource_version: str | None = None, label_selector: str | None = None,
              field_selector: str | None = None, timeout_seconds: int | None = None,
              allow_bookmarks: bool = True) -> WatchStream[Any]:
        """Open a watch (lazily, on first iteration) starting after `resource_version`.
        `namespace=None` watches all namespaces."""
        info, model = _kind(kind)
        params = _clean({"watch": "1", "resourceVersion": resource_version,
                         "labelSelector": label_selector, "fieldSelector": field_selector,
                         "timeoutSeconds": timeout_seconds,
                         "allowWatchBookmarks": "true" if allow_bookmarks else None})
        read = None if timeout_seconds is None else timeout_seconds + 30.0
        req = self._http.build_request(
            "GET", info.path(namespace if info.namespaced else None), params=params,
            timeout=httpx.Timeout(self._timeout, read=read))
        return WatchStream(self._http, req, model)

    # ------------------------------------------------------------ subresources
    async def get_scale(self, kind: Kind, name: str, namespace: str | None = None) -> Any:
        info, model = _kind(kind)
        data = (await self.request("GET", info.path(self._ns(info, namespace), name,
                                                    "scale"))).json()
        return Scale.from_dict(data) if model is not None else data

    async def patch_scale(self, kind: Kind, name: str, replicas: int,
                          namespace: str | None = None) -> Any:
        """What `kubectl scale` sends: a merge patch of spec.replicas on the scale."""
        return await self.patch(kind, name, {"spec": {"replicas": replicas}}, namespace,
                                subresource="scale")

    scale = patch_scale

    async def bind(self, pod: Any, node_name: str) -> None:
        """POST pods/<name>/binding: what the scheduler does to place a pod."""
        meta = _meta(pod)
        info = by_kind("v1", "Pod")
        ns = meta.get("namespace") or self.config.namespace
        body: dict[str, Any] = {
            "apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": meta["name"], "namespace": ns},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node_name}}
        if meta.get("uid"):
            body["metadata"]["uid"] = meta["uid"]
        await self.request("POST", info.path(ns, meta["name"], "binding"), json=body)

    async def version(self) -> dict[str, Any]:
        return dict((await self.request("GET", "/version")).json())


# ---------------------------------------------------------------- pure helpers
def _kind(kind: Kind) -> tuple[ResourceInfo, type[K8sObject] | None]:
    if isinstance(kind, ResourceInfo):
        return kind, None
    return kind.RESOURCE, kind


def _body(obj: Any) -> tuple[ResourceInfo, type[K8sObject] | None, dict[str, Any]]:
    if isinstance(obj, K8sObject):
        return type(obj).RESOURCE, type(obj), obj.to_dict()
    return by_kind(obj.get("apiVersion", ""), obj.get("kind", "")), None, obj


def _meta(obj: Any) -> dict[str, Any]:
    """metadata of a model or a dict, as a dict (name, namespace, uid, ...)."""
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj.get("metadata") or {}
    meta = getattr(obj, "metadata", None)
    return meta.to_dict() if meta is not None else {}


def _clean(params: dict[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None and v != ""}
