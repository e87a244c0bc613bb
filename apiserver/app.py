"""The apiserver's HTTP application: the FastAPI shell behind the gateway.

Owns `create_app`: the FastAPI app with discovery and OpenAPI routes, health endpoints,
`/version`, `/cacerts`, `/metrics` and the mapping of exceptions to Status bodies, wrapped
in the `Gateway` (gateway.py) that authenticates every request and serves the resource
paths (`/api/v1/...`, `/apis/<group>/<version>/...`) itself, straight to `Handlers.dispatch`.
"""
from __future__ import annotations

import logging
from typing import Awaitable, Callable

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from apiserver import discovery, errors
from apiserver.openapi import routes as openapi_routes
from apiserver.auth.authenticator import Authenticator
from apiserver.auth.authorizer import Authorizer
from apiserver.gateway import Gateway, Metrics
from apiserver.handlers import Handlers
from apiserver.request import json_response

log = logging.getLogger("apiserver")

__all__ = ["Authenticator", "Gateway", "create_app"]


def create_app(handlers: Handlers, authn: Authenticator,
               ready: Callable[[], bool] = lambda: True, ca_pem: bytes = b"",
               authorizer: Authorizer | None = None) -> Gateway:
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

    for path, endpoint in openapi_routes.ROUTES:
        app.add_api_route(path, endpoint, methods=["GET"])

    return Gateway(app, handlers, authn, metrics, authorizer)
