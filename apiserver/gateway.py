"""The outermost ASGI layer: bearer-token authentication, metrics, and the resource fast path.

Owns `Gateway`, which every HTTP request meets first:
- authentication (auth/authenticator.py: 401 for anything but health, version and
  `/cacerts` without a valid token or client certificate), impersonation, and
  authorization of the request's verb and resource by RBAC (auth/authorizer.py: 403 with
  Kubernetes' wording); the user is then `auth.user.current_user` for the request;
- the REST resource paths (`/api/v1/<...>`, `/apis/<group>/<version>/<...>`), parsed here and
  handed straight to `Handlers.dispatch`, with `APIError`s turned into Status bodies: these
  are nearly every request a cluster makes, and FastAPI's routing, dependency and middleware
  layers cost more than the handler itself;
- the self-subject reviews of `kubectl auth` (reviews.py), and the metrics API
  (`metrics.k8s.io`, metrics_api.py) when `metrics_api` is set;
- everything else (discovery, OpenAPI, health, metrics, the exec WebSocket) goes on to the
  FastAPI app built by `app.py`, kept as `self.app`;
- request counts and latencies per verb and resource (`Metrics`);
- the count of requests being answered, less the long-running ones (`InFlight`), which a
  graceful shutdown waits to reach zero before it ends the watches.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apiserver import errors, metrics_api, reviews
from apiserver.auth.authenticator import Authenticator
from apiserver.auth.authorizer import Authorizer, attributes_for
from apiserver.auth.rbac import Attributes
from apiserver.auth.user import UserInfo, current_user
from apiserver.handlers import Handlers
from apiserver.request import Target, json_response, parse_resource_path

log = logging.getLogger("apiserver")

PUBLIC_PATHS = ("/healthz", "/livez", "/readyz", "/version", "/cacerts")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("apiserver_request_total", "Requests by verb, resource and code",
                                ["verb", "resource", "subresource", "scope", "code"], registry=self.registry)
        self.latency = Histogram("apiserver_request_duration_seconds", "Request latency",
                                 ["verb", "resource", "subresource", "scope"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5,
                                          2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60))
        self._counters: dict[tuple[str, str, str, str, int], Any] = {}
        self._histograms: dict[tuple[str, str, str, str], Any] = {}

    @staticmethod
    def resource_of(path: str) -> str:
        parts = [p for p in path.split("/") if p]
        if parts and parts[0] in ("api", "apis"):
            rest = parts[2:] if parts[0] == "api" else parts[3:]
            if len(rest) >= 3 and rest[0] == "namespaces":
                rest = rest[2:]
            return rest[0] if rest else ""
        return ""

    def observe(self, verb: str, resource: str, code: int, start: float, streaming: bool,
                subresource: str = "", scope: str = "") -> None:
        """Count every request; time those that are not long-running watches. `verb` is
        Kubernetes' (see `request_verb`): LIST and GET, WATCH, APPLY apart from PATCH."""
        key = (verb, resource, subresource, scope, code)
        c = self._counters.get(key)
        if c is None:
            c = self._counters[key] = self.requests.labels(verb, resource, subresource, scope, str(code))
        c.inc()
        if streaming and code == 200:
            return
        hkey = key[:4]
        h = self._histograms.get(hkey)
        if h is None:
            h = self._histograms[hkey] = self.latency.labels(*hkey)
        h.observe(time.perf_counter() - start)


class InFlight:
    """Requests being answered, less the long-running ones (watches, followed logs)."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self.count += 1
        self._idle.clear()

    def leave(self) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        """True once none is left; False when `timeout` passed first."""
        try:
            async with asyncio.timeout(max(0.0, timeout)):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True


def request_verb(scope: Scope, target: Target | None, watch: bool) -> str:
    """The verb label kube-apiserver's request metrics use: the HTTP method, except LIST
    (a GET of a collection), WATCH, APPLY (a server-side-apply PATCH) and
    DELETECOLLECTION; CONNECT for the streaming subresources."""
    method: str = scope["method"]
    if target is None:
        return "WATCH" if watch else method
    if target.subresource in ("exec", "attach", "portforward", "proxy"):
        return "CONNECT"
    if method == "GET":
        if watch and not target.subresource:   # a followed log is a GET
            return "WATCH"
        return "GET" if target.name else "LIST"
    if method == "DELETE" and not target.name:
        return "DELETECOLLECTION"
    if method == "PATCH":
        for k, v in scope["headers"]:
            if k == b"content-type" and v.startswith(b"application/apply-patch"):
                return "APPLY"
    return method


def request_scope(target: Target | None) -> str:
    """kube-apiserver's scope label: one object (resource), a namespace, or the cluster."""
    if target is None:
        return ""
    if target.name:
        return "resource"
    return "namespace" if target.namespace else "cluster"


def _target(path: str) -> Target | None:
    """The resource a REST path names, None for paths that are not resource paths."""
    if path.startswith("/api/v1/"):
        rest = path[8:]
        return parse_resource_path("", "v1", rest.split("/"), path) if rest else None
    if path.startswith("/apis/"):
        parts = path[6:].split("/", 2)
        if len(parts) == 3 and parts[2]:
            return parse_resource_path(parts[0], parts[1], parts[2].split("/"), path)
    return None


