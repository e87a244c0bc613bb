"""The kubelet API's stats routes: `GET /stats/summary` and `GET /metrics/resource`.

Owns the two HTTP endpoints metrics-server and `kubectl get --raw
/api/v1/nodes/N/proxy/stats/summary` read, over `StatsProvider` (provider.py):
- `/stats/summary`: the Summary JSON (`?only_cpu_and_memory=true` accepted, the answer is
  the same: the kubelet here measures nothing else);
- `/metrics/resource`: Prometheus text (version 0.0.4).
Security, as for every kubelet route: `KubeletServer.app` authenticates the bearer token
(TokenReview) and authorizes it on this Node's `nodes/stats` or `nodes/metrics` subresource
(SubjectAccessReview) before a request reaches these handlers (kubelet/auth.py).
"""
from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kubelet.stats.provider import StatsProvider
from kubelet.stats.summary import resource_metrics, summary

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def stats_routes(provider: StatsProvider) -> list[Route]:
    async def stats_summary(request: Request) -> Response:
        return Response(json.dumps(summary(await provider.sample())), media_type="application/json")

    async def metrics_resource(request: Request) -> Response:
        return Response(resource_metrics(await provider.sample()), media_type=PROMETHEUS_TEXT)

    return [Route("/stats/summary", stats_summary), Route("/metrics/resource", metrics_resource)]
