"""A client of the resource metrics API (metrics.k8s.io/v1beta1): what the HPA controller's
REST metrics client does (pkg/controller/podautoscaler/metrics/client.go,
`resourceMetricsClient.GetResourceMetric`).

`pod_resource_metrics(client, resource, namespace, selector, container)` lists the
PodMetrics of the pods a label selector picks and answers each pod's usage of one resource
in milli-units (`MilliValue()`: millicores for CPU), summed over its containers or taken
from one named container; pods reported without containers (or without the named one)
are left out. No metrics at all is an error with upstream's wording.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from api.quantity import parse_quantity
from client.rest import Client

METRICS_PATH = "/apis/metrics.k8s.io/v1beta1"


class MetricsUnavailable(Exception):
    pass


@dataclass(frozen=True)
class PodMetric:
    value: int                      # milli-units
    timestamp: datetime
    window: timedelta


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _window(text: str | None) -> timedelta:
    if not text:
        return timedelta()
    return timedelta(seconds=float(parse_quantity(text.rstrip("s") or "0")))


def pod_metrics_from(items: list[dict[str, Any]], resource: str,
                     container: str | None = None) -> dict[str, PodMetric]:
    """The usable metrics of a PodMetricsList's items (pure)."""
    out: dict[str, PodMetric] = {}
    for item in items:
        containers = item.get("containers") or []
        if not containers:
            continue
        total, found = 0, False
        for c in containers:
            if container and c.get("name") != container:
                continue
            usage = (c.get("usage") or {}).get(resource)
            if usage is None:
                continue
            total += math.ceil(parse_quantity(usage) * 1000)
            found = True
        if not found:
            continue
        out[item["metadata"]["name"]] = PodMetric(total, _time(item["timestamp"]), _window(item.get("window")))
    return out


async def pod_resource_metrics(client: Client, resource: str, namespace: str, selector: str,
                               container: str | None = None) -> dict[str, PodMetric]:
    try:
        resp = await client.request("GET", f"{METRICS_PATH}/namespaces/{namespace}/pods",
                                    params={"labelSelector": selector or None})
    except Exception as e:
        raise MetricsUnavailable(f"unable to get metrics for resource {resource}: unable to fetch metrics "
                                 f"from resource metrics API: {e}") from e
    metrics = pod_metrics_from(resp.json().get("items") or [], resource, container)
    if not metrics:
        raise MetricsUnavailable(f"unable to get metrics for resource {resource}: "
                                 "no metrics returned from resource metrics API")
    return metrics
