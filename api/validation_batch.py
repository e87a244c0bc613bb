"""Validation of batch/v1 CronJobs and of the legacy v1 ReplicationController, with
Kubernetes' rules and wording (pkg/apis/batch/validation, ValidateReplicationController):
cron schedules and time zones, the concurrency policy, the job template (whose selector
the controller generates), history limits; an RC's equality selector against its template.
Job rules live in api.validation_job. Registered in api.validation.
"""
from __future__ import annotations

from typing import Any

from api import cron
from api.field import FieldError, child, forbidden, invalid, not_supported, required
from api.selectors import selector_from_set
from api.validation_job import _dict, _non_negative, _unsupported, validate_job_spec
from api.validation_meta import validate_annotations, validate_labels
from api.validation_pod import validate_pod_spec

Obj = dict[str, Any]

CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
MAX_CRONJOB_NAME = 52
TZ_IN_SCHEDULE = "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
TZ_AND_TIME_ZONE = "cannot use both timeZone field and TZ or CRON_TZ in schedule"


# ---------------------------------------------------------------- cronjobs
def validate_schedule(schedule: str, time_zone: str | None, allow_tz: bool,
                      path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    try:
        cron.parse_standard(schedule)
    except cron.CronError as e:
        errs.append(invalid(path, schedule, str(e)))
    if allow_tz and "TZ" in schedule and time_zone is not None:
        errs.append(invalid(path, schedule, TZ_AND_TIME_ZONE))
    elif not allow_tz and "TZ" in schedule:
        errs.append(invalid(path, schedule, TZ_IN_SCHEDULE))
    return errs


def validate_time_zone(tz: str | None, path: str) -> list[FieldError]:
    if tz is None:
        return []
    if not tz:
        return [invalid(path, tz, "timeZone must be nil or non-empty string")]
    if tz.lower() == "local":
        return [invalid(path, tz, "timeZone must be an explicit time zone as defined in "
                                  "https://www.iana.org/time-zones")]
    try:
        cron.load_location(tz)
    except cron.CronError as e:
        return [invalid(path, tz, str(e))]
    return []


def _validate_job_template(template: Obj, path: str) -> list[FieldError]:
    spec = _dict(template.get("spec"))
    spath = child(path, "spec")
    errs = validate_job_spec(spec, spath)
    if spec.get("selector") is not None:
        errs.append(invalid(child(spath, "selector"), spec["selector"],
                            "`selector` will be auto-generated"))
    if spec.get("manualSelector"):
        errs.append(_unsupported(child(spath, "manualSelector"), True, ("nil", "false")))
    return errs


def _validate_cron_job_spec(spec: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    schedule = spec.get("schedule") or ""
    if not schedule:
        errs.append(required("spec.schedule"))
    else:
        errs.extend(validate_schedule(schedule, spec.get("timeZone"), False, "spec.schedule"))
    errs.extend(_non_negative(spec.get("startingDeadlineSeconds"), "spec.startingDeadlineSeconds"))
    errs.extend(validate_time_zone(spec.get("timeZone"), "spec.timeZone"))
    policy = spec.get("concurrencyPolicy") or ""
    if not policy:
        errs.append(required("spec.concurrencyPolicy"))
    elif policy not in CONCURRENCY_POLICIES:
        errs.append(not_supported("spec.concurrencyPolicy", policy, CONCURRENCY_POLICIES))
    errs.extend(_validate_job_template(_dict(spec.get("jobTemplate")), "spec.jobTemplate"))
    for fld in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        errs.extend(_non_negative(spec.get(fld), f"spec.{fld}"))
    return errs


def validate_cron_job(obj: Obj) -> list[FieldError]:
    errs = _validate_cron_job_spec(_dict(obj.get("spec")))
    name = _dict(obj.get("metadata")).get("name") or ""
    if len(name) > MAX_CRONJOB_NAME:
        errs.append(invalid("metadata.name", name, f"must be no more than {MAX_CRONJOB_NAME} "
                                                   "characters"))
    return errs


def relax_cron_job_update(errs: list[FieldError], new: Obj, old: Obj) -> list[FieldError]:
    """ValidateCronJobUpdate keeps what the stored object already had: a schedule with a TZ
    prefix stays allowed (refused only together with timeZone), an unchanged timeZone is
    not checked again. `errs` are the create-time errors of `new`."""
    spec, ospec = _dict(new.get("spec")), _dict(old.get("spec"))
    out = list(errs)
    if "TZ" in (ospec.get("schedule") or ""):
        out = [e for e in out if e.message != TZ_IN_SCHEDULE]
        schedule = spec.get("schedule") or ""
        if "TZ" in schedule and spec.get("timeZone") is not None:
            out.append(invalid("spec.schedule", schedule, TZ_AND_TIME_ZONE))
    if ospec.get("timeZone") == spec.get("timeZone"):
        out = [e for e in out if e.field != "spec.timeZone"]
    return out


# ---------------------------------------------------------------- replication controllers
def validate_replication_controller(obj: Obj) -> list[FieldError]:
    spec = _dict(obj.get("spec"))
    errs = _non_negative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    selector = spec.get("selector") or {}
    if not selector:
        errs.append(required("spec.selector"))
    selector_errs = validate_labels(selector or None, "spec.selector")
    errs.extend(selector_errs)
    errs.extend(_non_negative(spec.get("replicas"), "spec.replicas"))
    template = spec.get("template")
    if not isinstance(template, dict):
        errs.append(required("spec.template"))
        return errs
    tmeta = _dict(template.get("metadata"))
    labels = tmeta.get("labels") or {}
    if selector and not selector_errs and not selector_from_set(selector).matches(labels):
        errs.append(invalid("spec.template.metadata.labels", labels,
                            "`selector` does not match template `labels`"))
    errs.extend(validate_labels(tmeta.get("labels"), "spec.template.labels"))
    errs.extend(validate_annotations(tmeta.get("annotations"), "spec.template.annotations"))
    tspec = template.get("spec")
    errs.extend(validate_pod_spec(tspec, "spec.template.spec"))
    restart = _dict(tspec).get("restartPolicy")
    if restart != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", restart, ("Always",)))
    if _dict(tspec).get("activeDeadlineSeconds") is not None:
        errs.append(forbidden("spec.template.spec.activeDeadlineSeconds",
                              "activeDeadlineSeconds in ReplicationController is not Supported"))
    return errs


__all__ = [
    "relax_cron_job_update", "validate_cron_job", "validate_replication_controller",
    "validate_schedule", "validate_time_zone",
]
