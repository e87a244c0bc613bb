"""Controller expectations (client-go's UIDTrackingControllerExpectations).

Owns `Expectations`: after a controller asks for N pod creations or deletions it records
what it expects to *observe* in its informer, and does not act for that key again until
the informer has shown every one of them (or `timeout` seconds passed). This is what keeps
a slow cache from causing double creation: without it, a second sync would count the pods
it just created as missing and create them again.

Invariants:
- A key with no record is satisfied (a new controller, or one whose record was deleted).
- A record is satisfied when both counts are <= 0, or when it is older than `timeout`
  (5 minutes, as Kubernetes' ExpectationsTimeout), so a lost watch event cannot wedge a key.
- Deletions are tracked per pod key: observing the same pod's deletion twice (its update
  with a deletionTimestamp, then its DELETE event) lowers the count only once.
- Pure state with an injected clock: no I/O, no asyncio.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

EXPECTATIONS_TIMEOUT = 300.0


@dataclass
class _Record:
    add: int = 0
    delete: int = 0
    deleting: set[str] = field(default_factory=set)
    timestamp: float = 0.0

    def fulfilled(self) -> bool:
        return self.add <= 0 and self.delete <= 0


class Expectations:
    """Per-controller-key expected creations and deletions."""

    def __init__(self, timeout: float = EXPECTATIONS_TIMEOUT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self.clock = clock
        self._records: dict[str, _Record] = {}

    def satisfied(self, key: str) -> bool:
        """True when the controller may act on `key` again."""
        rec = self._records.get(key)
        if rec is None or rec.fulfilled():
            return True
        return self.clock() - rec.timestamp > self.timeout

    def expect_creations(self, key: str, count: int) -> None:
        """Replace the record: `count` creations are about to be requested."""
        self._records[key] = _Record(add=count, timestamp=self.clock())

    def expect_deletions(self, key: str, pod_keys: Iterable[str]) -> None:
        """Replace the record: the pods `pod_keys` are about to be deleted."""
        keys = set(pod_keys)
        self._records[key] = _Record(delete=len(keys), deleting=keys, timestamp=self.clock())

    def expect(self, key: str, creations: int, pod_keys: Iterable[str]) -> None:
        """Replace the record with both (SetExpectations): `creations` pods about to be
        created and the pods `pod_keys` about to be deleted in the same sync."""
        keys = set(pod_keys)
        self._records[key] = _Record(add=creations, delete=len(keys), deleting=keys,
                                     timestamp=self.clock())

    def creation_observed(self, key: str) -> None:
        """The informer showed a pod we created (or a creation failed: lower it anyway)."""
        rec = self._records.get(key)
        if rec is not None:
            rec.add -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        """The informer showed `pod_key` deleted (or its deletion failed)."""
        rec = self._records.get(key)
        if rec is not None and pod_key in rec.deleting:
            rec.deleting.discard(pod_key)
            rec.delete -= 1

    def lower(self, key: str, add: int = 0) -> None:
        """Lower expected creations by `add` (creations skipped after a failed batch)."""
        rec = self._records.get(key)
        if rec is not None:
            rec.add -= add

    def delete(self, key: str) -> None:
        """Forget `key` (its controller object is gone)."""
        self._records.pop(key, None)

    def pending(self, key: str) -> tuple[int, int]:
        """(creations, deletions) still expected, for logs and tests."""
        rec = self._records.get(key)
        return (rec.add, rec.delete) if rec is not None else (0, 0)
