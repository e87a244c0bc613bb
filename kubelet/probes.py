"""Liveness, readiness and startup probes: one asyncio task per probed container.

Owns the prober side of the kubelet (Kubernetes' pkg/kubelet/prober):
- `ProbeState`, pure: successThreshold / failureThreshold counting. A result flips only
  after that many consecutive equal outcomes; readiness starts failed, liveness starts
  succeeded, startup starts unknown (None). After a liveness or startup failure the
  state holds until the container is replaced (the kubelet restarts it).
- `Prober`: runs one probe action (httpGet, tcpSocket, exec through the runtime's
  ExecSync); `FakeProber` for hollow nodes answers network probes with success (there is
  no network to probe) and still runs exec probes through the fake runtime.
- `ProbeManager`: keeps one worker per (pod, container, probe type) for running
  containers, starts the first probe after initialDelaySeconds from the container's
  start and then every periodSeconds, gates liveness and readiness on the startup probe,
  and calls `on_change(pod_uid)` when a result flips, so the pod worker syncs, and
  `on_failure(pod_uid, container, kind, output)` after every failed probe (the kubelet's
  Unhealthy event: "Liveness probe failed: ...").
"""
from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from api.models.core import Container, Probe
from kubelet.pod_workers import cancel_and_wait
from kubelet.runtime.interface import Runtime, RuntimeServiceError

log = logging.getLogger("kubelet.probes")

LIVENESS, READINESS, STARTUP = "liveness", "readiness", "startup"
PROBE_TYPES = (STARTUP, LIVENESS, READINESS)
_INITIAL: dict[str, bool | None] = {LIVENESS: True, READINESS: False, STARTUP: None}


@dataclass
class ProbeState:
    """Threshold bookkeeping for one probe of one container instance."""

    kind: str
    success_threshold: int = 1
    failure_threshold: int = 3
    result: bool | None = None
    on_hold: bool = False
    runs: int = 0                 # outcomes recorded, in all
    _last: bool | None = None
    _run: int = 0

    def __post_init__(self) -> None:
        self.result = _INITIAL[self.kind]

    def record(self, ok: bool) -> bool:
        """Account one probe outcome; True when the published result changed."""
        if self.on_hold:
            return False
        self.runs += 1
        self._run = self._run + 1 if ok == self._last else 1
        self._last = ok
        need = self.success_threshold if ok else self.failure_threshold
        if self._run < max(1, need):
            return False
        changed = self.result != ok
        self.result = ok
        if not ok and self.kind in (LIVENESS, STARTUP):
            self.on_hold, self._run = True, 0
        return changed


def probe_of(container: Container, kind: str) -> Probe | None:
    return {LIVENESS: container.liveness_probe, READINESS: container.readiness_probe,
            STARTUP: container.startup_probe}[kind]


def resolve_port(port: int | str, container: Container) -> int:
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    for p in container.ports or []:
        if p.name == port:
            return p.container_port
    raise ValueError(f"no port named {port!r} in container {container.name}")


class Prober:
    """Runs probe actions against a real pod network and runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._tls = ssl.create_default_context()
        self._tls.check_hostname = False
        self._tls.verify_mode = ssl.CERT_NONE

    async def run(self, probe: Probe, container: Container, container_id: str,
                  pod_ip: str) -> tuple[bool, str]:
        timeout = float(probe.timeout_seconds or 1)
        try:
            if probe.exec is not None:
                return await self.exec(probe.exec.command or [], container_id, int(timeout))
            if probe.http_get is not None:
                h = probe.http_get
                port = resolve_port(h.port, container)
                headers = {x.name: x.value for x in h.http_headers or []}
                async with asyncio.timeout(timeout):
                    return await self.http(h.host or pod_ip, port, h.path or "/", (h.scheme or "HTTP").upper(),
                                           headers)
            if probe.tcp_socket is not None:
                port = resolve_port(probe.tcp_socket.port, container)
                async with asyncio.timeout(timeout):
                    return await self.tcp(probe.tcp_socket.host or pod_ip, port)
        except (TimeoutError, asyncio.TimeoutError):
            return False, f"probe timed out after {timeout:g}s"
        except (OSError, ValueError, RuntimeServiceError) as e:
            return False, str(e)
        return True, "no probe action"

    async def exec(self, command: list[str], container_id: str, timeout: int) -> tuple[bool, str]:
        r = await self.runtime.exec_sync(container_id, command, timeout=max(1, timeout))
        out = (r.stdout + r.stderr).decode(errors="replace")[-512:]
        return r.exit_code == 0, out or f"exit code {r.exit_code}"

    async def tcp(self, host: str, port: int) -> tuple[bool, str]:
        if not host:
            return False, "no pod IP"
        _, writer = await asyncio.open_connection(host, port)
        writer.close()
        return True, ""

    async def http(self, host: str, port: int, path: str, scheme: str,
                   headers: dict[str, str]) -> tuple[bool, str]:
        if not host:
            return False, "no pod IP"
        reader, writer = await asyncio.open_connection(
            host, port, ssl=self._tls if scheme == "HTTPS" else None)
        try:
            hdrs = {"Host": f"{host}:{port}", "User-Agent": "kube-probe/pykube", "Accept": "*/*",
                    "Connection": "close", **headers}
            head = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
            writer.write(head.encode() + b"\r\n")
            await writer.drain()
            status_line = (await reader.readline()).decode(errors="replace").split()
        finally:
            writer.close()
        code = int(status_line[1]) if len(status_line) >= 2 and status_line[1].isdigit() else 0
        return 200 <= code < 400, f"HTTP probe failed with statuscode: {code}" if not 200 <= code < 400 else ""


class FakeProber(Prober):
    """Hollow nodes: network probes succeed, exec probes ask the fake runtime."""

    async def tcp(self, host: str, port: int) -> tuple[bool, str]:
        return True, ""

    async def http(self, host: str, port: int, path: str, scheme: str,
                   headers: dict[str, str]) -> tuple[bool, str]:
        return True, ""


@dataclass
class _Worker:
    pod_uid: str
    container: Container
    container_id: str
    kind: str
    state: ProbeState
    task: asyncio.Task[None] | None = None


@dataclass
class ProbeTarget:
    """A running container to probe: its id, start time and the pod's IP."""

    container: Container
    container_id: str
    started_at: datetime | None
    pod_ip: str


