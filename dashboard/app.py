"""The dashboard's HTTP app (Starlette): the page, the login, JSON reads and one
Server-Sent Events stream per browser tab, fed by the user's watches (no polling).

Routes: `GET /` (the page), `POST /login` (token or kubeconfig, sets the session cookie),
`POST /logout`, `GET /api/whoami`, `GET /api/topology`, `GET /api/timeline?namespace=&kind=
&name=&component=&since=`, `GET /api/object/{kind}/{namespace}/{name}` (`_` for no
namespace), `GET /api/changepath/{seq}`, `GET /api/stream?...` (SSE: `snapshot`, then
`timeline` entries matching the filter and `topology` at most every `topology_interval`),
`/static/...`. Every `/api` route answers 401 without a session.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from client.errors import ApiError, ConnectionFailed
from client.kubeconfig import ClientConfig
from dashboard.changepath import change_path
from dashboard.detail import detail
from dashboard.session import COOKIE, LoginError, Session, Sessions
from dashboard.timeline import Filter

log = logging.getLogger(__name__)

STATIC = Path(str(resources.files("dashboard") / "static"))
HEADERS = {"Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status, headers=HEADERS)


def _sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def create_app(base: ClientConfig, *, topology_interval: float = 0.25, heartbeat: float = 15.0,
               session_ttl: float = 8 * 3600) -> Starlette:
    sessions = Sessions(base, session_ttl)

    async def session_of(request: Request) -> Session | None:
        s = sessions.get(request.cookies.get(COOKIE))
        if s is not None:
            try:
                await s.view.start()
            except (ApiError, ConnectionFailed) as e:
                raise HTTPException(503, f"the Kubernetes API cannot be read: {e}") from e
        return s

    def unauthorized() -> JSONResponse:
        return _json({"error": "log in first"}, 401)

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=HEADERS)

    async def login(request: Request) -> Response:
        body = await request.body()
        try:
            if request.headers.get("content-type", "").startswith("application/json"):
                form: dict[str, Any] = json.loads(body)
            else:           # application/x-www-form-urlencoded
                form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        except (ValueError, UnicodeDecodeError):
            return _json({"error": "send the login as JSON or a url-encoded form"}, 400)
        if not isinstance(form, dict):
            return _json({"error": "send the login as a JSON object"}, 400)
        try:
            s = await sessions.login(str(form.get("token") or ""), str(form.get("kubeconfig") or ""),
                                     str(form.get("namespace") or ""))
        except LoginError as e:
            return _json({"error": str(e)}, 401)
        resp = _json({"user": s.user, "groups": s.groups, "namespace": s.namespace})
        resp.set_cookie(COOKIE, s.id, httponly=True, secure=True, samesite="strict", path="/")
        return resp

    async def logout(request: Request) -> Response:
        await sessions.logout(request.cookies.get(COOKIE))
        resp = _json({"ok": True})
        resp.delete_cookie(COOKIE, path="/")
        return resp

    async def whoami(request: Request) -> Response:
        s = await session_of(request)
        if s is None:
            return unauthorized()
        return _json({"user": s.user, "groups": s.groups, "namespace": s.namespace,
                      "scope": s.view.scope, "forbidden": s.view.forbidden})

    async def topology(request: Request) -> Response:
        s = await session_of(request)
        return unauthorized() if s is None else _json(s.view.topology())

    async def timeline(request: Request) -> Response:
        s = await session_of(request)
        if s is None:
            return unauthorized()
        return _json(s.view.timeline.query(Filter.from_query(dict(request.query_params))))

    async def obj(request: Request) -> Response:
        s = await session_of(request)
        if s is None:
            return unauthorized()
        p = request.path_params
        ns = "" if p["namespace"] == "_" else p["namespace"]
        found = s.view.find(p["kind"], ns, p["name"])
        if found is None:
            return _json({"error": f"{p['kind']} {p['name']} is not among the objects you can see"}, 404)
        events = s.view.informers["Event"].store.list() if "Event" in s.view.informers else []
        return _json(detail(p["kind"], found, events, s.view.find_uid))

    async def changepath(request: Request) -> Response:
        s = await session_of(request)
        if s is None:
            return unauthorized()
        try:
            steps = change_path(s.view.timeline.entries, int(request.path_params["seq"]))
        except KeyError:
            return _json({"error": "that timeline entry is no longer kept"}, 404)
        return _json({"steps": steps})

    async def stream(request: Request) -> Response:
        s = await session_of(request)
        if s is None:
            return unauthorized()
        f = Filter.from_query(dict(request.query_params))
        return StreamingResponse(_events(s, f), media_type="text/event-stream",
                                 headers={**HEADERS, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def _events(s: Session, f: Filter) -> AsyncIterator[bytes]:
        view = s.view
        q = view.subscribe()
        try:
            yield _sse("snapshot", {"topology": view.topology(), "timeline": view.timeline.query(f)})
            last_topology = asyncio.get_running_loop().time()
            pending_topology = False
            while True:
                timeout = heartbeat
                if pending_topology:
                    timeout = max(0.0, last_topology + topology_interval - asyncio.get_running_loop().time())
                try:
                    kind, data = await asyncio.wait_for(q.get(), timeout)
                except TimeoutError:
                    kind, data = "tick", None
                now = asyncio.get_running_loop().time()
                if kind == "closed":
                    return
                if kind == "timeline" and f.matches(data):
                    yield _sse("timeline", data)
                elif kind == "topology":
                    pending_topology = True
                if pending_topology and now - last_topology >= topology_interval:
                    pending_topology, last_topology = False, now
                    yield _sse("topology", view.topology())
                elif kind == "tick" and not pending_topology:
                    s.last_used = time.monotonic()     # an open tab keeps its session
                    yield b": heartbeat\n\n"
        finally:
            view.unsubscribe(q)

    async def expire_loop() -> None:
        while True:
            await asyncio.sleep(60)
            await sessions.expire()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(expire_loop())
        try:
            yield
        finally:
            task.cancel()
            await sessions.close()

    routes = [Route("/", index), Route("/login", login, methods=["POST"]),
              Route("/logout", logout, methods=["POST"]), Route("/api/whoami", whoami),
              Route("/api/topology", topology), Route("/api/timeline", timeline),
              Route("/api/object/{kind}/{namespace}/{name}", obj), Route("/api/changepath/{seq:int}", changepath),
              Route("/api/stream", stream), Mount("/static", StaticFiles(directory=STATIC), name="static")]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sessions = sessions
    return app
