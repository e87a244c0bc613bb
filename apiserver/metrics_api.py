"""The resource metrics API, `metrics.k8s.io/v1beta1`, served in-process by the apiserver.

Owns the REST side of what metrics-server serves, for `kubectl top nodes|pods
[--containers]`, `pykubectl top`, the HorizontalPodAutoscaler and the Python client
(`CustomObjectsApi().list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")`):
`GET /apis/metrics.k8s.io/v1beta1/nodes[/{name}]`, `.../pods` (all namespaces) and
`.../namespaces/{ns}/pods[/{name}]`, with `labelSelector` (matched against the Node's or
Pod's labels, as metrics-server does) and `fieldSelector` (`metadata.name`,
`metadata.namespace`). The numbers come from `MetricsScraper` (metrics_scraper.py), which
scrapes every kubelet's `/metrics/resource` each `--metric-resolution`, and
`MetricsStore` (metrics_store.py), which turns two scrapes into rates. Scraping starts with
the first request and stops after ten idle minutes (metrics_scraper.py): that first answer
waits about a second for two scrapes.

Why in-process and not an APIService behind an aggregation layer: metrics-server is
registered as `v1beta1.metrics.k8s.io` and kube-apiserver proxies the group to it, which
takes an aggregator (APIService objects, availability checks, a front-proxy client
certificate and request-header authentication on the extension server), a second serving
process and its certificate. pykube has none of that machinery, and its apiserver already
holds what a metrics component needs: the Nodes in its watch cache (where to scrape), the
credentials the kubelets accept (what logs and exec use) and the Pods (labels for
selectors). So the same scrape-and-rate loop runs as a task of the apiserver and the group
is served beside the built-in ones: one process fewer, no certificates to rotate, and the
API answers exactly what metrics-server's would. With `--metric-resolution 0` it is off:
the group stays in discovery and every request gets 503 ServiceUnavailable, as an
unavailable APIService would give.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from api.resources import ResourceInfo
from api.selectors import field_matches, parse_field_selector, parse_label_selector
from apiserver import errors
from apiserver.auth.rbac import Attributes
from apiserver.auth.user import UserInfo
from apiserver.metrics_scraper import MetricsScraper
from apiserver.metrics_store import metrics_list, node_metrics, pod_metrics
from apiserver.request import json_response

GROUP, VERSION = "metrics.k8s.io", "v1beta1"
PREFIX = f"/apis/{GROUP}/{VERSION}/"
VERBS = ("get", "list")
NODE_METRICS = ResourceInfo(GROUP, VERSION, "NodeMetrics", "nodes", False, verbs=VERBS)
POD_METRICS = ResourceInfo(GROUP, VERSION, "PodMetrics", "pods", True, verbs=VERBS)
RESOURCES = (NODE_METRICS, POD_METRICS)

Objects = Callable[[str | None], Iterable[dict[str, Any]]]   # namespace (None: all) -> objects


def handles(path: str) -> bool:
    """True for the group's resource paths (discovery of the group itself is discovery.py's)."""
    return path.startswith(PREFIX) and len(path) > len(PREFIX)


def attributes(user: UserInfo, method: str, path: str) -> Attributes:
    """What RBAC is asked for a metrics path: get or list of nodes or pods in metrics.k8s.io,
    as kube-apiserver asks before proxying to metrics-server."""
    parts = [p for p in path[len(PREFIX):].split("/") if p]
    namespace = ""
    if len(parts) >= 2 and parts[0] == "namespaces":
        namespace, parts = parts[1], parts[2:]
    resource = parts[0] if parts else ""
    name = parts[1] if len(parts) > 1 else ""
    verb = ("get" if name else "list") if method in ("GET", "HEAD") else method.lower()
    return Attributes(user, verb, namespace, GROUP, resource, name=name, path=path)


class MetricsAPI:
    def __init__(self, scraper: MetricsScraper | None, nodes: Objects, pods: Objects) -> None:
        self.scraper, self.nodes, self.pods = scraper, nodes, pods

    handles = staticmethod(handles)

    async def serve(self, request: Request) -> Response:
        if request.method != "GET":
            raise errors.method_not_allowed()
        if self.scraper is None:
            raise errors.APIError(503, "ServiceUnavailable",
                                  "the metrics API is off on this apiserver (--metric-resolution 0)")
        await self.scraper.demand()
        parts = request.url.path[len(PREFIX):].strip("/").split("/")
        q = request.query_params
        if q.get("watch") in ("1", "true"):
            raise errors.method_not_allowed("watch is not supported by the metrics API")
        try:
            labels = parse_label_selector(q.get("labelSelector"))
            fields = parse_field_selector(q.get("fieldSelector"))
        except ValueError as e:
            raise errors.bad_request(str(e)) from None
        if parts[0] == "nodes" and len(parts) <= 2:
            return self._nodes(parts[1] if len(parts) == 2 else None, labels, fields)
        if parts[0] == "pods" and len(parts) == 1:
            return self._pods(None, None, labels, fields)
        if parts[0] == "namespaces" and len(parts) in (3, 4) and parts[2] == "pods":
            return self._pods(parts[1], parts[3] if len(parts) == 4 else None, labels, fields)
        raise errors.resource_not_found(request.url.path)

    def _nodes(self, name: str | None, labels: Any, fields: Any) -> Response:
        assert self.scraper is not None
        store, now = self.scraper.store, time.time()
        items = []
        for node in self.nodes(None):
            n = node["metadata"]["name"]
            if name is not None and n != name:
                continue
            if name is None and not (labels.matches(node["metadata"].get("labels")) and field_matches(node, fields)):
                continue
            u = store.node_usage(n)
            if u is not None:
                items.append(node_metrics(node, u, now))
        if name is not None:
            if not items:
                raise errors.APIError(404, "NotFound", f'nodemetrics.{GROUP} "{name}" not found',
                                      {"name": name, "group": GROUP, "kind": "nodes"})
            return json_response(items[0])
        return json_response(metrics_list("NodeMetrics", sorted(items, key=lambda m: m["metadata"]["name"])))

    def _pods(self, namespace: str | None, name: str | None, labels: Any, fields: Any) -> Response:
        assert self.scraper is not None
        store, now = self.scraper.store, time.time()
        items = []
        for pod in self.pods(namespace):
            meta = pod["metadata"]
            if name is not None and meta["name"] != name:
                continue
            if name is None and not (labels.matches(meta.get("labels")) and field_matches(pod, fields)):
                continue
            containers = store.pod_usage(meta.get("namespace", ""), meta["name"])
            if containers:
                items.append(pod_metrics(pod, containers, now))
        if name is not None:
            if not items:
                raise errors.APIError(404, "NotFound", f'podmetrics.{GROUP} "{namespace}/{name}" not found',
                                      {"name": f"{namespace}/{name}", "group": GROUP, "kind": "pods"})
            return json_response(items[0])
        items.sort(key=lambda m: (m["metadata"].get("namespace", ""), m["metadata"]["name"]))
        return json_response(metrics_list("PodMetrics", items))
