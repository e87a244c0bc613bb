"""Validation of apps/v1 DaemonSet and StatefulSet, with Kubernetes' paths and wording
(pkg/apis/apps/validation: ValidateDaemonSetSpec, ValidateStatefulSetSpec and their update
rules). The public entry points live in api.validation.
"""
from __future__ import annotations

from typing import Any

from api.field import FieldError, child, forbidden, invalid, not_supported, required
from api.names import is_dns1123_label, is_valid_percent
from api.selectors import selector_from_model
from api.validation_meta import (immutable, validate_annotations, validate_label_selector,
                                 validate_labels)
from api.validation_pod import validate_pod_spec

Obj = dict[str, Any]


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def non_negative(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


def positive_int_or_percent(value: Any, path: str) -> list[FieldError]:
    """ValidatePositiveIntOrPercent plus IsNotMoreThan100Percent."""
    if isinstance(value, bool):
        return [invalid(path, value, "must be an integer or percentage (e.g '5%')")]
    if isinstance(value, int):
        return non_negative(value, path)
    if isinstance(value, str):
        msgs = is_valid_percent(value)
        if msgs:
            return [invalid(path, value, m) for m in msgs]
        if int(value[:-1]) > 100:
            return [invalid(path, value, "must not be greater than 100%")]
    return []


def is_zero(value: Any) -> bool:
    return value in (0, "0%", None)


def validate_workload_template(spec: Obj, kind: str) -> list[FieldError]:
    """Selector (required, non-empty, valid), template labels matching it, the pod template
    with restartPolicy Always and no activeDeadlineSeconds."""
    errs: list[FieldError] = []
    selector = spec.get("selector")
    matcher = None
    if selector is None:
        errs.append(required("spec.selector"))
    elif not _dict(selector).get("matchLabels") and not _dict(selector).get("matchExpressions"):
        errs.append(invalid("spec.selector", selector, f"empty selector is invalid for {kind.lower()}"))
    else:
        sel_errs = validate_label_selector(selector, "spec.selector")
        errs.extend(sel_errs)
        if not sel_errs:
            try:
                matcher = selector_from_model(selector)
            except ValueError as exc:
                errs.append(invalid("spec.selector", selector, str(exc)))
    template = _dict(spec.get("template"))
    tmeta = _dict(template.get("metadata"))
    labels = tmeta.get("labels") or {}
    errs.extend(validate_labels(tmeta.get("labels"), "spec.template.metadata.labels"))
    errs.extend(validate_annotations(tmeta.get("annotations"), "spec.template.metadata.annotations"))
    if matcher is not None and not matcher.matches(labels):
        errs.append(invalid("spec.template.metadata.labels", labels,
                            "`selector` does not match template `labels`"))
    tspec = template.get("spec")
    errs.extend(validate_pod_spec(tspec, "spec.template.spec"))
    if isinstance(tspec, dict):
        restart = tspec.get("restartPolicy")
        if restart is not None and restart != "Always":
            errs.append(not_supported("spec.template.spec.restartPolicy", restart, ("Always",)))
        if tspec.get("activeDeadlineSeconds") is not None:
            errs.append(forbidden("spec.template.spec.activeDeadlineSeconds",
                                  f"activeDeadlineSeconds in {kind} is not Supported"))
    return errs


# ---------------------------------------------------------------- DaemonSet
def validate_daemon_set(obj: Obj) -> list[FieldError]:
    spec = _dict(obj.get("spec"))
    errs = validate_workload_template(spec, "DaemonSet")
    errs.extend(non_negative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    errs.extend(non_negative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
    strategy = _dict(spec.get("updateStrategy"))
    p = "spec.updateStrategy"
    stype = strategy.get("type")
    if stype == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if rolling is None:
            errs.append(required(child(p, "rollingUpdate")))
        else:
            rp = child(p, "rollingUpdate")
            unavailable, surge = _dict(rolling).get("maxUnavailable"), _dict(rolling).get("maxSurge")
            errs.extend(positive_int_or_percent(unavailable, child(rp, "maxUnavailable")))
            errs.extend(positive_int_or_percent(surge, child(rp, "maxSurge")))
            if is_zero(unavailable) and is_zero(surge):
                errs.append(invalid(child(rp, "maxUnavailable"), unavailable if unavailable is not None else 0,
                                    "may not be 0 when `maxSurge` is 0"))
    elif stype != "OnDelete":
        errs.append(not_supported(child(p, "type"), stype or "", ("OnDelete", "RollingUpdate")))
    return errs


def validate_daemon_set_update(new: Obj, old: Obj) -> list[FieldError]:
    return immutable(_dict(new.get("spec")).get("selector"), _dict(old.get("spec")).get("selector"),
                     "spec.selector")


# ---------------------------------------------------------------- StatefulSet
_RETENTION = ("Delete", "Retain")


def validate_stateful_set(obj: Obj) -> list[FieldError]:
    spec = _dict(obj.get("spec"))
    errs: list[FieldError] = []
    policy = spec.get("podManagementPolicy")
    if not policy:
        errs.append(required("spec.podManagementPolicy"))
    elif policy not in ("OrderedReady", "Parallel"):
        errs.append(invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'"))
    strategy = _dict(spec.get("updateStrategy"))
    stype, rolling = strategy.get("type"), strategy.get("rollingUpdate")
    if not stype:
        errs.append(required("spec.updateStrategy"))
    elif stype == "OnDelete":
        if rolling is not None:
            errs.append(invalid("spec.updateStrategy.rollingUpdate", rolling,
                                "only allowed for updateStrategy 'RollingUpdate'"))
    elif stype == "RollingUpdate":
        rp = "spec.updateStrategy.rollingUpdate"
        errs.extend(non_negative(_dict(rolling).get("partition"), child(rp, "partition")))
        if _dict(rolling).get("maxUnavailable") is not None:
            value = _dict(rolling)["maxUnavailable"]
            errs.extend(positive_int_or_percent(value, child(rp, "maxUnavailable")))
            if is_zero(value):
                errs.append(invalid(child(rp, "maxUnavailable"), value, "must be greater than 0"))
    else:
        errs.append(invalid("spec.updateStrategy", strategy, "must be 'RollingUpdate' or 'OnDelete'"))
    retention = _dict(spec.get("persistentVolumeClaimRetentionPolicy"))
    for fld in ("whenDeleted", "whenScaled"):
        value = retention.get(fld)
        if value not in _RETENTION:
            errs.append(not_supported(f"spec.persistentVolumeClaimRetentionPolicy.{fld}", value or "",
                                      _RETENTION))
    errs.extend(non_negative(spec.get("replicas"), "spec.replicas"))
    errs.extend(non_negative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    errs.extend(non_negative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
    errs.extend(non_negative(_dict(spec.get("ordinals")).get("start"), "spec.ordinals.start"))
    service = spec.get("serviceName")
    if isinstance(service, str) and service:
        errs.extend(invalid("spec.serviceName", service, m) for m in is_dns1123_label(service))
    errs.extend(validate_workload_template(_with_claim_volumes(spec), "StatefulSet"))
    for i, claim in enumerate(spec.get("volumeClaimTemplates") or []):
        if not _dict(_dict(claim).get("metadata")).get("name"):
            errs.append(required(f"spec.volumeClaimTemplates[{i}].metadata.name", "name is required"))
    return errs


def _with_claim_volumes(spec: Obj) -> Obj:
    """The spec with each volumeClaimTemplate standing in as a volume of the template, so the
    containers' volumeMounts of claims validate (as the pods the controller makes have them)."""
    claims = [_dict(_dict(c).get("metadata")).get("name") for c in spec.get("volumeClaimTemplates") or []]
    template = _dict(spec.get("template"))
    tspec = template.get("spec")
    if not claims or not isinstance(tspec, dict):
        return spec
    volumes = list(tspec.get("volumes") or [])
    known = {_dict(v).get("name") for v in volumes}
    volumes += [{"name": c, "persistentVolumeClaim": {"claimName": c}}
                for c in claims if c and c not in known]
    return {**spec, "template": {**template, "spec": {**tspec, "volumes": volumes}}}


_MUTABLE_STS = ("replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit",
                "persistentVolumeClaimRetentionPolicy", "minReadySeconds")


def validate_stateful_set_update(new: Obj, old: Obj) -> list[FieldError]:
    """ValidateStatefulSetUpdate: only the listed spec fields may change."""
    ns, os_ = _dict(new.get("spec")), _dict(old.get("spec"))
    rest_new = {k: v for k, v in ns.items() if k not in _MUTABLE_STS}
    rest_old = {k: v for k, v in os_.items() if k not in _MUTABLE_STS}
    if rest_new != rest_old:
        return [forbidden("spec", "updates to statefulset spec for fields other than 'replicas', "
                          "'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', "
                          "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")]
    return []
