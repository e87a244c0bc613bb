"""Validation of batch/v1 Jobs, with Kubernetes' rules and wording
(pkg/apis/batch/validation): non-negative counters, the restart policy a Job's pods may
have, the selector the server generates (`selector` not auto-generated), pod failure and
success policies, completion modes and index lists, and what may not change on update.
Shared with CronJob job templates (api.validation_batch). Registered in api.validation.
"""
from __future__ import annotations

import json
from typing import Any

from api.field import (FieldError, child, duplicate, index, invalid, key, not_supported,
                       required)
from api.models.batch import (CONTROLLER_UID_LABEL, JOB_CONTROLLER_NAME, JOB_NAME_LABEL,
                              LEGACY_CONTROLLER_UID_LABEL, LEGACY_JOB_NAME_LABEL)
from api.names import is_dns1123_label, is_dns1123_subdomain, is_qualified_name
from api.selectors import selector_from_model
from api.validation_meta import (immutable, validate_annotations, validate_label_selector,
                                 validate_labels)
from api.validation_pod import validate_pod_spec

Obj = dict[str, Any]

COMPLETION_MODES = ("NonIndexed", "Indexed")
POD_FAILURE_ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")
EXIT_CODE_OPERATORS = ("In", "NotIn")
CONDITION_STATUSES = ("False", "True", "Unknown")
POD_REPLACEMENT_POLICIES = ("Failed", "TerminatingOrFailed")
MAX_RULES = 20
MAX_EXIT_CODES = 255
MAX_INDEXED_PARALLELISM = 100_000
MAX_INDEXED_COMPLETIONS = 100_000


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _non_negative(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, int) and value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


def _unsupported(path: str, value: Any, valid: tuple[str, ...]) -> FieldError:
    """field.NotSupported with the values in the order Kubernetes lists them."""
    shown = ", ".join(json.dumps(v) for v in valid)
    return FieldError("NotSupported", path, f"supported values: {shown}", value)


def _too_many(path: str, count: int, limit: int) -> FieldError:
    return FieldError("TooMany", path, f"must have at most {limit} items", count)


# ---------------------------------------------------------------- indexes ("1,3-5,7")
def parse_indexes(text: str, completions: int) -> list[tuple[int, int]]:
    """Intervals of an index list as Kubernetes writes them; ValueError on a bad one."""
    out: list[tuple[int, int]] = []
    prev = -1
    for part in text.split(","):
        bounds = part.split("-")
        if len(bounds) > 2:
            raise ValueError(f'the fragment "{part}" violates the requirement that an index '
                             "interval can have at most two parts separated by '-'")
        try:
            lo, hi = int(bounds[0]), int(bounds[-1])
        except ValueError:
            raise ValueError(f'cannot convert string to integer for index: "{part}"') from None
        if lo > hi:
            raise ValueError(f"the fragment \"{part}\" violates the requirement that the first "
                             "index should be lower than the second")
        if hi >= completions:
            raise ValueError(f"too large index: {hi}")
        if lo <= prev:
            raise ValueError(f"non-increasing order, previous: {prev}, current: {lo}")
        out.append((lo, hi))
        prev = hi
    return out


