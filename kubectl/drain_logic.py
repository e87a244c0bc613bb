"""The pure rules of `drain`: which pods of a node are evicted, which block the drain and
which are left (kubectl's pkg/drain filters), with kubectl's messages.

- a DaemonSet's pod: an error ("DaemonSet-managed Pods (use --ignore-daemonsets to
  ignore)"), or with --ignore-daemonsets left in place with a warning;
- a mirror (static) pod: left silently;
- a running pod with an emptyDir: an error unless --delete-emptydir-data (then a warning);
- a pod without a controller: an error unless --force (then a warning);
- a pod already deleted long ago (--skip-wait-for-delete-timeout): skipped.
`errors` groups pods by message (`cannot delete <msg>: ns/a, ns/b`); `warnings` joins them
with `; `. No I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

Obj = dict[str, Any]
DAEMONSET_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
DAEMONSET_WARNING = "ignoring DaemonSet-managed Pods"
LOCAL_STORAGE_FATAL = "Pods with local storage (use --delete-emptydir-data to override)"
LOCAL_STORAGE_WARNING = "deleting Pods with local storage"
UNMANAGED_FATAL = "Pods declare no controller (use --force to override)"
UNMANAGED_WARNING = "deleting Pods that declare no controller"
MIRROR = "kubernetes.io/config.mirror"


@dataclass
class DrainOptions:
    ignore_daemonsets: bool = False
    delete_emptydir_data: bool = False
    force: bool = False
    skip_wait_for_delete_timeout: int = 0


@dataclass
class PodList:
    delete: list[Obj] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)

    def error_texts(self) -> list[str]:
        return [f"cannot delete {msg}: {', '.join(pods)}" for msg, pods in self.errors.items()]

    def warning_text(self) -> str:
        return "; ".join(f"{msg}: {', '.join(pods)}" for msg, pods in self.warnings.items())


def _ref(pod: Obj) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


def _controller(pod: Obj) -> Obj | None:
    return next((r for r in (pod.get("metadata") or {}).get("ownerReferences") or [] if r.get("controller")), None)


def _terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def pods_for_deletion(pods: list[Obj], opts: DrainOptions, now: datetime) -> PodList:
    """GetPodsForDeletion over the node's pods."""
    out = PodList()

    def warn(msg: str, pod: Obj) -> None:
        out.warnings.setdefault(msg, []).append(_ref(pod))

    def fail(msg: str, pod: Obj) -> None:
        out.errors.setdefault(msg, []).append(_ref(pod))
    for pod in pods:
        meta = pod.get("metadata") or {}
        deleted = meta.get("deletionTimestamp")
        if deleted and opts.skip_wait_for_delete_timeout > 0:
            since = datetime.fromisoformat(str(deleted).replace("Z", "+00:00"))
            if now - since > timedelta(seconds=opts.skip_wait_for_delete_timeout):
                continue
        ctrl = _controller(pod)
        if ctrl is not None and ctrl.get("kind") == "DaemonSet":
            if opts.ignore_daemonsets:
                warn(DAEMONSET_WARNING, pod)
            else:
                fail(DAEMONSET_FATAL, pod)
            continue
        if MIRROR in (meta.get("annotations") or {}):
            continue
        if not _terminal(pod) and any(v.get("emptyDir") is not None
                                      for v in (pod.get("spec") or {}).get("volumes") or []):
            if not opts.delete_emptydir_data:
                fail(LOCAL_STORAGE_FATAL, pod)
                continue
            warn(LOCAL_STORAGE_WARNING, pod)
        if ctrl is None and not _terminal(pod):
            if not opts.force:
                fail(UNMANAGED_FATAL, pod)
                continue
            warn(UNMANAGED_WARNING, pod)
        out.delete.append(pod)
    return out


def eviction(pod: Obj, grace_period: int) -> Obj:
    """The policy/v1 Eviction kubectl posts (gracePeriodSeconds only when >= 0)."""
    meta = pod.get("metadata") or {}
    body: Obj = {"apiVersion": "policy/v1", "kind": "Eviction",
                 "metadata": {"name": meta.get("name"), "namespace": meta.get("namespace")}}
    if grace_period >= 0:
        body["deleteOptions"] = {"gracePeriodSeconds": grace_period}
    return body


def aggregate(errors: list[str]) -> str:
    """utilerrors.NewAggregate's text: one error as itself, several as `[a, b]`."""
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
