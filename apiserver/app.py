"""The apiserver's HTTP application: routes, authentication, errors and metrics.

Owns the FastAPI app: discovery and OpenAPI routes, the two catch-all resource routes
(`/api/v1/...`, `/apis/<group>/<version>/...`) handed to `Handlers.dispatch`, health
endpoints, `/metrics`, bearer-token authentication (401 for anything but health and
version without a valid token), and the mapping of exceptions to Status bodies.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Awaitable, Callable

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from apiserver import discovery, errors
from apiserver.handlers import Handlers
from apiserver.request import json_response, parse_resource_path

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


class AuthMiddleware:
    def __init__(self, app: ASGIApp, authn: Authenticator, metrics: "Metrics") -> None:
        self.app, self.authn, self.metrics = app, authn, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        start = time.perf_counter()
        code_box = [0]

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                code_box[0] = message["status"]
            await send(message)

        if not path.startswith(PUBLIC_PATHS):
            auth = None
            for k, v in scope["headers"]:
                if k == b"authorization":
                    auth = v.decode("latin-1")
                    break
            user = self.authn.user_for(auth)
            if user is None:
                err = errors.unauthorized()
                await json_response(err.status(), 401)(scope, receive, send_wrapper)
                self.metrics.observe(scope["method"], path, 401, start)
                return
            scope.setdefault("state", {})["user"] = user
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.observe(scope["method"], path, code_box[0], start)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("apiserver_request_total", "Requests by verb, resource and code",
                                ["verb", "resource", "code"], registry=self.registry)
        self.latency = Histogram("apiserver_request_duration_seconds", "Request latency",
                                 ["verb", "resource"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60))

    def observe(self, method: str, path: str, code: int, start: float) -> None:
        parts = [p for p in path.split("/") if p]
        resource = ""
        if parts and parts[0] in ("api", "apis"):
            rest = parts[2:] if parts[0] == "api" else parts[3:]
            if len(rest) >= 3 and rest[0] == "namespaces":
                rest = rest[2:]
            resource = rest[0] if rest else ""
        self.requests.labels(method, resource, str(code)).inc()
        if code and code != 200 or method != "GET" or "watch" not in path:
            self.latency.labels(method, resource).observe(time.perf_counter() - start)


def create_app(handlers: Handlers, authn: Authenticator,
               ready: Callable[[], bool] = lambda: True, ca_pem: bytes = b"") -> ASGIApp:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    metrics = Metrics()

    @app.exception_handler(errors.APIError)
    async def _api_error(request: Request, exc: errors.APIError) -> Response:
        return json_response(exc.status(), exc.code)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        if isinstance(exc, ClientDisconnect):   # the client went away mid-request
            log.debug("client disconnected during %s %s", request.method, request.url.path)
            return Response(status_code=499)
        log.exception("internal error on %s %s", request.method, request.url.path)
        return json_response(errors.APIError(500, "InternalError", f"Internal error occurred: {exc}").status(), 500)

    def _discovery(core: bool) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            if "apidiscovery.k8s.io" in request.headers.get("accept", ""):
                return json_response(discovery.aggregated(core),
                                     headers={"Content-Type": discovery.AGGREGATED_CT})
            return json_response(discovery.api_versions() if core else discovery.api_group_list())
        return handler

    app.add_api_route("/api", _discovery(True), methods=["GET"])
    app.add_api_route("/apis", _discovery(False), methods=["GET"])

    @app.get("/api/v1")
    async def _core_resources() -> Response:
        return json_response(discovery.resource_list("", "v1"))

    @app.get("/apis/{group}")
    async def _group(group: str) -> Response:
        g = discovery.api_group(group)
        if g is None:
            raise errors.resource_not_found(f"/apis/{group}")
        return json_response(g)

    @app.get("/apis/{group}/{version}")
    async def _group_resources(group: str, version: str) -> Response:
        if version not in discovery.group_versions().get(group, []):
            raise errors.resource_not_found(f"/apis/{group}/{version}")
        return json_response(discovery.resource_list(group, version))

    @app.api_route("/api/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def _core(request: Request, rest: str) -> Response:
        return await handlers.dispatch(request, parse_resource_path("", "v1", rest.split("/"), request.url.path))

    @app.api_route("/apis/{group}/{version}/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def _grouped(request: Request, group: str, version: str, rest: str) -> Response:
        return await handlers.dispatch(request, parse_resource_path(group, version, rest.split("/"), request.url.path))

    @app.get("/version")
    async def _version() -> Response:
        return json_response(discovery.version_info())

    async def _health(request: Request) -> Response:
        if not ready():
            return Response("not ready", status_code=500, media_type="text/plain")
        return Response("ok", media_type="text/plain")

    for p in ("/healthz", "/livez", "/readyz"):
        app.add_api_route(p, _health, methods=["GET"])

    @app.get("/cacerts")
    async def _cacerts() -> Response:
        """The cluster CA, unauthenticated, as k3s serves it: a joining agent checks its
        hash against the one in its node token before trusting anything else."""
        return Response(ca_pem, media_type="application/x-pem-file")

    @app.get("/metrics")
    async def _metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/openapi/v3")
    async def _openapi_root() -> Response:
        return json_response(discovery.openapi_root())

    @app.get("/openapi/v3/{gv:path}")
    async def _openapi_gv(gv: str) -> Response:
        doc = discovery.openapi_document(gv)
        if doc is None:
            raise errors.resource_not_found(f"/openapi/v3/{gv}")
        return json_response(doc)

    return AuthMiddleware(app, authn, metrics)
