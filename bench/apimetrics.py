"""API call latency from the apiserver's own `apiserver_request_duration_seconds` histogram.

Owns `parse_histograms(text)` (Prometheus text -> cumulative buckets per (verb, resource,
subresource, scope)), `quantile` (Prometheus' histogram_quantile: linear within the bucket
the rank falls in), and `slo_p99s`, which groups the series as Kubernetes' API call latency
SLOs do: mutating calls on single objects (POST, PUT, PATCH, APPLY, DELETE), single-object
reads (GET) and lists (LIST), each SLO judged on its worst (resource, verb) pair's p99.
Long-running and proxied calls (WATCH, CONNECT, logs) are not part of any SLO.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

MUTATING = ("POST", "PUT", "PATCH", "APPLY", "DELETE")
_LINE = re.compile(r'^apiserver_request_duration_seconds_bucket\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
_EXCLUDED_SUBRESOURCES = ("log", "exec", "attach", "portforward", "proxy")


@dataclass
class Series:
    verb: str
    resource: str
    subresource: str
    scope: str
    buckets: dict[float, float] = field(default_factory=dict)   # upper bound -> cumulative count

    @property
    def count(self) -> float:
        return self.buckets.get(math.inf, 0.0)

    @property
    def name(self) -> str:
        sub = f"/{self.subresource}" if self.subresource else ""
        return f"{self.verb} {self.resource}{sub} ({self.scope})"


def parse_histograms(text: str) -> list[Series]:
    series: dict[tuple[str, str, str, str], Series] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        labels = dict(_LABEL.findall(m.group("labels")))
        key = (labels.get("verb", ""), labels.get("resource", ""), labels.get("subresource", ""),
               labels.get("scope", ""))
        s = series.get(key) or series.setdefault(key, Series(*key))
        le = labels.get("le", "+Inf")
        s.buckets[math.inf if le == "+Inf" else float(le)] = float(m.group("value"))
    return [s for s in series.values() if s.count > 0]


def quantile(q: float, buckets: dict[float, float]) -> float:
    """histogram_quantile(q, ...): the upper-bound interpolation Prometheus uses (the largest
    finite bound when the rank falls in the +Inf bucket)."""
    bounds = sorted(buckets)
    total = buckets.get(math.inf, 0.0)
    if total == 0:
        return 0.0
    rank = q * total
    prev_bound, prev_count = 0.0, 0.0
    for b in bounds:
        c = buckets[b]
        if c >= rank:
            if math.isinf(b):
                return prev_bound
            if c == prev_count:
                return b
            return prev_bound + (b - prev_bound) * (rank - prev_count) / (c - prev_count)
        prev_bound, prev_count = b, c
    return prev_bound


def slo_groups(series: list[Series]) -> dict[str, list[Series]]:
    groups: dict[str, list[Series]] = {"mutating": [], "read": [], "list": []}
    for s in series:
        if not s.resource or s.subresource in _EXCLUDED_SUBRESOURCES:
            continue
        if s.verb in MUTATING:
            groups["mutating"].append(s)
        elif s.verb == "GET":
            groups["read"].append(s)
        elif s.verb == "LIST":
            groups["list"].append(s)
    return groups


def slo_p99s(series: list[Series]) -> dict[str, tuple[float, str]]:
    """For each SLO group, the worst pair's p99 and that pair's name."""
    out: dict[str, tuple[float, str]] = {}
    for group, members in slo_groups(series).items():
        worst = max(((quantile(0.99, s.buckets), s.name) for s in members), default=(0.0, "-"))
        out[group] = worst
    return out


def subtract(after: list[Series], before: list[Series]) -> list[Series]:
    """The requests between two scrapes."""
    prior = {(s.verb, s.resource, s.subresource, s.scope): s for s in before}
    out = []
    for s in after:
        p = prior.get((s.verb, s.resource, s.subresource, s.scope))
        d = Series(s.verb, s.resource, s.subresource, s.scope,
                   {b: c - (p.buckets.get(b, 0.0) if p else 0.0) for b, c in s.buckets.items()})
        if d.count > 0:
            out.append(d)
    return out
