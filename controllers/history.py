"""ControllerRevisions: the history DaemonSets and StatefulSets keep of their templates
(Kubernetes' pkg/controller/history and the DaemonSet controller's revision helpers).

Owns, as pure functions:
- `revision_data(obj)`: what a revision stores, a strategic merge patch that puts the pod
  template back (`{"spec": {"template": {..., "$patch": "replace"}}}`), which is also what
  `kubectl rollout undo` applies;
- `new_revision(owner, data, revision, hash, labels)`: the ControllerRevision object;
- `split_history`: which of an owner's revisions match its current template and which are
  old, the revision number the current one should carry, and duplicates to drop;
- `revisions_to_clean`: old revisions beyond revisionHistoryLimit that no live pod uses,
  oldest first.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from api.meta import new_controller_ref
from api.models.apps_sets import CONTROLLER_REVISION_HASH, ControllerRevision
from api.models.base import ObjectMeta


def revision_data(obj: Any) -> dict[str, Any]:
    """getPatch: the owner's pod template as a replacing strategic merge patch, shaped as
    Go's json.Marshal of a map gives it (keys sorted at every level), so kubectl's byte
    comparison of a revision with the live object (`rollout undo` skipping a rollback to the
    current template) holds here too."""
    template = copy.deepcopy(obj.spec.template.to_dict()) if obj.spec else {}
    template["$patch"] = "replace"
    return _sorted({"spec": {"template": template}})


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def matches(obj: Any, revision: ControllerRevision) -> bool:
    """Does `revision` hold `obj`'s current template?"""
    return (revision.data or {}) == revision_data(obj)


def new_revision(owner: Any, data: dict[str, Any], revision: int, hash_value: str,
                 name: str, hash_label: str | None = None) -> ControllerRevision:
    """A ControllerRevision owned by `owner`, labelled with the template's labels and
    `controller-revision-hash` (the short hash for DaemonSets, the name for StatefulSets)."""
    template = owner.spec.template if owner.spec else None
    labels = dict((template.metadata.labels if template is not None else None) or {})
    labels[CONTROLLER_REVISION_HASH] = hash_label if hash_label is not None else hash_value
    return ControllerRevision(
        metadata=ObjectMeta(name=name, namespace=owner.metadata.namespace, labels=labels,
                            annotations=dict(owner.metadata.annotations or {}) or None,
                            owner_references=[new_controller_ref(owner)]),
        data=data, revision=revision)


def max_revision(revisions: Iterable[ControllerRevision]) -> int:
    return max((r.revision for r in revisions), default=0)


@dataclass
class History:
    """The owner's revisions sorted out: `current` (None: none matches yet, create one at
    `next_revision`), `old`, `duplicates` of the current one to delete, and whether the
    current one's revision number must be raised to `next_revision`."""

    current: ControllerRevision | None
    old: list[ControllerRevision] = field(default_factory=list)
    duplicates: list[ControllerRevision] = field(default_factory=list)
    next_revision: int = 1

    @property
    def needs_renumber(self) -> bool:
        return self.current is not None and self.current.revision < self.next_revision


def split_history(owner: Any, revisions: Sequence[ControllerRevision]) -> History:
    """constructHistory's decisions: the matching revision with the highest number is kept
    (the others are duplicates); it must carry max(old) + 1."""
    current = [r for r in revisions if matches(owner, r)]
    old = [r for r in revisions if not matches(owner, r)]
    keep = max(current, key=lambda r: (r.revision, r.metadata.name or ""), default=None)
    dups = [r for r in current if r is not keep]
    return History(keep, old, dups, max_revision(old) + 1)


def revisions_to_clean(old: Sequence[ControllerRevision], limit: int,
                       live: set[str], by_name: bool = False) -> list[ControllerRevision]:
    """cleanupHistory / truncateHistory: delete the oldest old revisions beyond `limit`,
    skipping the live ones: those whose hash label (DaemonSets) or name (StatefulSets,
    `by_name`) a pod still carries."""
    to_kill = len(old) - limit
    out: list[ControllerRevision] = []
    for r in sorted(old, key=lambda r: r.revision):
        if to_kill <= 0:
            break
        ident = r.metadata.name if by_name else (r.metadata.labels or {}).get(CONTROLLER_REVISION_HASH)
        if ident in live:
            continue
        out.append(r)
        to_kill -= 1
    return out
