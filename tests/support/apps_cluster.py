"""Test support: the ReplicaSet and Deployment controllers running against an in-process
apiserver, with a simulated kubelet, plus a pod watcher that checks invariants at every
event.

`AppsControlPlane(client)` starts both controllers on a fresh `SharedInformers` (as the
controller manager would) and `stop()` cancels them (a crash, not a graceful handoff), so
tests can kill and restart them. `PodWatch(client, selector)` keeps its own informer of
the selected pods and calls every check after each event: each call sees the pods as
they were at one store revision. `eventually(fn)` polls an async predicate.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from api.meta import is_pod_ready
from api.models import Pod
from client.events import EventRecorder
from client.informer import Informer
from client.rest import Client
from controllers.base import SharedInformers
from controllers.deployment import DeploymentController
from controllers.replicaset import ReplicaSetController

T = TypeVar("T")


class AppsControlPlane:
    def __init__(self, client: Client, *, workers: int = 4, replicasets: bool = True,
                 deployments: bool = True,
                 informers_factory: Callable[[Client], SharedInformers] | None = None,
                 **rs_options: Any) -> None:
        self.client = client
        self.workers = workers
        self.want_rs, self.want_deploy = replicasets, deployments
        self.informers_factory = informers_factory or (lambda c: SharedInformers(c))
        self.rs_options = rs_options
        self.rs: ReplicaSetController | None = None
        self.deploy: DeploymentController | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> AppsControlPlane:
        self.informers = self.informers_factory(self.client)
        self.recorder = EventRecorder(self.client, "controller-manager")
        controllers: list[Any] = []
        if self.want_rs:
            self.rs = ReplicaSetController(self.client, self.informers, self.recorder,
                                           **self.rs_options)
            controllers.append(self.rs)
        if self.want_deploy:
            self.deploy = DeploymentController(self.client, self.informers, self.recorder)
            controllers.append(self.deploy)
        self._tasks = [asyncio.create_task(c.run(self.workers)) for c in controllers]
        return self

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.informers.stop_all()
        await self.recorder.close(1.0)


def is_active(pod: Pod) -> bool:
    phase = pod.status.phase if pod.status else None
    return not pod.metadata.deletion_timestamp and phase not in ("Succeeded", "Failed")


class PodWatch:
    """Every event on the selected pods runs `check(active_pods)`; failures collect in
    `violations` (a check answers a message or None)."""

    def __init__(self, client: Client, selector: str) -> None:
        self.informer = Informer(client, Pod, label_selector=selector)
        self.checks: list[Callable[[list[Pod]], str | None]] = []
        self.violations: list[str] = []
        self.seen_uids: set[str] = set()
        self.events = 0
        self.informer.add_handlers(on_add=self._on_event,
                                   on_update=lambda old, new: self._on_event(new),
                                   on_delete=lambda obj: self._on_event(None))

    def _on_event(self, pod: Pod | None) -> None:
        self.events += 1
        if pod is not None and pod.metadata.uid:
            self.seen_uids.add(pod.metadata.uid)
        active = [p for p in self.informer.store.list() if is_active(p)]
        for check in self.checks:
            msg = check(active)
            if msg:
                self.violations.append(msg)

    def pods(self) -> list[Pod]:
        return [p for p in self.informer.store.list() if is_active(p)]

    async def __aenter__(self) -> PodWatch:
        await self.informer.start()
        await self.informer.wait_synced(10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.informer.stop()


def ready(pods: list[Pod]) -> list[Pod]:
    return [p for p in pods if is_pod_ready(p)]


async def eventually(fn: Callable[[], Awaitable[T]], timeout: float = 20.0,
                     interval: float = 0.05, what: str = "condition") -> T:
    """Poll `fn` until it answers something truthy; fail with `what` on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await fn()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
