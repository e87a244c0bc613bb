"""ReplicaSet controller against the in-process apiserver, with a simulated kubelet:
convergence, replacement, scale down, adoption/release, and no double creation when the
controller's pod cache lags far behind the apiserver."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from api.meta import controller_ref
from api.models import Event, Pod, ReplicaSet
from client.informer import Informer
from client.rest import Client
from controllers.base import SharedInformers
from controllers.expectations import Expectations
from tests.support.apps_cluster import AppsControlPlane, PodWatch, eventually, ready
from tests.support.kubelet_sim import KubeletSim
from tests.support.waits import reconciles


def replica_set(name: str, replicas: int, labels: dict[str, str] | None = None) -> ReplicaSet:
    labels = labels or {"app": name}
    return ReplicaSet.from_dict({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}}})


async def ready_pods(watch: PodWatch, n: int) -> bool:
    return len(watch.pods()) == n and len(ready(watch.pods())) == n


@pytest.fixture
async def sim(kube: Client) -> AsyncIterator[KubeletSim]:
    async with KubeletSim(kube, nodes=2) as s:
        yield s


async def test_replicaset_converges_replaces_and_scales_down(kube: Client,
                                                             sim: KubeletSim) -> None:
    plane = await AppsControlPlane(kube, deployments=False).start()
    try:
        async with PodWatch(kube, "app=web") as watch:
            rs = await kube.create(replica_set("web", 3))
            await eventually(lambda: ready_pods(watch, 3), what="3 ready pods")

            async def status_ok() -> Any:
                cur = await kube.get(ReplicaSet, "web", "default")
                s = cur.status
                return s and (s.replicas, s.ready_replicas, s.available_replicas,
                              s.fully_labeled_replicas, s.observed_generation) == (3, 3, 3, 3, 1)
            await eventually(status_ok, what="status 3/3/3")
            for pod in watch.pods():
                ref = controller_ref(pod)
                assert ref is not None and ref.uid == rs.metadata.uid and ref.block_owner_deletion
                assert pod.metadata.name and pod.metadata.name.startswith("web-")

            victim = watch.pods()[0]
            await kube.delete(Pod, victim.name, "default")
            async def replaced() -> bool:
                gone = victim.metadata.uid not in {p.metadata.uid for p in watch.pods()}
                return gone and await ready_pods(watch, 3)
            await eventually(replaced, what="replacement")

            await kube.patch(ReplicaSet, "web", {"spec": {"replicas": 1}}, "default")
            await eventually(lambda: ready_pods(watch, 1), what="scale down to 1")
            assert len(watch.seen_uids) == 4

            async def events() -> Any:
                lst = await kube.list(Event, "default")
                return {(e.reason, (e.message or "").split(":")[0]) for e in lst.items
                        if e.involved_object and e.involved_object.name == "web"}
            got = await eventually(lambda: _has(events, {("SuccessfulCreate", "Created pod"),
                                                         ("SuccessfulDelete", "Deleted pod")}),
                                   what="events")
            assert got
    finally:
        await plane.stop()


async def _has(fetch: Any, want: set[tuple[str, str]]) -> bool:
    return want <= await fetch()


async def test_adopts_orphans_and_releases_non_matching(kube: Client, sim: KubeletSim) -> None:
    for i in range(2):
        await kube.create(Pod.from_dict({
            "metadata": {"name": f"orphan-{i}", "namespace": "default",
                         "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}))
    plane = await AppsControlPlane(kube, deployments=False).start()
    try:
        async with PodWatch(kube, "app=web") as watch:
            rs = await kube.create(replica_set("web", 3))

            async def adopted() -> bool:
                pods = watch.pods()
                return len(pods) == 3 and all((r := controller_ref(p)) is not None and
                                              r.uid == rs.metadata.uid for p in pods)
            await eventually(adopted, what="adoption")
            assert {"orphan-0", "orphan-1"} <= {p.name for p in watch.pods()}
            assert len(watch.seen_uids) == 3            # only one pod created

            await kube.patch(Pod, "orphan-0", {"metadata": {"labels": {"app": "other"}}},
                             "default")

            async def released() -> bool:
                pod = await kube.get(Pod, "orphan-0", "default")
                return not pod.metadata.owner_references and await ready_pods(watch, 3)
            await eventually(released, what="release and replacement")
    finally:
        await plane.stop()


# ---------------------------------------------------------------- a slow cache
class _LaggingStream:
    """A watch stream whose events reach the reader `lag` seconds late."""

    def __init__(self, stream: Any, lag: float) -> None:
        self.stream, self.lag = stream, lag
        self.items: asyncio.Queue[tuple[float, Any]] = asyncio.Queue()
        self.reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        try:
            async for ev in self.stream:
                self.items.put_nowait((time.monotonic(), ev))
            self.items.put_nowait((time.monotonic(), StopAsyncIteration()))
        except Exception as e:  # noqa: BLE001 - handed to the reader
            self.items.put_nowait((time.monotonic(), e))

    def __aiter__(self) -> _LaggingStream:
        return self

    async def __anext__(self) -> Any:
        if self.reader is None:
            self.reader = asyncio.create_task(self._read())
        at, item = await self.items.get()
        await asyncio.sleep(max(0.0, at + self.lag - time.monotonic()))
        if isinstance(item, BaseException):
            raise item
        return item

    async def __aenter__(self) -> _LaggingStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.gather(self.reader, return_exceptions=True)
        await self.stream.aclose()


class _LaggingClient:
    def __init__(self, client: Client, lag: float) -> None:
        self._client, self._lag = client, lag

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def watch(self, *args: Any, **kw: Any) -> _LaggingStream:
        return _LaggingStream(self._client.watch(*args, **kw), self._lag)


class _SlowPodInformers(SharedInformers):
    """Pods reach the controllers `lag` seconds late; everything resyncs every 0.1 s, so
    the ReplicaSet is reconciled many times while its pod cache is behind."""

    def __init__(self, client: Client, lag: float) -> None:
        super().__init__(client, resync_period=0.1)
        self.lag = lag

    def get(self, kind: Any, namespace: str | None = None) -> Informer:
        if kind is Pod and (kind, namespace) not in self._informers:
            self._informers[(kind, namespace)] = Informer(
                _LaggingClient(self.client, self.lag), Pod, namespace,  # type: ignore[arg-type]
                resync_period=self.resync_period)
        return super().get(kind, namespace)


class _NoExpectations(Expectations):
    def satisfied(self, key: str) -> bool:
        return True


async def _created_with_slow_cache(kube: Client, expectations: Expectations) -> int:
    plane = await AppsControlPlane(kube, deployments=False, expectations=expectations,
                                   informers_factory=lambda c: _SlowPodInformers(c, 1.0)).start()
    try:
        async with PodWatch(kube, "app=slow") as watch:
            await kube.create(replica_set("slow", 5))
            await eventually(lambda: _at_least(watch, 5), what="5 pods")
            lagging, target = plane.informers.get(Pod), int(watch.informer.resource_version or 0)

            async def caught_up() -> bool:        # the controller's pod cache is past the lag
                return int(lagging.resource_version or 0) >= target
            await eventually(caught_up, what="the lagging pod cache caught up")
            seen = reconciles(plane.rs, lambda key: key == "default/slow")
            await eventually(lambda: _true(len(seen) >= 2), what="a reconcile from the caught-up cache")
            return len(watch.seen_uids)
    finally:
        await plane.stop()


async def _true(value: bool) -> bool:
    return value


async def _at_least(watch: PodWatch, n: int) -> bool:
    return len(ready(watch.pods())) >= n


async def test_slow_cache_never_double_creates(kube: Client, sim: KubeletSim) -> None:
    assert await _created_with_slow_cache(kube, Expectations()) == 5


async def test_slow_cache_rig_double_creates_without_expectations(kube: Client,
                                                                  sim: KubeletSim) -> None:
    """The rig has teeth: the same lag without expectations over-creates."""
    assert await _created_with_slow_cache(kube, _NoExpectations()) > 5
