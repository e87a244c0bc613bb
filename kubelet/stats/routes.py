"""The kubelet API's stats routes: `GET /stats/summary` and `GET /metrics/resource`.

Owns the two HTTP endpoints metrics-server and `kubectl get --raw
/api/v1/nodes/N/proxy/stats/summary` read, over `StatsProvider` (provider.py):
- `/stats/summary`: the Summary JSON (`?only_cpu_and_memory=true` accepted, the answer is
  the same: the kubelet here measures nothing else);
- `/metrics/resource`: Prometheus text (version 0.0.4).
Security, as for the other kubelet routes: a bearer token, accepted when it is the
kubelet's own or when the apiserver, asked with it, lets it read this Node (the kubelet's
`nodes/stats` and `nodes/metrics` checks, approximated; answers cached 30 s).
"""
from __future__ import annotations

import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.models import Node
from client.errors import ApiError, ConnectionFailed
from kubelet.stats.provider import StatsProvider
from kubelet.stats.summary import resource_metrics, summary

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


class NodeReviewer:
    """May this bearer token read the Node? (its own token always may)."""

    def __init__(self, client: Any, own_token: str | None, node_name: str, ttl: float = 30.0) -> None:
        self.client, self.own_token, self.node_name, self.ttl = client, own_token, node_name, ttl
        self._cache: dict[str, tuple[float, int]] = {}

    async def review(self, header: str | None) -> int:
        if not header or not header.startswith("Bearer "):
            return 401
        token = header[7:].strip()
        if self.own_token and token == self.own_token:
            return 200
        hit = self._cache.get(token)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        try:
            await self.client.request("GET", Node.RESOURCE.path(None, self.node_name),
                                      headers={"Authorization": f"Bearer {token}"})
            code = 200
        except ApiError as e:
            code = 200 if e.code == 404 else (e.code if e.code in (401, 403) else 401)
        except ConnectionFailed:
            return 503
        self._cache[token] = (time.monotonic() + self.ttl, code)
        return code


def _refused(code: int) -> Response:
    reason = {401: "Unauthorized", 403: "Forbidden"}.get(code, "ServiceUnavailable")
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": reason, "reason": reason, "code": code}
    return Response(json.dumps(body), status_code=code, media_type="application/json")


def stats_routes(provider: StatsProvider, reviewer: NodeReviewer) -> list[Route]:
    async def stats_summary(request: Request) -> Response:
        code = await reviewer.review(request.headers.get("authorization"))
        if code != 200:
            return _refused(code)
        return Response(json.dumps(summary(await provider.sample())), media_type="application/json")

    async def metrics_resource(request: Request) -> Response:
        code = await reviewer.review(request.headers.get("authorization"))
        if code != 200:
            return _refused(code)
        return Response(resource_metrics(await provider.sample()), media_type=PROMETHEUS_TEXT)

    return [Route("/stats/summary", stats_summary), Route("/metrics/resource", metrics_resource)]
