"""Strategies of batch/v1 Job and CronJob.

Job: starts with an empty status; a delete naming no propagationPolicy orphans its pods (as
kube-apiserver does for batch/v1; kubectl sends Background); unless `spec.manualSelector` is true the server
generates the selector and the pod template's labels from the Job's uid and name, as
kube-apiserver's job strategy does (`controller-uid`, `batch.kubernetes.io/controller-uid`,
`job-name`, `batch.kubernetes.io/job-name`; the selector matches the new uid label). A Job
without labels takes its template's labels as they were given (defaulting runs before the
generated ones are added), and its template's full labels when it had none (as a read
from kube-apiserver's storage shows them).
CronJob: starts with an empty status; on update a schedule that already carried a TZ=
prefix, and an unchanged timeZone, stay allowed.
"""
from __future__ import annotations

from api.defaults import default_job_labels
from api.field import FieldError
from api.models.batch import (CONTROLLER_UID_LABEL, JOB_NAME_LABEL, LEGACY_CONTROLLER_UID_LABEL,
                              LEGACY_JOB_NAME_LABEL)
from api.validation_batch import relax_cron_job_update
from apiserver.strategies import Obj, Strategy, builtin


def generate_selector(job: Obj) -> None:
    """kube-apiserver's generateSelector: labels the user set are kept (validation then
    says what is wrong with them), the rest are generated."""
    meta = job["metadata"]
    spec = job.setdefault("spec", {})
    template = spec.get("template")
    if not isinstance(template, dict):
        template = spec["template"] = {}
    tmeta = template.get("metadata")
    if not isinstance(tmeta, dict):
        tmeta = template["metadata"] = {}
    labels = tmeta.get("labels")
    if not isinstance(labels, dict):
        labels = tmeta["labels"] = {}
    for name_label in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
        labels.setdefault(name_label, meta.get("name") or "")
    for uid_label in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
        labels.setdefault(uid_label, meta.get("uid") or "")
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        selector = spec["selector"] = {}
    match = selector.get("matchLabels")
    if not isinstance(match, dict):
        match = selector["matchLabels"] = {}
    match.setdefault(CONTROLLER_UID_LABEL, meta.get("uid") or "")


@builtin("batch", "Job")
class JobStrategy(Strategy):
    reset_status = True
    default_propagation_policy = "Orphan"

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        default_job_labels(obj)
        if not (obj.get("spec") or {}).get("manualSelector"):
            generate_selector(obj)


@builtin("batch", "CronJob")
class CronJobStrategy(Strategy):
    reset_status = True

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        return relax_cron_job_update(super().validate_update(new, old), new, old)
