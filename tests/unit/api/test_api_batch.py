"""Job, CronJob and ReplicationController in the API layer: Kubernetes' defaults, the
selector and labels the Job strategy generates, and validation in Kubernetes' words."""
from __future__ import annotations

import copy
from typing import Any

from api.resources import by_kind
from api.validation import validate_create, validate_update
from apiserver.strategies import for_resource

JOB = by_kind("batch/v1", "Job")
CRONJOB = by_kind("batch/v1", "CronJob")
RC = by_kind("v1", "ReplicationController")


def job(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"template": {"spec": {"restartPolicy": "Never", "containers": [
        {"name": "c", "image": "busybox"}]}}}
    body.update(spec)
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "pi", "namespace": "default", "uid": "u-1"}, "spec": body}


def created(obj: dict[str, Any]) -> dict[str, Any]:
    """What kube-apiserver does before validation: prepare, default."""
    s = for_resource(by_kind(obj["apiVersion"], obj["kind"]))
    out = copy.deepcopy(obj)
    s.prepare_for_create(out)
    s.default(out)
    return out


def messages(resource: Any, obj: dict[str, Any]) -> list[str]:
    return [str(e) for e in validate_create(resource, obj)]


def test_job_defaults_and_generated_selector() -> None:
    out = created(job())
    spec = out["spec"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"], spec["suspend"],
            spec["completionMode"], spec["podReplacementPolicy"]) == \
        (1, 1, 6, False, "NonIndexed", "TerminatingOrFailed")
    labels = {"batch.kubernetes.io/controller-uid": "u-1", "batch.kubernetes.io/job-name": "pi",
              "controller-uid": "u-1", "job-name": "pi"}
    assert spec["template"]["metadata"]["labels"] == labels
    assert out["metadata"]["labels"] == labels          # as a read from kube-apiserver shows
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}}
    assert out["status"] == {} and out["metadata"]["generation"] == 1
    assert messages(JOB, out) == []


