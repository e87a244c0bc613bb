"""Pure taint and toleration rules used by node lifecycle: which condition taints a node
should carry, how tolerations match taints, and when a NoExecute taint evicts a pod.

Follows Kubernetes' `v1helper.TolerationsTolerateTaint`, the node lifecycle controller's
condition-to-taint mapping and the taint manager's `getMinTolerationTime`. No I/O.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from api.meta import now_rfc3339, parse_rfc3339
from api.models.core import Taint, Toleration

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
NO_EXECUTE, NO_SCHEDULE = "NoExecute", "NoSchedule"
CONDITION_TAINT_KEYS = frozenset({NOT_READY, UNREACHABLE})
TaintId = tuple[str, str]          # (key, effect)


def condition_taints(ready_status: str | None) -> set[TaintId]:
    """The taints a node's Ready condition calls for: False -> not-ready, Unknown ->
    unreachable (each NoExecute and NoSchedule), True or none yet -> nothing."""
    if ready_status == "False":
        return {(NOT_READY, NO_EXECUTE), (NOT_READY, NO_SCHEDULE)}
    if ready_status == "Unknown":
        return {(UNREACHABLE, NO_EXECUTE), (UNREACHABLE, NO_SCHEDULE)}
    return set()


def reconcile_taints(current: Sequence[Taint], want: set[TaintId],
                     now: datetime | None = None) -> list[Taint] | None:
    """`current` with the condition taints made equal to `want` (others untouched), or
    None when nothing changes. New NoExecute taints get timeAdded."""
    have = {(t.key, t.effect) for t in current if t.key in CONDITION_TAINT_KEYS}
    if have == want:
        return None
    kept = [t for t in current
            if t.key not in CONDITION_TAINT_KEYS or (t.key, t.effect) in want]
    stamp = now_rfc3339(now)
    for key, effect in sorted(want - have):
        kept.append(Taint(key=key, effect=effect,
                          time_added=stamp if effect == NO_EXECUTE else None))
    return kept


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    """Kubernetes' Toleration.ToleratesTaint."""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    op = toleration.operator or "Equal"
    if toleration.key:
        if toleration.key != taint.key:
            return False
    elif op != "Exists":
        return False
    if op == "Exists":
        return True
    return (toleration.value or "") == (taint.value or "")


def matching_tolerations(taints: Iterable[Taint], tolerations: Sequence[Toleration],
                         ) -> tuple[bool, list[Toleration]]:
    """(every taint tolerated?, the first toleration matching each taint)."""
    used: list[Toleration] = []
    for taint in taints:
        match = next((t for t in tolerations if tolerates(t, taint)), None)
        if match is None:
            return False, []
        used.append(match)
    return True, used


def min_toleration_seconds(used: Sequence[Toleration]) -> float | None:
    """How long the pod may stay: 0 for no toleration, None for forever."""
    if not used:
        return 0
    least: float | None = None
    for t in used:
        if t.toleration_seconds is None:
            continue
        if t.toleration_seconds <= 0:
            return 0
        least = t.toleration_seconds if least is None else min(least, t.toleration_seconds)
    return least


def eviction_time(taints: Sequence[Taint], tolerations: Sequence[Toleration],
                  noticed: datetime, cap_seconds: float | None = None) -> datetime | None:
    """When a pod on a node with these taints must go: None = never, else a moment
    (possibly in the past). Only NoExecute taints count. The clock starts at the latest
    timeAdded of those taints (or `noticed` when they carry none); `cap_seconds` caps
    finite toleration times (the controller's --pod-eviction-timeout)."""
    no_exec = [t for t in taints if t.effect == NO_EXECUTE]
    if not no_exec:
        return None
    ok, used = matching_tolerations(no_exec, tolerations)
    if not ok:
        return min(noticed, _start(no_exec, noticed))      # not tolerated: at once
    seconds = min_toleration_seconds(used)
    if seconds is None:
        return None
    if cap_seconds is not None:
        seconds = min(seconds, cap_seconds)
    return _start(no_exec, noticed) + timedelta(seconds=seconds)


def _start(taints: Sequence[Taint], noticed: datetime) -> datetime:
    added = [parse_rfc3339(t.time_added) for t in taints if t.time_added]
    return max(added) if added else noticed
