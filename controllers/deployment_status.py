"""A Deployment's status and conditions, computed purely (Kubernetes' sync.go/progress.go).

Owns `calculate_status` (replica counts from the ReplicaSets' statuses, observedGeneration,
the Available condition), `rollout_status` (plus the Progressing condition:
ReplicaSetUpdated while progress is made, NewReplicaSetAvailable when complete,
ProgressDeadlineExceeded after progressDeadlineSeconds without progress; ReplicaFailure
copied from the ReplicaSets), the paused/resumed conditions, `with_progressing` for the
new-ReplicaSet reasons, `stuck_requeue_after` (when to check the deadline again) and
`status_equal` (write only when something changed).

Condition rules as Kubernetes' SetDeploymentCondition: a condition with the same status
and reason is left alone; lastTransitionTime moves only when the status changes.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from api.meta import now_rfc3339, parse_rfc3339
from api.models import Deployment, ReplicaSet
from api.models.apps import DeploymentCondition, DeploymentStatus
from controllers import deployment_util as util

AVAILABLE, PROGRESSING, REPLICA_FAILURE = "Available", "Progressing", "ReplicaFailure"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
FAILED_RS_CREATE = "ReplicaSetCreateError"
PAUSED, RESUMED = "DeploymentPaused", "DeploymentResumed"
_MAX_INT32 = 2**31 - 1


# ---------------------------------------------------------------- conditions
def new_condition(type_: str, status: str, reason: str, message: str,
                  now: datetime | None = None) -> DeploymentCondition:
    t = now_rfc3339(now)
    return DeploymentCondition(type=type_, status=status, reason=reason, message=message,
                               last_update_time=t, last_transition_time=t)


def get_condition(status: DeploymentStatus | None, type_: str) -> DeploymentCondition | None:
    for c in (status.conditions if status else None) or []:
        if c.type == type_:
            return c
    return None


def set_condition(status: DeploymentStatus, cond: DeploymentCondition) -> None:
    """Put `cond` into `status` (a private copy) unless one with the same status and
    reason is there; keep lastTransitionTime while the status is unchanged."""
    current = get_condition(status, cond.type)
    if current is not None and current.status == cond.status and \
            current.reason == cond.reason:
        return
    if current is not None and current.status == cond.status:
        cond = cond.model_copy(update={"last_transition_time": current.last_transition_time})
    remove_condition(status, cond.type)
    status.conditions = [*(status.conditions or []), cond]


def remove_condition(status: DeploymentStatus, type_: str) -> None:
    kept = [c for c in status.conditions or [] if c.type != type_]
    status.conditions = kept or None


def has_progress_deadline(d: Deployment) -> bool:
    pds = d.spec.progress_deadline_seconds if d.spec else None
    return pds is not None and pds != _MAX_INT32


def _copy_status(d: Deployment) -> DeploymentStatus:
    return d.status.model_copy(deep=True) if d.status else DeploymentStatus()


# ---------------------------------------------------------------- status
def calculate_status(all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None,
                     d: Deployment, now: datetime | None = None) -> DeploymentStatus:
    """Counts from the ReplicaSets plus the Available condition (calculateStatus)."""
    rss = [rs for rs in all_rss if rs is not None]
    available = util.sum_status(rss, "available_replicas")
    old = _copy_status(d)
    status = DeploymentStatus(
        observed_generation=d.metadata.generation,
        replicas=util.sum_status(rss, "replicas"),
        updated_replicas=util.sum_status([new_rs], "replicas"),
        ready_replicas=util.sum_status(rss, "ready_replicas"),
        available_replicas=available,
        unavailable_replicas=max(util.sum_spec(rss) - available, 0),
        conditions=old.conditions, collision_count=old.collision_count)
    if available >= util.spec_replicas(d) - util.max_unavailable(d):
        set_condition(status, new_condition(AVAILABLE, "True", MIN_AVAILABLE,
                                            "Deployment has minimum availability.", now))
    else:
        set_condition(status, new_condition(AVAILABLE, "False", MIN_UNAVAILABLE,
                                            "Deployment does not have minimum availability.",
                                            now))
    return status


def deployment_complete(d: Deployment, status: DeploymentStatus | None) -> bool:
    want = util.spec_replicas(d)
    s = status or DeploymentStatus()
    return ((s.updated_replicas or 0) == want and (s.replicas or 0) == want and
            (s.available_replicas or 0) == want and
            (s.observed_generation or 0) >= (d.metadata.generation or 0))


def deployment_progressing(d: Deployment, status: DeploymentStatus) -> bool:
    """More updated, fewer old, more ready or more available replicas than last time."""
    old = d.status or DeploymentStatus()
    old_old = (old.replicas or 0) - (old.updated_replicas or 0)
    new_old = (status.replicas or 0) - (status.updated_replicas or 0)
    return ((status.updated_replicas or 0) > (old.updated_replicas or 0) or new_old < old_old
            or (status.ready_replicas or 0) > (old.ready_replicas or 0)
            or (status.available_replicas or 0) > (old.available_replicas or 0))


def deployment_timed_out(d: Deployment, status: DeploymentStatus,
                         now: datetime | None = None) -> bool:
    if not has_progress_deadline(d):
        return False
    cond = get_condition(status, PROGRESSING)
    if cond is None or cond.reason == NEW_RS_AVAILABLE:
        return False
    if cond.reason == TIMED_OUT:
        return True
    if not cond.last_update_time:
        return False
    deadline = parse_rfc3339(cond.last_update_time) + \
        timedelta(seconds=d.spec.progress_deadline_seconds or 0)  # type: ignore[union-attr]
    return deadline < _now(now)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else parse_rfc3339(now_rfc3339())


def rollout_status(all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None,
                   d: Deployment, now: datetime | None = None) -> DeploymentStatus:
    """calculate_status plus the Progressing and ReplicaFailure conditions
    (syncRolloutStatus)."""
    status = calculate_status(all_rss, new_rs, d, now)
    if not has_progress_deadline(d):
        remove_condition(status, PROGRESSING)
    current = get_condition(d.status, PROGRESSING)
    complete_before = (status.replicas == status.updated_replicas and current is not None
                       and current.reason == NEW_RS_AVAILABLE)
    if has_progress_deadline(d) and not complete_before:
        subject = f'ReplicaSet "{new_rs.name}"' if new_rs is not None else \
            f'Deployment "{d.name}"'
        if deployment_complete(d, status):
            set_condition(status, new_condition(
                PROGRESSING, "True", NEW_RS_AVAILABLE, f"{subject} has successfully progressed.",
                now))
        elif deployment_progressing(d, status):
            cond = new_condition(PROGRESSING, "True", RS_UPDATED, f"{subject} is progressing.",
                                 now)
            if current is not None:
                if current.status == "True":
                    cond.last_transition_time = current.last_transition_time
                remove_condition(status, PROGRESSING)
            set_condition(status, cond)
        elif deployment_timed_out(d, status, now):
            set_condition(status, new_condition(
                PROGRESSING, "False", TIMED_OUT, f"{subject} has timed out progressing.", now))
    failures = _replica_failures(all_rss, new_rs)
    if failures:
        set_condition(status, failures[0])
    else:
        remove_condition(status, REPLICA_FAILURE)
    return status


def _replica_failures(all_rss: Sequence[ReplicaSet | None],
                      new_rs: ReplicaSet | None) -> list[DeploymentCondition]:
    """ReplicaFailure conditions of the new ReplicaSet, else of any ReplicaSet."""
    def of(rs: ReplicaSet | None) -> list[DeploymentCondition]:
        conds = (rs.status.conditions if rs is not None and rs.status else None) or []
        return [DeploymentCondition(type=c.type, status=c.status, reason=c.reason,
                                    message=c.message, last_update_time=c.last_transition_time,
                                    last_transition_time=c.last_transition_time)
                for c in conds if c.type == REPLICA_FAILURE]
    return of(new_rs) or [c for rs in all_rss for c in of(rs)]


def stuck_requeue_after(d: Deployment, status: DeploymentStatus,
                        now: datetime | None = None) -> float | None:
    """Seconds until the progress deadline should be checked (requeueStuckDeployment)."""
    cond = get_condition(status, PROGRESSING)
    if not has_progress_deadline(d) or cond is None or cond.reason == TIMED_OUT:
        return None
    if deployment_complete(d, status) or not cond.last_update_time:
        return None
    deadline = parse_rfc3339(cond.last_update_time) + \
        timedelta(seconds=d.spec.progress_deadline_seconds or 0)  # type: ignore[union-attr]
    after = (deadline - _now(now)).total_seconds()
    return 0.0 if after < 1 else after


# ---------------------------------------------------------------- one-off conditions
def paused_status(d: Deployment, now: datetime | None = None) -> DeploymentStatus | None:
    """The status with DeploymentPaused / DeploymentResumed set, or None if unchanged
    (checkPausedConditions)."""
    if not has_progress_deadline(d):
        return None
    cond = get_condition(d.status, PROGRESSING)
    if cond is not None and cond.reason == TIMED_OUT:
        return None
    paused = bool(d.spec and d.spec.paused)
    status = _copy_status(d)
    if paused and (cond is None or cond.reason != PAUSED):
        set_condition(status, new_condition(PROGRESSING, "Unknown", PAUSED,
                                            "Deployment is paused", now))
    elif not paused and cond is not None and cond.reason == PAUSED:
        set_condition(status, new_condition(PROGRESSING, "Unknown", RESUMED,
                                            "Deployment is resumed", now))
    else:
        return None
    return status


def with_progressing(d: Deployment, status_value: str, reason: str, message: str,
                     now: datetime | None = None) -> DeploymentStatus:
    """A copy of the status with one Progressing condition set (new-RS reasons)."""
    status = _copy_status(d)
    set_condition(status, new_condition(PROGRESSING, status_value, reason, message, now))
    return status


def status_equal(a: DeploymentStatus | None, b: DeploymentStatus | None) -> bool:
    """Equal as stored (zero counts and missing counts are the same)."""
    return _norm(a) == _norm(b)


def _norm(s: DeploymentStatus | None) -> dict[str, object]:
    data = s.to_dict() if s is not None else {}
    return {k: v for k, v in data.items() if v not in (0, None, [])}
