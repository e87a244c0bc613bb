"""Container logs as `kubectl logs` shows them, read from containerd's CRI log files.

Owns the CRI log format (`<RFC3339Nano> <stdout|stderr> <F|P> <message>`, one entry a
line, `P` marking a partial line that the next entry continues) and `LogOptions`
(tailLines, timestamps, sinceSeconds, sinceTime, limitBytes). `render` (pure) turns entries into
the text the API returns; `stream_log` yields it from a file, and with `follow` keeps
reading new entries until the container stops (`still_running()` turns False) and the
file is drained.

`log_instance` (pure) picks whose log is asked for, as the kubelet's
validateContainerLogStatus does: the current instance, or with `previous` the one the
pod's `lastState.terminated` names: the instance before a running one, or the exited one
itself while the container waits to restart (CrashLoopBackOff). The kubelet keeps that
instance and its log file (sync.py's garbage collection keeps the newest dead one).
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubelet.actions import should_restart
from kubelet.runtime.interface import ContainerState, ContainerStatus


@dataclass(frozen=True)
class LogEntry:
    timestamp: str
    stream: str
    partial: bool
    message: str

    @property
    def time(self) -> datetime | None:
        return parse_timestamp(self.timestamp)


@dataclass
class LogOptions:
    follow: bool = False
    tail_lines: int | None = None
    timestamps: bool = False
    since_seconds: int | None = None
    limit_bytes: int | None = None
    since_time: datetime | None = None

    @classmethod
    def from_query(cls, q: dict[str, str]) -> LogOptions:
        def num(name: str) -> int | None:
            v = q.get(name)
            if v in (None, ""):
                return None
            n = int(v)  # ValueError is the caller's 400
            if n < 0:
                raise ValueError(f"{name} must be non-negative")
            return n
        truthy = ("1", "true", "True")
        since_time = None
        if q.get("sinceTime"):
            since_time = parse_timestamp(q["sinceTime"])
            if since_time is None:
                raise ValueError(f"sinceTime: invalid RFC 3339 time {q['sinceTime']!r}")
        return cls(q.get("follow") in truthy, num("tailLines"), q.get("timestamps") in truthy,
                   num("sinceSeconds"), num("limitBytes"), since_time)


def parse_timestamp(ts: str) -> datetime | None:
    """RFC 3339 with up to nanoseconds (Python keeps microseconds)."""
    try:
        head, _, frac = ts.rstrip("Z").partition(".")
        t = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        return t.replace(microsecond=int((frac + "000000")[:6])) if frac else t
    except ValueError:
        return None


def parse_line(line: str) -> LogEntry | None:
    parts = line.rstrip("\n").split(" ", 3)
    if len(parts) < 3:
        return None
    ts, stream, tag = parts[0], parts[1], parts[2]
    msg = parts[3] if len(parts) > 3 else ""
    return LogEntry(ts, stream, tag == "P", msg)


def render(entries: Iterable[LogEntry], timestamps: bool) -> str:
    """Entries as text: full lines end with a newline; a partial line is continued."""
    out: list[str] = []
    continuing = False
    for e in entries:
        if timestamps and not continuing:
            out.append(e.timestamp + " ")
        out.append(e.message)
        if not e.partial:
            out.append("\n")
        continuing = e.partial
    return "".join(out)


def select(entries: list[LogEntry], opts: LogOptions, now: datetime | None = None) -> list[LogEntry]:
    """Apply sinceSeconds, sinceTime and tailLines (counted in full lines) to parsed entries."""
    if opts.since_time is not None:
        entries = [e for e in entries if (t := e.time) is None or t >= opts.since_time]
    if opts.since_seconds is not None:
        cutoff = (now or datetime.now(UTC)).timestamp() - opts.since_seconds
        entries = [e for e in entries if (t := e.time) is None or t.timestamp() >= cutoff]
    if opts.tail_lines is not None:
        if opts.tail_lines == 0:
            return []
        ends = [i for i, e in enumerate(entries) if not e.partial]
        if len(ends) > opts.tail_lines:
            start = ends[-opts.tail_lines - 1] + 1
            entries = entries[start:]
    return entries


def _read_entries(path: Path, offset: int) -> tuple[list[LogEntry], int]:
    """Complete lines from `offset`; returns the entries and the new offset."""
    try:
        with path.open("rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    entries = [e for line in data[:end].decode(errors="replace").split("\n") if (e := parse_line(line))]
    return entries, offset + end + 1


async def stream_log(path: Path, opts: LogOptions, still_running: Callable[[], Awaitable[bool]],
                     poll: float = 0.2) -> AsyncIterator[bytes]:
    entries, offset = await asyncio.to_thread(_read_entries, path, 0)
    budget = opts.limit_bytes

    def cap(text: str) -> bytes:
        nonlocal budget
        data = text.encode()
        if budget is not None:
            data, budget = data[:budget], max(0, budget - len(data))
        return data

    first = cap(render(select(entries, opts), opts.timestamps))
    if first:
        yield first
    if not opts.follow:
        return
    while budget is None or budget > 0:
        entries, offset = await asyncio.to_thread(_read_entries, path, offset)
        if entries:
            chunk = cap(render(entries, opts.timestamps))
            if chunk:
                yield chunk
            continue
        if not await still_running():
            entries, offset = await asyncio.to_thread(_read_entries, path, offset)
            if entries:
                yield cap(render(entries, opts.timestamps))
            return
        await asyncio.sleep(poll)


def log_instance(pod: Any, name: str, instances: list[ContainerStatus],
                 previous: bool) -> ContainerStatus | str:
    """The instance (of `instances`, newest first) whose log is wanted, or why there is none."""
    pod_name = pod.metadata.name
    cur = instances[0] if instances else None
    if previous:
        waiting_to_restart = cur is not None and cur.state == ContainerState.EXITED and should_restart(pod, cur)
        prev = cur if waiting_to_restart else (instances[1] if len(instances) > 1 else None)
        if prev is None or prev.state != ContainerState.EXITED:
            return f'previous terminated container "{name}" in pod "{pod_name}" not found'
        return prev
    if cur is None:
        reason = _waiting_reason(pod, name)
        why = {"ErrImagePull": "image can't be pulled",
               "ImagePullBackOff": "trying and failing to pull image"}.get(reason, reason)
        return f'container "{name}" in pod "{pod_name}" is waiting to start: {why}'
    return cur


def _waiting_reason(pod: Any, name: str) -> str:
    for cs in (pod.status.container_statuses if pod.status else None) or []:
        if cs.name == name:
            waiting = (cs.state.to_dict() if cs.state else {}).get("waiting") or {}
            return str(waiting.get("reason") or "ContainerCreating")
    return "ContainerCreating"
