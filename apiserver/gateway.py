"""The outermost ASGI layer: bearer-token authentication, metrics, and the resource fast path.

Owns `Gateway`, which every HTTP request meets first:
- authentication (401 for anything but health, version and `/cacerts` without a valid token);
- the REST resource paths (`/api/v1/<...>`, `/apis/<group>/<version>/<...>`), parsed here and
  handed straight to `Handlers.dispatch`, with `APIError`s turned into Status bodies: these
  are nearly every request a cluster makes, and FastAPI's routing, dependency and middleware
  layers cost more than the handler itself;
- the self-subject reviews of `kubectl auth` (reviews.py);
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

from apiserver import errors, reviews
from apiserver.handlers import Handlers
from apiserver.request import Target, json_response, parse_resource_path

log = logging.getLogger("apiserver")

PUBLIC_PATHS = ("/healthz", "/livez", "/readyz", "/version", "/cacerts")


class Authenticator:
    """Bearer tokens → user names. Issue-time tokens live in the data dir."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = dict(tokens)

    def user_for(self, header: str | None) -> str | None:
        if not header or not header.startswith("Bearer "):
            return None
        return self.tokens.get(header[7:].strip())


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("apiserver_request_total", "Requests by verb, resource and code",
                                ["verb", "resource", "code"], registry=self.registry)
        self.latency = Histogram("apiserver_request_duration_seconds", "Request latency",
                                 ["verb", "resource"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60))
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[tuple[str, str], Any] = {}

    @staticmethod
    def resource_of(path: str) -> str:
        parts = [p for p in path.split("/") if p]
        if parts and parts[0] in ("api", "apis"):
            rest = parts[2:] if parts[0] == "api" else parts[3:]
            if len(rest) >= 3 and rest[0] == "namespaces":
                rest = rest[2:]
            return rest[0] if rest else ""
        return ""

    def observe(self, method: str, resource: str, code: int, start: float, streaming: bool) -> None:
        """Count every request; time those that are not long-running watches."""
        c = self._counters.get((method, resource, code))
        if c is None:
            c = self._counters[(method, resource, code)] = self.requests.labels(method, resource, str(code))
        c.inc()
        if streaming and code == 200:
            return
        h = self._histograms.get((method, resource))
        if h is None:
            h = self._histograms[(method, resource)] = self.latency.labels(method, resource)
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


def _is_watch(scope: Scope) -> bool:
    qs: bytes = scope.get("query_string", b"")
    return b"watch=true" in qs or b"watch=1" in qs or b"follow=true" in qs


class Gateway:
    def __init__(self, app: ASGIApp, handlers: Handlers, authn: Authenticator, metrics: Metrics) -> None:
        self.app, self.handlers, self.authn, self.metrics = app, handlers, authn, metrics
        self.in_flight = InFlight()

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
        try:
            if not path.startswith(PUBLIC_PATHS):
                auth = None
                for k, v in scope["headers"]:
                    if k == b"authorization":
                        auth = v.decode("latin-1")
                        break
                user = self.authn.user_for(auth)
                if user is None:
                    await json_response(errors.unauthorized().status(), 401)(scope, receive, send_wrapper)
                    return
                scope.setdefault("state", {})["user"] = user
            if reviews.handles(path):
                resource = path.rsplit("/", 1)[-1]
                response = await self._guard(scope, reviews.review(Request(scope, receive),
                                                                   scope.get("state", {}).get("user", "")))
                await response(scope, receive, send_wrapper)
                return
            try:
                target = _target(path)
            except errors.APIError as e:
                await json_response(e.status(), e.code)(scope, receive, send_wrapper)
                return
            if target is None:
                resource = Metrics.resource_of(path)
                await self.app(scope, receive, send_wrapper)
                return
            resource = target.resource.plural
            response = await self._dispatch(scope, receive, target)
            await response(scope, receive, send_wrapper)
        finally:
            if not long_running:
                self.in_flight.leave()
            self.metrics.observe(scope["method"], resource, code_box[0], start, long_running)

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
