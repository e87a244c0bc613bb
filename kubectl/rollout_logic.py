"""The pure rules behind `rollout`: status messages, history, and the undo patch.

Owns kubectl's DeploymentStatusViewer wording (`Waiting for deployment "x" rollout to
finish: 1 of 2 updated replicas are available...`), the revision history read from the
ReplicaSets a Deployment controls (`deployment.kubernetes.io/revision`,
`kubernetes.io/change-cause`), choosing the ReplicaSet to roll back to, and the JSON
patch that puts its template (and annotations) back on the Deployment. No I/O.
"""
from __future__ import annotations

import copy
from typing import Any

from kubectl import describe_util as du
from kubectl.describers import revision, template_equal_ignoring_hash
from kubectl.errors import CmdError
from kubectl.tabwriter import TabWriter

Obj = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
HASH_LABEL = "pod-template-hash"
SKIP_ANNOTATIONS = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration", REVISION,
    "deployment.kubernetes.io/revision-history", "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas", "deprecated.deployment.rollback.to"})


def deployment_status(d: Obj) -> tuple[str, bool]:
    """(the message to print, done?) — raises CmdError past the progress deadline."""
    meta, spec, st = d.get("metadata") or {}, d.get("spec") or {}, d.get("status") or {}
    name = meta.get("name", "")
    if int(meta.get("generation") or 0) <= int(st.get("observedGeneration") or 0):
        for c in st.get("conditions") or []:
            if c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded":
                raise CmdError(f'deployment "{name}" exceeded its progress deadline')
        replicas = spec.get("replicas")
        updated = int(st.get("updatedReplicas") or 0)
        total = int(st.get("replicas") or 0)
        available = int(st.get("availableReplicas") or 0)
        if replicas is not None and updated < replicas:
            return (f'Waiting for deployment "{name}" rollout to finish: {updated} out of {replicas} '
                    "new replicas have been updated...\n"), False
        if total > updated:
            return (f'Waiting for deployment "{name}" rollout to finish: {total - updated} old '
                    "replicas are pending termination...\n"), False
        if available < updated:
            return (f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} '
                    "updated replicas are available...\n"), False
        return f'deployment "{name}" successfully rolled out\n', True
    return "Waiting for deployment spec update to be observed...\n", False


def controlled_by(d: Obj, replicasets: list[Obj]) -> list[Obj]:
    uid = (d.get("metadata") or {}).get("uid")
    return [rs for rs in replicasets
            if any(r.get("controller") and r.get("uid") == uid
                   for r in (rs.get("metadata") or {}).get("ownerReferences") or [])]


def history(replicasets: list[Obj]) -> dict[int, Obj]:
    """revision -> the ReplicaSet's pod template, with its change-cause in the template's
    annotations (as kubectl's history viewer keeps them)."""
    out: dict[int, Obj] = {}
    for rs in replicasets:
        v = revision(rs)
        if v < 0:
            continue
        tpl = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
        cause = ((rs.get("metadata") or {}).get("annotations") or {}).get(CHANGE_CAUSE)
        if cause:
            tpl.setdefault("metadata", {}).setdefault("annotations", {})[CHANGE_CAUSE] = cause
        out[v] = tpl
    return out


def history_text(hist: dict[int, Obj], want: int = 0) -> str:
    if not hist:
        return "No rollout history found."
    if want > 0:
        if want not in hist:
            raise CmdError("unable to find the specified revision")
        w = du.PrefixWriter(tabbed=False)
        du.pod_template(w, hist[want])
        return w.text()
    tw = TabWriter(padding=2)
    tw.write("REVISION\tCHANGE-CAUSE\n")
    for r in sorted(hist):
        cause = ((hist[r].get("metadata") or {}).get("annotations") or {}).get(CHANGE_CAUSE) or "<none>"
        tw.write(f"{r}\t{cause}\n")
    return tw.flush()


def rollback_target(d: Obj, replicasets: list[Obj], to_revision: int) -> Obj:
    """The ReplicaSet `undo` restores: `to_revision`, or (0) the one before the latest."""
    if to_revision < 0:
        raise CmdError(f"unable to find specified revision {to_revision} in history")
    latest: tuple[int, Obj | None] = (-1, None)
    previous: tuple[int, Obj | None] = (-1, None)
    for rs in replicasets:
        v = revision(rs)
        if v < 0:
            continue
        if to_revision == 0:
            if latest[0] < v:
                previous, latest = latest, (v, rs)
            elif previous[0] < v:
                previous = (v, rs)
        elif v == to_revision:
            return rs
    if to_revision > 0:
        raise CmdError(f"unable to find specified revision {to_revision} in history")
    if previous[1] is None:
        raise CmdError(f'no rollout history found for deployment "{(d.get("metadata") or {}).get("name")}"')
    return previous[1]


def undo_patch(d: Obj, rs: Obj) -> list[Obj] | None:
    """The JSON patch kubectl sends to restore `rs`'s template, or None when the
    Deployment already runs that template."""
    template = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
    if template_equal_ignoring_hash(template, (d.get("spec") or {}).get("template")):
        return None
    labels = (template.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    current = (d.get("metadata") or {}).get("annotations") or {}
    annotations = {k: v for k, v in current.items() if k in SKIP_ANNOTATIONS}
    for k, v in ((rs.get("metadata") or {}).get("annotations") or {}).items():
        if k not in SKIP_ANNOTATIONS:
            annotations[k] = v
    # "add" replaces an existing member and also works when the Deployment has no annotations
    op = "replace" if "annotations" in (d.get("metadata") or {}) else "add"
    return [{"op": "replace", "path": "/spec/template", "value": template},
            {"op": op, "path": "/metadata/annotations", "value": annotations}]