class _AllowAll:
    """The authorizer of an apiserver built without RBAC (unit tests): everything allowed."""

    def allowed(self, attrs: Attributes) -> bool:
        return True

    def index(self) -> Any:
        from apiserver.auth.rbac import RBACIndex
        return RBACIndex((), (), (), ())


_ALLOW_ALL: Any = _AllowAll()


_STREAMS = ("/exec", "/attach", "/portforward")


def _is_watch(scope: Scope) -> bool:
    """A long-running request: a watch, a followed log, or a stream (exec, attach,
    port-forward), which a graceful shutdown does not wait for."""
    qs: bytes = scope.get("query_string", b"")
    if b"watch=true" in qs or b"watch=1" in qs or b"follow=true" in qs:
        return True
    path: str = scope.get("path", "")
    return path.endswith(_STREAMS) or "/proxy" in path


class Gateway:
    def __init__(self, app: ASGIApp, handlers: Handlers, authn: Authenticator, metrics: Metrics,
                 authorizer: Authorizer | None = None) -> None:
        self.app, self.handlers, self.authn, self.metrics = app, handlers, authn, metrics
        self.authorizer = authorizer
        self.in_flight = InFlight()
        self.metrics_api: Any = None   # apiserver.metrics_api.MetricsAPI, set by the server

    def _authorize(self, scope: Scope, user: UserInfo, target: Target | None) -> UserInfo:
        """The user the request acts as (after impersonation); raises 403 when RBAC says no."""
        if self.authorizer is None:
            return user
        user = self.authorizer.impersonate(user, scope["headers"])
        path: str = scope["path"]
        if metrics_api.handles(path):
            attrs = metrics_api.attributes(user, scope["method"], path)
        elif reviews.handles(path):
            _, kind, ns = reviews.target(path)
            group = "authentication.k8s.io" if kind in ("SelfSubjectReview", "TokenReview") else "authorization.k8s.io"
            attrs = Attributes(user, "create", ns, group, reviews.PLURALS[kind])
        else:
            query = dict(Request(scope).query_params) if scope.get("query_string") else {}
            attrs = attributes_for(user, scope["method"], path, query,
                                   target.resource if target else None,
                                   target.namespace if target else None,
                                   target.name if target else None,
                                   target.subresource if target else None)
        self.authorizer.authorize(attrs)
        return user

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        start = time.perf_counter()
        code_box = [0]
        long_running = _is_watch(scope)
        if not long_running:
            self.in_flight.enter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                code_box[0] = message["status"]
            await send(message)

        resource = ""
        target: Target | None = None
        reset = None
        try:
            try:
                public = path.startswith(PUBLIC_PATHS)
                user = None if public else self.authn.authenticate_scope(scope)
                if user is None and not public:
                    raise errors.unauthorized()
                special = reviews.handles(path) or metrics_api.handles(path)
                target = None if special else await self._target(path)
                if user is not None:
                    user = self._authorize(scope, user, target)
                    scope.setdefault("state", {})["user"] = user.name
                    scope["state"]["userinfo"] = user
                    reset = current_user.set(user)
            except errors.APIError as e:
                await json_response(e.status(), e.code)(scope, receive, send_wrapper)
                return
            if reviews.handles(path):
                resource = path.rsplit("/", 1)[-1]
                response = await self._guard(scope, reviews.review(
                    Request(scope, receive), scope["state"]["userinfo"], self.authorizer or _ALLOW_ALL,
                    self.authn))
                await response(scope, receive, send_wrapper)
                return
            if self.metrics_api is not None and metrics_api.handles(path):
                resource = Metrics.resource_of(path)
                response = await self._guard(scope, self.metrics_api.serve(Request(scope, receive)))
                await response(scope, receive, send_wrapper)
                return
            if target is None:
                resource = Metrics.resource_of(path)
                await self.app(scope, receive, send_wrapper)
                return
            resource = target.resource.plural
            response = await self._dispatch(scope, receive, target)
            await response(scope, receive, send_wrapper)
        finally:
            if reset is not None:
                current_user.reset(reset)
            if not long_running:
                self.in_flight.leave()
            self.metrics.observe(request_verb(scope, target, long_running), resource, code_box[0], start, long_running,
                                 (target.subresource or "") if target else "", request_scope(target))

    async def _target(self, path: str) -> Target | None:
        """The path's target; an unknown resource is looked up again once the watch cache
        has caught up with the store, so a CRD created just before is served (its resource
        is registered as the cache applies it)."""
        try:
            return _target(path)
        except errors.APIError as e:
            if e.code != 404 or not path.startswith("/apis/"):
                raise
        await self.handlers.cache.sync()
        return _target(path)

    async def _dispatch(self, scope: Scope, receive: Receive, target: Target) -> Response:
        return await self._guard(scope, self.handlers.dispatch(Request(scope, receive), target))

    async def _guard(self, scope: Scope, handler: Awaitable[Response]) -> Response:
        """The handler's response, or the Status its error maps to."""
        try:
            return await handler
        except errors.APIError as e:
            return json_response(e.status(), e.code)
        except ClientDisconnect:   # the client went away mid-request
            log.debug("client disconnected during %s %s", scope["method"], scope["path"])
            return Response(status_code=499)
        except Exception as e:
            log.exception("internal error on %s %s", scope["method"], scope["path"])
            return json_response(errors.APIError(500, "InternalError", f"Internal error occurred: {e}").status(), 500)
