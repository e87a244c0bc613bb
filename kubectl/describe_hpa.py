"""`describe hpa`: kubectl's describeHorizontalPodAutoscalerV2 (describe.go) - reference,
each metric as `current / target`, min/max replicas, the behavior when set, the target's
pods current/desired, the conditions and the events. Pure: dicts in, text out; registered
in describers."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from api.tables import meta_of as _meta, spec_of as _spec, status_of as _status
from kubectl import describe_util as du

Obj = dict[str, Any]


def _current(statuses: list[Obj], i: int, field: str) -> Obj | None:
    if i < len(statuses) and isinstance(statuses[i].get(field), dict):
        return statuses[i][field].get("current") or {}
    return None


def _resource_metric(w: du.PrefixWriter, source: Obj, current: Obj | None, label: str) -> None:
    target = source.get("target") or {}
    w.write(1, label)
    if target.get("averageValue") is not None:
        now = (current or {}).get("averageValue") or "<unknown>"
        w.write(0, f":\t{now} / {target['averageValue']}\n")
        return
    now = "<unknown>"
    if current is not None and current.get("averageUtilization") is not None:
        now = f"{current['averageUtilization']}% ({current.get('averageValue', '0')})"
    want = f"{target['averageUtilization']}%" if target.get("averageUtilization") is not None else "<auto>"
    w.write(1, f"(as a percentage of request):\t{now} / {want}\n")


def _metric(w: du.PrefixWriter, metric: Obj, statuses: list[Obj], i: int) -> None:
    typ = metric.get("type")
    if typ == "Resource":
        src = metric.get("resource") or {}
        _resource_metric(w, src, _current(statuses, i, "resource"), f"resource {src.get('name', '')} on pods")
    elif typ == "ContainerResource":
        src = metric.get("containerResource") or {}
        _resource_metric(w, src, _current(statuses, i, "containerResource"),
                         f"resource {src.get('name', '')} of container \"{src.get('container', '')}\" on pods")
    elif typ == "Pods":
        src = metric.get("pods") or {}
        now = (_current(statuses, i, "pods") or {}).get("averageValue") or "<unknown>"
        w.write(1, f"\"{(src.get('metric') or {}).get('name', '')}\" on pods:\t{now} / "
                   f"{(src.get('target') or {}).get('averageValue')}\n")
    else:
        w.write(1, f"<unknown metric type \"{typ}\">\n" if typ not in ("Object", "External")
                else f"\"{((metric.get(typ.lower()) or {}).get('metric') or {}).get('name', '')}\" "
                     f"({typ.lower()} metric):\t<unknown>\n")


def _direction(w: du.PrefixWriter, name: str, rules: Obj | None) -> None:
    if rules is None:
        return
    w.write(1, f"{name}:\n")
    if rules.get("stabilizationWindowSeconds") is not None:
        w.write(2, f"Stabilization Window: {rules['stabilizationWindowSeconds']} seconds\n")
    if rules.get("policies"):
        w.write(2, f"Select Policy: {rules.get('selectPolicy') or 'Max'}\n")
        w.write(2, "Policies:\n")
        for p in rules["policies"]:
            w.write(3, f"- Type: {p.get('type')}\tValue: {p.get('value')}\tPeriod: {p.get('periodSeconds')} seconds\n")


def describe_hpa(hpa: Obj, events: list[Obj] | None = None, now: datetime | None = None) -> str:
    w = du.PrefixWriter()
    meta, spec, st = _meta(hpa), _spec(hpa), _status(hpa)
    ref = spec.get("scaleTargetRef") or {}
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    du.labels_multiline(w, "Labels", meta.get("labels"))
    du.annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"CreationTimestamp:\t{du.rfc1123z(meta.get('creationTimestamp'))}\n")
    w.write(0, f"Reference:\t{ref.get('kind', '')}/{ref.get('name', '')}\n")
    w.write(0, "Metrics:\t( current / target )\n")
    statuses = st.get("currentMetrics") or []
    for i, metric in enumerate(spec.get("metrics") or []):
        _metric(w, metric, statuses, i)
    w.write(0, f"Min replicas:\t{spec['minReplicas'] if spec.get('minReplicas') is not None else '<unset>'}\n")
    w.write(0, f"Max replicas:\t{spec.get('maxReplicas', 0)}\n")
    if spec.get("behavior") is not None:
        w.write(0, "Behavior:\n")
        _direction(w, "Scale Up", spec["behavior"].get("scaleUp"))
        _direction(w, "Scale Down", spec["behavior"].get("scaleDown"))
    w.write(0, f"{ref.get('kind', '')} pods:\t{st.get('currentReplicas', 0)} current / "
               f"{st.get('desiredReplicas', 0)} desired\n")
    if st.get("conditions"):
        w.write(0, "Conditions:\n")
        w.write(1, "Type\tStatus\tReason\tMessage\n")
        w.write(1, "----\t------\t------\t-------\n")
        for c in st["conditions"]:
            w.write(1, f"{c.get('type')}\t{c.get('status')}\t{c.get('reason', '')}\t{c.get('message', '')}\n")
    du.events(w, events, now)
    return w.text()


DESCRIBERS = {"HorizontalPodAutoscaler": describe_hpa}