# ---------------------------------------------------------------- policies
def _validate_pod_failure_policy(spec: Obj, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    rules = _dict(spec.get("podFailurePolicy")).get("rules") or []
    rules_path = child(path, "rules")
    if len(rules) > MAX_RULES:
        errs.append(_too_many(rules_path, len(rules), MAX_RULES))
    tspec = _dict(_dict(spec.get("template")).get("spec"))
    names = {c.get("name") for k in ("containers", "initContainers")
             for c in tspec.get(k) or [] if isinstance(c, dict)}
    for i, rule in enumerate(rules):
        p = index(rules_path, i)
        action = rule.get("action") or ""
        if not action:
            errs.append(required(child(p, "action"), 'valid values: ["Count" "FailIndex" '
                                                     '"FailJob" "Ignore"]'))
        elif action == "FailIndex":
            errs.append(invalid(child(p, "action"), action,
                                "requires the backoffLimitPerIndex to be set"))
        elif action not in POD_FAILURE_ACTIONS:
            errs.append(not_supported(child(p, "action"), action, POD_FAILURE_ACTIONS))
        on_exit, on_conds = rule.get("onExitCodes"), rule.get("onPodConditions") or []
        if isinstance(on_exit, dict):
            errs.extend(_validate_on_exit_codes(on_exit, child(p, "onExitCodes"), names))
        if on_conds:
            errs.extend(_validate_on_pod_conditions(on_conds, child(p, "onPodConditions")))
        if on_exit is not None and on_conds:
            errs.append(FieldError("Invalid", p, "specifying both OnExitCodes and "
                                                 "OnPodConditions is not supported", None))
        if on_exit is None and not on_conds:
            errs.append(FieldError("Invalid", p, "specifying one of OnExitCodes and "
                                                 "OnPodConditions is required", None))
    return errs


def _validate_on_exit_codes(req: Obj, path: str, names: set[Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    op = req.get("operator") or ""
    if not op:
        errs.append(required(child(path, "operator"), 'valid values: ["In" "NotIn"]'))
    elif op not in EXIT_CODE_OPERATORS:
        errs.append(not_supported(child(path, "operator"), op, EXIT_CODE_OPERATORS))
    name = req.get("containerName")
    if name is not None and name not in names:
        errs.append(invalid(child(path, "containerName"), name,
                            "must be one of the container or initContainer names in the pod "
                            "template"))
    values: list[int] = req.get("values") or []
    vpath = child(path, "values")
    if not values:
        errs.append(invalid(vpath, values, "at least one value is required"))
    elif len(values) > MAX_EXIT_CODES:
        errs.append(_too_many(vpath, len(values), MAX_EXIT_CODES))
    seen: set[int] = set()
    for j, v in enumerate(values):
        if op == "In" and v == 0:
            errs.append(invalid(index(vpath, j), v, "must not be 0 for the In operator"))
        if v in seen:
            errs.append(duplicate(index(vpath, j), v))
        seen.add(v)
    if any(a > b for a, b in zip(values, values[1:])):
        errs.append(invalid(vpath, values, "must be ordered"))
    return errs


def _validate_on_pod_conditions(patterns: list[Obj], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if len(patterns) > MAX_RULES:
        errs.append(_too_many(path, len(patterns), MAX_RULES))
    for j, pattern in enumerate(patterns):
        p = index(path, j)
        ctype = pattern.get("type") or ""
        errs.extend(invalid(child(p, "type"), ctype, m) for m in is_qualified_name(ctype))
        status = pattern.get("status") or ""
        if not status:
            errs.append(required(child(p, "status"), 'valid values: ["False" "True" "Unknown"]'))
        elif status not in CONDITION_STATUSES:
            errs.append(not_supported(child(p, "status"), status, CONDITION_STATUSES))
    return errs


def _validate_success_policy(spec: Obj, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    rules = _dict(spec.get("successPolicy")).get("rules") or []
    rules_path = child(path, "rules")
    completions = spec.get("completions") or 0
    if not rules:
        errs.append(required(rules_path, "at least one rules must be specified when the "
                                         "successPolicy is specified"))
    if len(rules) > MAX_RULES:
        errs.append(_too_many(rules_path, len(rules), MAX_RULES))
    for i, rule in enumerate(rules):
        p = index(rules_path, i)
        total = 0
        indexes, count = rule.get("succeededIndexes"), rule.get("succeededCount")
        if indexes is not None:
            try:
                total = sum(hi - lo + 1 for lo, hi in parse_indexes(indexes, completions))
            except ValueError as e:
                errs.append(invalid(child(p, "succeededIndexes"), indexes,
                                    f"error parsing succeededIndexes: {e}"))
        if count is not None:
            cpath = child(p, "succeededCount")
            errs.extend(_non_negative(count, cpath))
            if count > completions:
                errs.append(invalid(cpath, count, f"must be less than or equal to {completions} "
                                                  "(the number of specified completions)"))
            if indexes is not None and count > total:
                errs.append(invalid(cpath, count, f"must be less than or equal to {total} (the "
                                                  "number of indexes in the specified "
                                                  "succeededIndexes field)"))
        if indexes is None and count is None:
            errs.append(required(p, "at least one of succeededCount or succeededIndexes must "
                                    "be specified"))
    return errs


# ---------------------------------------------------------------- job spec
def validate_job_spec(spec: Obj, path: str) -> list[FieldError]:
    """validateJobSpec: counters, completion mode, policies and the pod template."""
    errs: list[FieldError] = []
    for fld in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                "ttlSecondsAfterFinished"):
        errs.extend(_non_negative(spec.get(fld), child(path, fld)))
    managed_by = spec.get("managedBy")
    if managed_by is not None and managed_by != JOB_CONTROLLER_NAME:
        domain, _, rest = managed_by.partition("/")
        if not rest or is_dns1123_subdomain(domain):
            errs.append(invalid(child(path, "managedBy"), managed_by,
                                "must be a domain-prefixed path (such as \"acme.io/foo\")"))
        elif len(managed_by) > 63:
            errs.append(FieldError("TooLong", child(path, "managedBy"), "may not be more than "
                                   "63 bytes", managed_by))
    mode = spec.get("completionMode")
    if mode is not None and mode not in COMPLETION_MODES:
        errs.append(_unsupported(child(path, "completionMode"), mode, COMPLETION_MODES))
    if mode == "Indexed":
        if spec.get("completions") is None:
            errs.append(required(child(path, "completions"), "when completion mode is Indexed"))
        elif spec["completions"] > MAX_INDEXED_COMPLETIONS:
            errs.append(invalid(child(path, "completions"), spec["completions"],
                                f"must be less than or equal to {MAX_INDEXED_COMPLETIONS} "
                                "when completion mode is Indexed"))
        if (spec.get("parallelism") or 0) > MAX_INDEXED_PARALLELISM:
            errs.append(invalid(child(path, "parallelism"), spec["parallelism"],
                                f"must be less than or equal to {MAX_INDEXED_PARALLELISM} "
                                "when completion mode is Indexed"))
    elif spec.get("successPolicy") is not None:
        errs.append(invalid(child(path, "successPolicy"), spec["successPolicy"],
                            "requires indexed completion mode"))
    if spec.get("podFailurePolicy") is not None:
        errs.extend(_validate_pod_failure_policy(spec, child(path, "podFailurePolicy")))
    if spec.get("successPolicy") is not None and mode == "Indexed" and spec.get("completions"):
        errs.extend(_validate_success_policy(spec, child(path, "successPolicy")))
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None:
        if spec.get("podFailurePolicy") is not None:
            if replacement != "Failed":
                errs.append(not_supported(child(path, "podReplacementPolicy"), replacement,
                                          ("Failed",)))
        elif replacement not in POD_REPLACEMENT_POLICIES:
            errs.append(not_supported(child(path, "podReplacementPolicy"), replacement,
                                      POD_REPLACEMENT_POLICIES))
    template = _dict(spec.get("template"))
    tpath = child(path, "template")
    tmeta = _dict(template.get("metadata"))
    errs.extend(validate_labels(tmeta.get("labels"), child(tpath, "labels")))
    errs.extend(validate_annotations(tmeta.get("annotations"), child(tpath, "annotations")))
    tspec = template.get("spec")
    errs.extend(validate_pod_spec(tspec, child(tpath, "spec")))
    restart = _dict(tspec).get("restartPolicy")
    if restart not in ("OnFailure", "Never"):
        errs.append(_unsupported(child(tpath, "spec.restartPolicy"), restart,
                                 ("OnFailure", "Never")))
    elif spec.get("podFailurePolicy") is not None and restart != "Never":
        errs.append(invalid(child(tpath, "spec.restartPolicy"), restart,
                            'only "Never" is supported when podFailurePolicy is specified'))
    return errs


def _validate_selector_matches(spec: Obj, path: str) -> list[FieldError]:
    selector = spec.get("selector")
    if selector is None:
        return [required(child(path, "selector"))]
    errs = validate_label_selector(selector, child(path, "selector"))
    if errs:
        return errs
    labels = _dict(_dict(spec.get("template")).get("metadata")).get("labels") or {}
    try:
        matches = selector_from_model(selector).matches(labels)
    except ValueError as e:
        return [invalid(child(path, "selector"), selector, str(e))]
    if not matches:
        errs.append(invalid(child(path, "template.metadata.labels"), labels,
                            "`selector` does not match template `labels`"))
    return errs


def _has_label(labels: dict[str, str], name: str, want: str, path: str) -> list[FieldError]:
    if name not in labels:
        return [required(key(path, name), f"must be '{want}'")]
    if labels[name] != want:
        return [invalid(key(path, name), labels, f"must be '{want}'")]
    return []


def _validate_generated_selector(job: Obj) -> list[FieldError]:
    """Without manualSelector the selector and labels must be the generated ones."""
    spec, meta = _dict(job.get("spec")), _dict(job.get("metadata"))
    if spec.get("manualSelector"):
        return []
    labels = _dict(_dict(spec.get("template")).get("metadata")).get("labels")
    if labels is None:
        return []
    uid, name = meta.get("uid") or "", meta.get("name") or ""
    lpath = "spec.template.metadata.labels"
    errs = (_has_label(labels, LEGACY_CONTROLLER_UID_LABEL, uid, lpath)
            + _has_label(labels, LEGACY_JOB_NAME_LABEL, name, lpath)
            + _has_label(labels, CONTROLLER_UID_LABEL, uid, lpath)
            + _has_label(labels, JOB_NAME_LABEL, name, lpath))
    expected = {LEGACY_CONTROLLER_UID_LABEL: uid, CONTROLLER_UID_LABEL: uid}
    try:
        ok = selector_from_model(spec.get("selector")).matches(expected)
    except ValueError:
        ok = True               # reported by the selector's own validation
    if not ok:
        errs.append(invalid("spec.selector", spec.get("selector"), "`selector` not auto-generated"))
    return errs


def validate_job(job: Obj) -> list[FieldError]:
    spec = _dict(job.get("spec"))
    errs = _validate_generated_selector(job)
    errs.extend(_validate_selector_matches(spec, "spec"))
    errs.extend(validate_job_spec(spec, "spec"))
    name = _dict(job.get("metadata")).get("name") or ""
    completions = spec.get("completions")
    if spec.get("completionMode") == "Indexed" and isinstance(completions, int) and completions > 0:
        hostname = f"{name}-{completions - 1}"
        if is_dns1123_label(hostname):
            errs.append(invalid("metadata.name", name, "will not able to create pod with "
                                                       f"invalid DNS label: {hostname}"))
    return errs


def validate_job_update(new: Obj, old: Obj) -> list[FieldError]:
    """ValidateJobSpecUpdate: what may not change once a Job exists."""
    spec, ospec = _dict(new.get("spec")), _dict(old.get("spec"))
    errs: list[FieldError] = []
    elastic = (spec.get("completionMode") == "Indexed"
               and spec.get("completions") == spec.get("parallelism"))
    if not elastic:
        errs.extend(immutable(spec.get("completions"), ospec.get("completions"), "spec.completions"))
    for fld in ("selector", "completionMode", "podFailurePolicy", "managedBy", "successPolicy"):
        errs.extend(immutable(spec.get(fld), ospec.get(fld), f"spec.{fld}"))
    errs.extend(_validate_template_update(spec, ospec, _dict(old.get("status"))))
    return errs


_SCHEDULING_DIRECTIVES = ("nodeSelector", "tolerations", "affinity", "schedulingGates")


def _validate_template_update(spec: Obj, ospec: Obj, old_status: Obj) -> list[FieldError]:
    """The pod template is immutable; a suspended Job that never started may still change
    its pods' scheduling directives, labels and annotations."""
    template, old = _dict(spec.get("template")), _dict(ospec.get("template"))
    if template == old:
        return []
    if ospec.get("suspend") and not old_status.get("startTime"):
        strip = [(dict(_dict(t.get("spec"))), _dict(t.get("metadata"))) for t in (template, old)]
        for tspec, _ in strip:
            for fld in _SCHEDULING_DIRECTIVES:
                tspec.pop(fld, None)
        if strip[0][0] == strip[1][0]:
            return []
    return [invalid("spec.template", template, "field is immutable")]


__all__ = ["parse_indexes", "validate_job", "validate_job_spec", "validate_job_update"]