@dataclass
class ProbeManager:
    prober: Prober
    on_change: Callable[[str], None]
    on_failure: Callable[[str, Container, str, str], None] | None = None
    workers: dict[tuple[str, str, str], _Worker] = field(default_factory=dict)
    _by_container: dict[tuple[str, str], _Worker] = field(default_factory=dict)

    def result(self, container_id: str, kind: str) -> bool | None:
        """The published result for a container instance; the initial one if unprobed."""
        w = self._by_container.get((container_id, kind))
        return w.state.result if w is not None else _INITIAL[kind]

    def sync_pod(self, pod_uid: str, targets: list[ProbeTarget]) -> None:
        """Run workers for exactly these containers' probes; stop the rest of the pod's."""
        wanted: dict[tuple[str, str, str], ProbeTarget] = {}
        for t in targets:
            for kind in PROBE_TYPES:
                if probe_of(t.container, kind) is not None:
                    wanted[(pod_uid, t.container.name, kind)] = t
        for key in [k for k in self.workers if k[0] == pod_uid]:
            t = wanted.get(key)
            if t is None or t.container_id != self.workers[key].container_id:
                self._stop(key)
        for key, t in wanted.items():
            if key not in self.workers:
                self._start(key, t)

    def remove_pod(self, pod_uid: str) -> None:
        for key in [k for k in self.workers if k[0] == pod_uid]:
            self._stop(key)

    async def close(self) -> None:
        tasks = [w.task for w in self.workers.values() if w.task]
        for key in list(self.workers):
            self._stop(key)
        await cancel_and_wait(tasks)

    def _stop(self, key: tuple[str, str, str]) -> None:
        w = self.workers.pop(key)
        self._by_container.pop((w.container_id, w.kind), None)
        if w.task is not None:
            w.task.cancel()

    def _start(self, key: tuple[str, str, str], t: ProbeTarget) -> None:
        pod_uid, _, kind = key
        probe = probe_of(t.container, kind)
        assert probe is not None
        state = ProbeState(kind, probe.success_threshold or 1, probe.failure_threshold or 3)
        w = _Worker(pod_uid, t.container, t.container_id, kind, state)
        self.workers[key] = w
        self._by_container[(t.container_id, kind)] = w
        w.task = asyncio.create_task(self._run(w, probe, t), name=f"probe-{kind}-{t.container.name}")

    def _started(self, pod_uid: str, container: Container) -> bool:
        if container.startup_probe is None:
            return True
        w = self.workers.get((pod_uid, container.name, STARTUP))
        return w is not None and w.state.result is True

    async def _run(self, w: _Worker, probe: Probe, t: ProbeTarget) -> None:
        started = t.started_at.timestamp() if t.started_at else time.time()
        delay = started + (probe.initial_delay_seconds or 0) - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        period = max(0.1, float(probe.period_seconds or 10))
        while True:
            if w.state.on_hold:
                return
            if w.kind == STARTUP and w.state.result is True:
                return  # startup probes stop once they succeed
            if w.kind == STARTUP or self._started(w.pod_uid, w.container):
                try:
                    ok, msg = await self.prober.run(probe, w.container, w.container_id, t.pod_ip)
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # noqa: BLE001 - a probe error is a failed probe
                    ok, msg = False, str(e)
                if not ok:
                    log.debug("%s probe of %s failed: %s", w.kind, w.container.name, msg)
                    if self.on_failure is not None:
                        self.on_failure(w.pod_uid, w.container, w.kind, msg)
                if w.state.record(ok):
                    self.on_change(w.pod_uid)
            await asyncio.sleep(period)