def test_job_keeps_its_own_labels_and_defaults_parallelism_only() -> None:
    out = created(job(parallelism=3, template={"metadata": {"labels": {"app": "x"}}, "spec": {
        "restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}))
    assert "completions" not in out["spec"] and out["spec"]["parallelism"] == 3
    assert out["metadata"]["labels"] == {"app": "x"}
    with_policy = created(job(podFailurePolicy={"rules": [{"action": "Ignore", "onPodConditions": [
        {"type": "DisruptionTarget"}]}]}))
    assert with_policy["spec"]["podReplacementPolicy"] == "Failed"
    assert with_policy["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"] == "True"


def test_manual_selector_is_not_generated_but_must_match() -> None:
    out = created(job(manualSelector=True, selector={"matchLabels": {"app": "x"}},
                      template={"metadata": {"labels": {"app": "y"}}, "spec": {
                          "restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}))
    assert out["spec"]["selector"] == {"matchLabels": {"app": "x"}}
    assert messages(JOB, out) == ['spec.template.metadata.labels: Invalid value: '
                                  'map[string]string{"app":"y"}: `selector` does not match '
                                  'template `labels`']


def test_user_selector_without_manual_selector_is_refused() -> None:
    out = created(job(selector={"matchLabels": {"app": "x"}}, template={
        "metadata": {"labels": {"app": "x"}},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}))
    assert any(m.startswith("spec.selector: Invalid value: ") and
               m.endswith("`selector` not auto-generated") for m in messages(JOB, out))


def test_job_validation_in_kubernetes_words() -> None:
    out = created(job(completions=-1, completionMode="Weird", backoffLimit=-2))
    out["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    assert messages(JOB, out) == [
        "spec.completions: Invalid value: -1: must be greater than or equal to 0",
        "spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0",
        'spec.completionMode: Unsupported value: "Weird": supported values: "NonIndexed", "Indexed"',
        'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: '
        '"OnFailure", "Never"']
    indexed = created(job(completionMode="Indexed", parallelism=2, completions=None))
    del indexed["spec"]["completions"]
    assert "spec.completions: Required value: when completion mode is Indexed" in messages(JOB, indexed)
    policy = created(job(podFailurePolicy={"rules": [
        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [0, 3, 2],
                                              "containerName": "nope"}},
        {"action": "Retry", "onExitCodes": {"operator": "In", "values": [1]},
         "onPodConditions": [{"type": "DisruptionTarget"}]}]}))
    assert messages(JOB, policy) == [
        'spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "nope": must be '
        'one of the container or initContainer names in the pod template',
        "spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 "
        "for the In operator",
        "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [0,3,2]: must be ordered",
        'spec.podFailurePolicy.rules[1].action: Unsupported value: "Retry": supported values: '
        '"Count", "FailIndex", "FailJob", "Ignore"',
        "spec.podFailurePolicy.rules[1]: Invalid value: null: specifying both OnExitCodes and "
        "OnPodConditions is not supported"]


def test_job_spec_is_mostly_immutable() -> None:
    old = created(job(completions=2, parallelism=2))
    new = copy.deepcopy(old)
    new["spec"]["completions"] = 3
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx"
    new["spec"]["parallelism"] = 5                      # parallelism may change
    errs = [str(e) for e in validate_update(JOB, new, old)]
    assert [e.split(":")[0] for e in errs] == ["spec.completions", "spec.template"]
    assert all(e.endswith("field is immutable") for e in errs)


def cronjob(schedule: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {
        "restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}}}}
    body.update(spec)
    return {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "tick", "namespace": "default"}, "spec": body}


def test_cronjob_defaults_and_schedule_validation() -> None:
    out = created(cronjob("@hourly"))
    spec = out["spec"]
    assert (spec["concurrencyPolicy"], spec["suspend"], spec["successfulJobsHistoryLimit"],
            spec["failedJobsHistoryLimit"]) == ("Allow", False, 3, 1)
    assert messages(CRONJOB, out) == []
    assert messages(CRONJOB, created(cronjob("*/1 * * *"))) == [
        'spec.schedule: Invalid value: "*/1 * * *": expected exactly 5 fields, found 4: [*/1 * * *]']
    assert messages(CRONJOB, created(cronjob("CRON_TZ=UTC 0 * * * *"))) == [
        'spec.schedule: Invalid value: "CRON_TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in '
        'schedule, use timeZone field instead']
    assert messages(CRONJOB, created(cronjob("0 * * * *", timeZone="Mars/Olympus"))) == [
        'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']
    assert messages(CRONJOB, created(cronjob("0 * * * *", timeZone="Europe/Berlin",
                                             concurrencyPolicy="Sometimes"))) == [
        'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", '
        '"Forbid", "Replace"']
    selector = created(cronjob("0 * * * *"))
    selector["spec"]["jobTemplate"]["spec"]["selector"] = {"matchLabels": {"a": "b"}}
    assert messages(CRONJOB, selector) == [
        'spec.jobTemplate.spec.selector: Invalid value: {"matchLabels":{"a":"b"}}: `selector` '
        'will be auto-generated']
    long_name = created(cronjob("0 * * * *"))
    long_name["metadata"]["name"] = "x" * 53
    assert messages(CRONJOB, long_name) == [
        f'metadata.name: Invalid value: "{"x" * 53}": must be no more than 52 characters']


def test_a_stored_tz_schedule_stays_allowed_on_update() -> None:
    strategy = for_resource(CRONJOB)
    old = created(cronjob("0 * * * *"))
    old["spec"]["schedule"] = "CRON_TZ=Asia/Tokyo 0 9 * * *"   # stored before TZ was refused
    new = copy.deepcopy(old)
    new["spec"]["suspend"] = True
    assert strategy.validate_update(new, old) == []
    new["spec"]["timeZone"] = "Asia/Tokyo"
    assert [str(e) for e in strategy.validate_update(new, old)] == [
        'spec.schedule: Invalid value: "CRON_TZ=Asia/Tokyo 0 9 * * *": cannot use both timeZone '
        'field and TZ or CRON_TZ in schedule']


def test_replication_controller_defaults_and_validation() -> None:
    rc = {"apiVersion": "v1", "kind": "ReplicationController",
          "metadata": {"name": "web", "namespace": "default"},
          "spec": {"template": {"metadata": {"labels": {"app": "web"}},
                                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    out = created(rc)
    assert out["spec"]["selector"] == {"app": "web"} and out["spec"]["replicas"] == 1
    assert out["metadata"]["labels"] == {"app": "web"} and out["status"] == {"replicas": 0}
    assert messages(RC, out) == []
    out["spec"]["selector"] = {"app": "other"}
    out["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert messages(RC, out) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` '
        'does not match template `labels`',
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']


def test_job_and_rc_deletes_orphan_by_default() -> None:
    assert for_resource(JOB).default_propagation_policy == "Orphan"
    assert for_resource(RC).default_propagation_policy == "Orphan"
    assert for_resource(CRONJOB).default_propagation_policy is None
