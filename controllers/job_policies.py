"""What a Job's failed and succeeded pods mean (pkg/controller/job: pod_failure_policy.go,
success_policy.go, backoff_utils.go), as pure functions.

Owns:
- `match_pod_failure_policy(policy, pod)`: the first rule matching a failed pod's exit
  codes (non-zero, app and init containers) or conditions (e.g. `DisruptionTarget`), and
  what follows: a FailJob message, whether the failure counts toward backoffLimit, the
  action;
- `match_success_policy(policy, completions, succeeded)`: the Indexed Job's successPolicy;
- `BackoffRecord` / `new_backoff_record` / `remaining_backoff`: the exponential delay before
  replacing failed pods (10s doubling to 6 min in Kubernetes; both are parameters), kept
  per Job as failures since the last success and the time of the last failure.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from api.meta import get_condition, parse_rfc3339
from api.models import Pod
from api.models.batch import PodFailurePolicy, SuccessPolicy
from api.models.pod import ContainerStatus
from controllers.job_indexes import Intervals

DEFAULT_POD_FAILURE_BACKOFF = 10.0
MAX_POD_FAILURE_BACKOFF = 360.0


# ---------------------------------------------------------------- pod failure policy
@dataclass(frozen=True)
class PolicyMatch:
    """A failed pod under a podFailurePolicy: `fail_message` when it fails the Job,
    `count` whether it counts toward backoffLimit, `action` the matching rule's action."""

    fail_message: str | None = None
    count: bool = True
    action: str | None = None


def _matching_container(statuses: Sequence[ContainerStatus] | None, container: str | None,
                        operator: str, values: Sequence[int]) -> ContainerStatus | None:
    for cs in statuses or []:
        term = cs.state.terminated if cs.state else None
        if term is None or term.exit_code == 0:
            continue
        if container is not None and container != cs.name:
            continue
        if (operator == "In" and term.exit_code in values) or \
                (operator == "NotIn" and term.exit_code not in values):
            return cs
    return None


def match_pod_failure_policy(policy: PodFailurePolicy | None, pod: Pod) -> PolicyMatch:
    if policy is None:
        return PolicyMatch()
    st = pod.status
    for i, rule in enumerate(policy.rules):
        subject: str | None = None
        if rule.on_exit_codes is not None:
            req = rule.on_exit_codes
            cs = _matching_container(st.container_statuses if st else None, req.container_name,
                                     req.operator, req.values) or \
                _matching_container(st.init_container_statuses if st else None,
                                    req.container_name, req.operator, req.values)
            if cs is None:
                continue
            code = cs.state.terminated.exit_code  # type: ignore[union-attr]
            subject = (f"Container {cs.name} for pod {pod.namespace}/{pod.name} failed with "
                       f"exit code {code}")
        elif rule.on_pod_conditions:
            found = next((c for c in (st.conditions if st else None) or []
                          for pat in rule.on_pod_conditions
                          if c.type == pat.type and c.status == (pat.status or "True")), None)
            if found is None:
                continue
            subject = f"Pod {pod.namespace}/{pod.name} has condition {found.type}"
        else:
            continue
        if rule.action == "Ignore":
            return PolicyMatch(count=False, action="Ignore")
        if rule.action == "Count":
            return PolicyMatch(action="Count")
        if rule.action == "FailJob":
            return PolicyMatch(f"{subject} matching FailJob rule at index {i}", True, "FailJob")
    return PolicyMatch()


# ---------------------------------------------------------------- success policy
def match_success_policy(policy: SuccessPolicy | None, completions: int,
                         succeeded: Intervals) -> str | None:
    """`Matched rules at index N` for the first rule the succeeded indexes satisfy."""
    if policy is None or not succeeded.total():
        return None
    done = set(succeeded)
    for i, rule in enumerate(policy.rules):
        if rule.succeeded_indexes is not None:
            required = set(Intervals.parse(rule.succeeded_indexes, completions))
            if not required:
                continue
            contains = len(required & done)
            if contains == len(required) or (rule.succeeded_count is not None
                                             and contains >= rule.succeeded_count):
                return f"Matched rules at index {i}"
        elif rule.succeeded_count is not None and len(done) >= rule.succeeded_count:
            return f"Matched rules at index {i}"
    return None


# ---------------------------------------------------------------- backoff
@dataclass(frozen=True)
class BackoffRecord:
    failures_after_last_success: int = 0
    last_failure_time: datetime | None = None


def finish_time(pod: Pod) -> datetime | None:
    """When the pod finished: its containers' latest finishedAt, else its Ready condition's
    last transition, else its creation (getFinishedTime)."""
    latest: datetime | None = None
    for cs in (pod.status.container_statuses if pod.status else None) or []:
        term = cs.state.terminated if cs.state else None
        if term is not None and term.finished_at:
            t = parse_rfc3339(term.finished_at)
            latest = t if latest is None or t > latest else latest
    if latest is not None:
        return latest
    ready = get_condition(pod.status, "Ready")
    stamp = (ready.last_transition_time if ready is not None else None) or \
        pod.metadata.creation_timestamp
    return parse_rfc3339(stamp) if stamp else None


def new_backoff_record(old: BackoffRecord, new_succeeded: Sequence[Pod],
                       new_failed: Sequence[Pod]) -> BackoffRecord:
    """The record after these newly finished pods (newBackoffRecord)."""
    failed_times = sorted(t for t in map(finish_time, new_failed) if t is not None)
    if not new_succeeded:
        if not new_failed:
            return old
        return BackoffRecord(old.failures_after_last_success + len(new_failed),
                             failed_times[-1] if failed_times else old.last_failure_time)
    success_times = [t for t in map(finish_time, new_succeeded) if t is not None]
    last_success = max(success_times) if success_times else None
    after = [t for t in failed_times if last_success is None or t > last_success]
    return BackoffRecord(len(after), after[-1] if after else None)


def remaining_backoff(record: BackoffRecord, now: datetime,
                      base: float = DEFAULT_POD_FAILURE_BACKOFF,
                      cap: float = MAX_POD_FAILURE_BACKOFF) -> float:
    """Seconds to wait before creating replacement pods: base * 2^(failures-1), capped,
    counted from the last failure."""
    if record.failures_after_last_success == 0 or record.last_failure_time is None:
        return 0.0
    delay = base
    for _ in range(1, record.failures_after_last_success):
        delay *= 2
        if delay >= cap:
            delay = cap
            break
    elapsed = (now - record.last_failure_time).total_seconds()
    return max(0.0, delay - elapsed)


__all__ = [
    "BackoffRecord", "DEFAULT_POD_FAILURE_BACKOFF", "MAX_POD_FAILURE_BACKOFF", "PolicyMatch",
    "finish_time", "match_pod_failure_policy", "match_success_policy", "new_backoff_record",
    "remaining_backoff",
]
