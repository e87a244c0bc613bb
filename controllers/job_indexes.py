"""Completion indexes of Indexed Jobs (Kubernetes' pkg/controller/job/indexed_job_utils.go).

Owns `Intervals` (an ordered list of closed index intervals, written `1,3-5,7` in
`status.completedIndexes`), reading a pod's completion index, the indexes a Job should
create pods for next (`first_pending_indexes`), which pods hold duplicate or out-of-range
indexes (`duplicated_index_pods`), and the pod template changes an Indexed Job makes
(`JOB_COMPLETION_INDEX` env var, the index annotation and label, hostname, name prefix).
Pure functions; inputs are never mutated.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from api.models import Pod
from api.models.batch import JOB_COMPLETION_INDEX, Job
from api.models.pod import EnvVar, EnvVarSource, ObjectFieldSelector, PodTemplateSpec

UNKNOWN_INDEX = -1
COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"
MAX_POD_NAME_PREFIX = 63 - 5      # generateName leaves room for 5 random characters


@dataclass(frozen=True)
class Intervals:
    """Sorted, non-overlapping, non-adjacent closed intervals of indexes."""

    parts: tuple[tuple[int, int], ...] = ()

    @classmethod
    def parse(cls, text: str | None, completions: int) -> Intervals:
        """`status.completedIndexes` as Kubernetes writes it; bad or out-of-range
        fragments are skipped, as parseIndexesFromString does."""
        indexes: list[int] = []
        for part in (text or "").split(","):
            if not part:
                continue
            lo_s, _, hi_s = part.partition("-")
            try:
                lo, hi = int(lo_s), int(hi_s or lo_s)
            except ValueError:
                continue
            indexes.extend(range(max(lo, 0), min(hi, completions - 1) + 1))
        return cls().with_indexes(indexes)

    def with_indexes(self, indexes: Iterable[int]) -> Intervals:
        """These intervals with `indexes` added."""
        every = set(self) | set(indexes)
        parts: list[tuple[int, int]] = []
        for ix in sorted(every):
            if parts and parts[-1][1] + 1 == ix:
                parts[-1] = (parts[-1][0], ix)
            else:
                parts.append((ix, ix))
        return Intervals(tuple(parts))

    def __iter__(self) -> Iterator[int]:
        for lo, hi in self.parts:
            yield from range(lo, hi + 1)

    def __contains__(self, ix: object) -> bool:
        return isinstance(ix, int) and any(lo <= ix <= hi for lo, hi in self.parts)

    def total(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.parts)

    def __str__(self) -> str:
        out: list[str] = []
        for lo, hi in self.parts:
            if hi == lo:
                out.append(str(lo))
            elif hi == lo + 1:
                out.extend((str(lo), str(hi)))
            else:
                out.append(f"{lo}-{hi}")
        return ",".join(out)


def completion_index(pod: Pod) -> int:
    """The pod's completion index (annotation, else label); UNKNOWN_INDEX when absent."""
    meta = pod.metadata
    value = (meta.annotations or {}).get(JOB_COMPLETION_INDEX)
    if value is None:
        value = (meta.labels or {}).get(JOB_COMPLETION_INDEX)
    if value is None or not value.isdigit():
        return UNKNOWN_INDEX
    return int(value)


def indexes_of(pods: Iterable[Pod]) -> set[int]:
    return {ix for ix in map(completion_index, pods) if ix != UNKNOWN_INDEX}


def first_pending_indexes(succeeded: Intervals, active: Sequence[Pod], count: int,
                          completions: int, terminating: Sequence[Pod] = ()) -> list[int]:
    """The lowest `count` indexes below `completions` with no success and no active (or,
    when only failed pods are replaced, terminating) pod."""
    taken = set(succeeded) | indexes_of(active) | indexes_of(terminating)
    out: list[int] = []
    candidate = 0
    while candidate < completions and len(out) < count:
        if candidate not in taken:
            out.append(candidate)
        candidate += 1
    return out


def duplicated_index_pods(pods: Sequence[Pod], completions: int,
                          order: Callable[[list[Pod]], list[Pod]]) -> tuple[list[Pod], list[Pod]]:
    """(to remove, to keep): pods without an index or out of range are removed; of pods
    sharing an index the one `order` puts last is kept (appendDuplicatedIndexPodsForRemoval)."""
    remove: list[Pod] = []
    keep: list[Pod] = []
    by_index: dict[int, list[Pod]] = {}
    for p in pods:
        ix = completion_index(p)
        if ix == UNKNOWN_INDEX or ix >= completions:
            remove.append(p)
        else:
            by_index.setdefault(ix, []).append(p)
    for ix in sorted(by_index):
        group = by_index[ix]
        if len(group) == 1:
            keep.append(group[0])
            continue
        ordered = order(list(group))
        remove.extend(ordered[:-1])
        keep.append(ordered[-1])
    return remove, keep


def indexed_template(job: Job, template: PodTemplateSpec, index: int) -> tuple[PodTemplateSpec, str]:
    """A copy of `template` for completion `index`: the index annotation and label, the
    hostname `<job>-<index>`; and the pod name prefix `<job>-<index>-`."""
    out = template.model_copy(deep=True)
    meta = out.metadata
    meta.annotations = {**(meta.annotations or {}), JOB_COMPLETION_INDEX: str(index)}
    meta.labels = {**(meta.labels or {}), JOB_COMPLETION_INDEX: str(index)}
    if out.spec is not None:
        out.spec.hostname = f"{job.name}-{index}"
    prefix = f"{job.name}-{index}-"
    if len(prefix) > MAX_POD_NAME_PREFIX:
        prefix = prefix[:MAX_POD_NAME_PREFIX]
    return out, prefix


def add_completion_index_env(template: PodTemplateSpec) -> PodTemplateSpec:
    """A copy whose containers (and init containers) get JOB_COMPLETION_INDEX from the
    index annotation through the downward API, unless they set it themselves."""
    out = template.model_copy(deep=True)
    if out.spec is None:
        return out
    source = EnvVarSource(field_ref=ObjectFieldSelector(
        api_version="v1", field_path=f"metadata.annotations['{JOB_COMPLETION_INDEX}']"))
    for c in [*out.spec.containers, *(out.spec.init_containers or [])]:
        if not any(e.name == COMPLETION_INDEX_ENV for e in c.env or []):
            c.env = [*(c.env or []), EnvVar(name=COMPLETION_INDEX_ENV, value_from=source)]
    return out

__all__ = [
    "COMPLETION_INDEX_ENV", "Intervals", "UNKNOWN_INDEX", "add_completion_index_env",
    "completion_index", "duplicated_index_pods", "first_pending_indexes", "indexed_template",
    "indexes_of",
]
