"""The pure rules of `rollout status|history|undo` for DaemonSets and StatefulSets.

Owns kubectl's DaemonSetStatusViewer and StatefulSetStatusViewer wording, the history read
from the ControllerRevisions a set controls (revision number, `kubernetes.io/change-cause`
annotation), the revision `undo` restores (`--to-revision`, or the one before the latest),
and what it patches: the revision's data, a strategic merge patch replacing the pod
template. No I/O.
"""
from __future__ import annotations

import copy
from typing import Any

from kubectl.errors import CmdError

Obj = dict[str, Any]
CHANGE_CAUSE = "kubernetes.io/change-cause"


def _int(value: Any) -> int:
    return int(value or 0)


def daemon_set_status(ds: Obj) -> tuple[str, bool]:
    meta, spec, st = ds.get("metadata") or {}, ds.get("spec") or {}, ds.get("status") or {}
    name = meta.get("name", "")
    if ((spec.get("updateStrategy") or {}).get("type")) != "RollingUpdate":
        raise CmdError("rollout status is only available for RollingUpdate strategy type")
    if _int(meta.get("generation")) <= _int(st.get("observedGeneration")):
        updated, desired = _int(st.get("updatedNumberScheduled")), _int(st.get("desiredNumberScheduled"))
        available = _int(st.get("numberAvailable"))
        if updated < desired:
            return (f'Waiting for daemon set "{name}" rollout to finish: {updated} out of {desired} '
                    "new pods have been updated...\n"), False
        if available < desired:
            return (f'Waiting for daemon set "{name}" rollout to finish: {available} of {desired} '
                    "updated pods are available...\n"), False
        return f'daemon set "{name}" successfully rolled out\n', True
    return "Waiting for daemon set spec update to be observed...\n", False


def stateful_set_status(sts: Obj) -> tuple[str, bool]:
    meta, spec, st = sts.get("metadata") or {}, sts.get("spec") or {}, sts.get("status") or {}
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type") != "RollingUpdate":
        raise CmdError("rollout status is only available for RollingUpdate strategy type")
    observed = _int(st.get("observedGeneration"))
    if observed == 0 or _int(meta.get("generation")) > observed:
        return "Waiting for statefulset spec update to be observed...\n", False
    replicas = spec.get("replicas")
    ready, updated = _int(st.get("readyReplicas")), _int(st.get("updatedReplicas"))
    if replicas is not None and ready < replicas:
        return f"Waiting for {replicas - ready} pods to be ready...\n", False
    rolling = strategy.get("rollingUpdate")
    if rolling is not None:
        partition = rolling.get("partition")
        if replicas is not None and partition is not None and updated < replicas - partition:
            return (f"Waiting for partitioned roll out to finish: {updated} out of {replicas - partition} "
                    "new pods have been updated...\n"), False
        return f"partitioned roll out complete: {updated} new pods have been updated...\n", True
    if st.get("updateRevision") != st.get("currentRevision"):
        return (f"waiting for statefulset rolling update to complete {updated} pods at revision "
                f"{st.get('updateRevision')}...\n"), False
    return (f"statefulset rolling update complete {_int(st.get('currentReplicas'))} pods at revision "
            f"{st.get('currentRevision')}...\n"), True


def controlled(owner: Obj, revisions: list[Obj]) -> list[Obj]:
    uid = (owner.get("metadata") or {}).get("uid")
    return [r for r in revisions
            if any(o.get("controller") and o.get("uid") == uid
                   for o in (r.get("metadata") or {}).get("ownerReferences") or [])]


def template_of(revision: Obj) -> Obj:
    """The pod template a revision holds (its data without the `$patch` directive)."""
    template = copy.deepcopy(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


def history(revisions: list[Obj]) -> dict[int, Obj]:
    """revision -> template, with the revision's change-cause in the template's annotations."""
    out: dict[int, Obj] = {}
    for r in revisions:
        tpl = template_of(r)
        cause = ((r.get("metadata") or {}).get("annotations") or {}).get(CHANGE_CAUSE)
        if cause:
            tpl.setdefault("metadata", {}).setdefault("annotations", {})[CHANGE_CAUSE] = cause
        out[_int(r.get("revision"))] = tpl
    return out


def find_revision(revisions: list[Obj], to_revision: int) -> Obj:
    """findHistory: the given revision, or (0) the one before the latest."""
    if to_revision < 0:
        raise CmdError(f"unable to find specified revision {to_revision} in history")
    ordered = sorted(revisions, key=lambda r: _int(r.get("revision")))
    if to_revision == 0:
        if len(ordered) <= 1:
            raise CmdError("no last revision to roll back to")
        return ordered[-2]
    for r in ordered:
        if _int(r.get("revision")) == to_revision:
            return r
    raise CmdError(f"unable to find specified revision {to_revision} in history")


def matches(owner: Obj, revision: Obj) -> bool:
    return template_of(revision) == ((owner.get("spec") or {}).get("template") or {})


def undo_patch(revision: Obj) -> Obj:
    """What `undo` sends: the revision's data, a strategic merge patch."""
    return copy.deepcopy(revision.get("data") or {})
