"""Crash-loop backoff: how long a container that keeps exiting waits before its next start.

Owns `Backoff`, Kubernetes' flowcontrol.Backoff as the kubelet uses it for restarts
(kuberuntime's doBackOff), as pure bookkeeping over times the caller passes in:

- the first restart after an exit is immediate; every following one waits twice as long
  as the one before (10 s, 20 s, 40 s, ... capped at 5 min);
- `in_backoff(key, finished_at, now)` is True while `now - finished_at` is shorter than
  the key's current delay; `next(key, finished_at)` records a restart and doubles it;
- an entry untouched for `reset_after` (10 min, twice the cap, as Kubernetes) starts
  again from the base, so a container that ran for 10 minutes restarts at once.

Keys are `<pod uid>/<container name>`; state lives in memory (lost with the kubelet, as
in Kubernetes).
"""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BASE = 10.0
DEFAULT_CAP = 300.0


@dataclass
class _Entry:
    delay: float
    last_update: float


class Backoff:
    def __init__(self, base: float = DEFAULT_BASE, cap: float = DEFAULT_CAP,
                 reset_after: float | None = None) -> None:
        self.base, self.cap = base, cap
        self.reset_after = reset_after if reset_after is not None else 2 * cap
        self._entries: dict[str, _Entry] = {}

    def _live(self, key: str, at: float) -> _Entry | None:
        e = self._entries.get(key)
        if e is None or at - e.last_update > self.reset_after:
            return None
        return e

    def delay(self, key: str) -> float:
        e = self._entries.get(key)
        return e.delay if e else 0.0

    def in_backoff(self, key: str, finished_at: float, now: float) -> bool:
        e = self._live(key, now)
        return e is not None and now - finished_at < e.delay

    def remaining(self, key: str, finished_at: float, now: float) -> float:
        """Seconds until a restart is allowed (0 when it is allowed now)."""
        e = self._live(key, now)
        return max(0.0, finished_at + e.delay - now) if e is not None else 0.0

    def next(self, key: str, finished_at: float) -> float:
        """Record a restart of the container that finished at `finished_at`; the new delay."""
        e = self._live(key, finished_at)
        if e is None:
            e = self._entries[key] = _Entry(self.base, finished_at)
        else:
            e.delay = min(e.delay * 2, self.cap)
            e.last_update = finished_at
        return e.delay

    def forget(self, prefix: str) -> None:
        """Drop every key starting with `prefix` (a pod uid when the pod goes away)."""
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]

    def gc(self, now: float) -> None:
        for key in [k for k, e in self._entries.items() if now - e.last_update > self.reset_after]:
            del self._entries[key]


def backoff_key(pod_uid: str, container: str) -> str:
    return f"{pod_uid}/{container}"
