"""The Job controller's pure parts: completion index intervals, pending indexes, the pod
failure and success policies, and the exponential failure backoff."""
from __future__ import annotations

from datetime import timedelta

from api.models.batch import PodFailurePolicy, SuccessPolicy
from controllers import job_logic as logic
from controllers.job_indexes import Intervals, duplicated_index_pods, first_pending_indexes
from controllers.job_policies import (BackoffRecord, match_pod_failure_policy, match_success_policy,
                                      new_backoff_record, remaining_backoff)
from tests.support.batch_objects import T0, make_job, make_job_pod


def test_intervals_parse_merge_and_print_as_kubernetes() -> None:
    assert str(Intervals.parse("1,3-5,7", 10)) == "1,3-5,7"
    assert str(Intervals().with_indexes([0, 1, 2, 4, 5, 9])) == "0-2,4,5,9"
    assert str(Intervals.parse("0-3,x,8-12", 10)) == "0-3,8,9"      # bad and out of range dropped
    merged = Intervals.parse("1,5", 10).with_indexes([2, 3, 4])
    assert str(merged) == "1-5" and merged.total() == 5 and 3 in merged and 6 not in merged


def test_first_pending_indexes_skip_succeeded_and_active() -> None:
    job = make_job("idx", completions=6, indexed=True)
    active = [make_job_pod(job, "a", index=1), make_job_pod(job, "b", index=3)]
    assert first_pending_indexes(Intervals.parse("0,2", 6), active, 2, 6) == [4, 5]
    assert first_pending_indexes(Intervals(), active, 3, 6) == [0, 2, 4]
    assert first_pending_indexes(Intervals.parse("0-5", 6), [], 3, 6) == []


def test_duplicate_and_out_of_range_indexes_are_removed_first() -> None:
    job = make_job("idx", completions=2, indexed=True)
    keep = make_job_pod(job, "keep", index=0, ready=True)
    dup = make_job_pod(job, "dup", index=0, ready=False)
    far = make_job_pod(job, "far", index=7)
    remove, kept = duplicated_index_pods([keep, dup, far], 2, lambda ps: sorted(
        ps, key=lambda p: p.status.conditions[0].status))            # not-ready first
    assert [p.name for p in remove] == ["far", "dup"] and [p.name for p in kept] == ["keep"]


def test_pod_failure_policy_rules_in_order() -> None:
    job = make_job()
    policy = PodFailurePolicy.from_dict({"rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        {"action": "FailJob", "onExitCodes": {"containerName": "c", "operator": "NotIn",
                                              "values": [1, 2]}},
        {"action": "Count", "onExitCodes": {"operator": "In", "values": [2]}}]})
    disrupted = make_job_pod(job, "d", "Failed", exit_code=3, conditions=[
        {"type": "DisruptionTarget", "status": "True"}])
    m = match_pod_failure_policy(policy, disrupted)
    assert (m.count, m.action, m.fail_message) == (False, "Ignore", None)
    m = match_pod_failure_policy(policy, make_job_pod(job, "x", "Failed", exit_code=5))
    assert m.fail_message == "Container c for pod default/x failed with exit code 5 matching " \
                             "FailJob rule at index 1"
    m = match_pod_failure_policy(policy, make_job_pod(job, "y", "Failed", exit_code=2))
    assert (m.count, m.action) == (True, "Count")
    m = match_pod_failure_policy(policy, make_job_pod(job, "z", "Failed", exit_code=1))
    assert (m.count, m.action, m.fail_message) == (True, None, None)   # no rule: default


def test_success_policy_indexes_and_counts() -> None:
    policy = SuccessPolicy.from_dict({"rules": [{"succeededIndexes": "0-2", "succeededCount": 2},
                                                {"succeededCount": 4}]})
    assert match_success_policy(policy, 10, Intervals.parse("5", 10)) is None
    assert match_success_policy(policy, 10, Intervals.parse("0,2", 10)) == "Matched rules at index 0"
    assert match_success_policy(policy, 10, Intervals.parse("0,5-7", 10)) == "Matched rules at index 1"


def test_backoff_doubles_from_the_last_failure_and_resets_on_success() -> None:
    job = make_job()
    failures = [make_job_pod(job, f"f{i}", "Failed", finished=T0 + timedelta(seconds=i))
                for i in range(3)]
    record = new_backoff_record(BackoffRecord(), [], failures[:1])
    assert record == BackoffRecord(1, T0)
    assert remaining_backoff(record, T0 + timedelta(seconds=4)) == 6.0
    record = new_backoff_record(record, [], failures[1:])
    assert record.failures_after_last_success == 3
    assert remaining_backoff(record, T0 + timedelta(seconds=2)) == 40.0          # 10 * 2^2
    assert remaining_backoff(BackoffRecord(12, T0), T0) == 360.0                # capped
    success = make_job_pod(job, "ok", "Succeeded", finished=T0 + timedelta(seconds=1))
    assert new_backoff_record(record, [success], failures) == BackoffRecord(1, T0 + timedelta(seconds=2))
    assert remaining_backoff(new_backoff_record(record, [success], []), T0) == 0.0


def test_completion_and_failure_predicates() -> None:
    job = make_job(completions=None, parallelism=3)
    assert logic.is_complete(job, succeeded=1, active=0)          # any success, nothing running
    assert not logic.is_complete(job, succeeded=1, active=1)
    assert logic.is_complete(make_job(completions=2), succeeded=2, active=0)
    deleting = make_job_pod(job, "d", deleting=True)
    assert logic.is_pod_failed(deleting, job)
    assert not logic.is_pod_failed(deleting, make_job(replacement="Failed"))
