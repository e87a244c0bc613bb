"""Deployment + ReplicaSet controllers against the in-process apiserver with a simulated
kubelet: rolling updates within maxSurge/maxUnavailable at every store revision, rollback
(`kubectl rollout undo`), scaling, Recreate, pause/resume, progress deadline, history
cleanup with restartedAt, and a controller crash in the middle of a rollout."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from api.models import Deployment, Event, Pod, ReplicaSet
from client.rest import Client
from controllers import deployment_util as util
from tests.support.apps_cluster import AppsControlPlane, PodWatch, eventually, ready
from tests.support.kubelet_sim import KubeletSim

NEVER_READY = "registry.invalid/never-ready:1"


def deployment(name: str = "web", replicas: int = 5, image: str = "nginx:1",
               **spec: Any) -> Deployment:
    labels = {"app": name}
    return Deployment.from_dict({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "c", "image": image}]}},
                 **spec}})


def image_of(pod: Pod) -> str:
    return pod.spec.containers[0].image if pod.spec else ""  # type: ignore[return-value]


async def set_image(kube: Client, image: str, name: str = "web") -> None:
    await kube.patch(Deployment, name, {"spec": {"template": {"spec": {"containers": [
        {"name": "c", "image": image}]}}}}, "default", patch_type="strategic")


async def replica_sets(kube: Client, name: str = "web") -> list[ReplicaSet]:
    return (await kube.list(ReplicaSet, "default", label_selector=f"app={name}")).items


def rolled_out(kube: Client, watch: PodWatch, image: str, replicas: int,
               name: str = "web") -> Callable[[], Any]:
    """Complete: status says so for the current generation, and the pods agree."""
    async def check() -> bool:
        d = await kube.get(Deployment, name, "default")
        s = d.status
        if s is None or (s.observed_generation or 0) < (d.metadata.generation or 0):
            return False
        counts = (s.replicas or 0, s.updated_replicas or 0, s.available_replicas or 0)
        pods = watch.pods()
        return counts == (replicas,) * 3 and len(ready(pods)) == replicas == len(pods) and \
            all(image_of(p) == image for p in pods)
    return check


def bounds(replicas: int, surge: int, unavailable: int, armed: dict[str, bool]
           ) -> Callable[[list[Pod]], str | None]:
    def check(active: list[Pod]) -> str | None:
        if len(active) > replicas + surge:
            return f"{len(active)} pods > {replicas} + maxSurge {surge}"
        if armed["on"] and len(ready(active)) < replicas - unavailable:
            return f"{len(ready(active))} available < {replicas} - maxUnavailable {unavailable}"
        return None
    return check


@pytest.fixture
async def sim(kube: Client) -> AsyncIterator[KubeletSim]:
    async with KubeletSim(kube, nodes=3, ready_delay=0.05,
                          ready_when=lambda p: image_of(p) != NEVER_READY) as s:
        yield s


@pytest.fixture
async def plane(kube: Client, sim: KubeletSim) -> AsyncIterator[AppsControlPlane]:
    p = await AppsControlPlane(kube).start()
    try:
        yield p
    finally:
        await p.stop()


async def test_rolling_update_within_bounds_then_undo(kube: Client,
                                                      plane: AppsControlPlane) -> None:
    armed = {"on": False}
    async with PodWatch(kube, "app=web") as watch:
        watch.checks.append(bounds(5, 2, 1, armed))      # 25%/25% of 5: surge 2, unavail 1
        await kube.create(deployment())
        await eventually(rolled_out(kube, watch, "nginx:1", 5), what="first rollout")
        first = (await replica_sets(kube))[0]
        armed["on"] = True

        await set_image(kube, "nginx:2")
        await eventually(rolled_out(kube, watch, "nginx:2", 5), what="rollout to nginx:2")
        rss = {rs.name: rs for rs in await replica_sets(kube)}
        assert len(rss) == 2 and rss[first.name].spec.replicas == 0  # type: ignore[union-attr]
        second = next(rs for n, rs in rss.items() if n != first.name)
        assert util.revision(second) == 2

        # kubectl rollout undo: the template of revision 1, without the hash label
        d = await kube.get(Deployment, "web", "default")
        template = first.spec.template.model_copy(deep=True)  # type: ignore[union-attr]
        template.metadata.labels.pop(util.HASH_LABEL)  # type: ignore[union-attr]
        d.spec.template = template  # type: ignore[union-attr]
        await kube.update(d)
        await eventually(rolled_out(kube, watch, "nginx:1", 5), what="undo")
        rss = {rs.name: rs for rs in await replica_sets(kube)}
        assert set(rss) == {first.name, second.name}
        back = rss[first.name]
        assert back.spec.replicas == 5 and util.revision(back) == 3  # type: ignore[union-attr]
        assert util.annotations_of(back)[util.REVISION_HISTORY] == "1"
        assert rss[second.name].spec.replicas == 0  # type: ignore[union-attr]
        d = await kube.get(Deployment, "web", "default")
        assert util.annotations_of(d)[util.REVISION] == "3"
        conds = {c.type: c for c in d.status.conditions or []}  # type: ignore[union-attr]
        assert (conds["Available"].status, conds["Available"].reason) == \
            ("True", "MinimumReplicasAvailable")
        assert (conds["Progressing"].status, conds["Progressing"].reason) == \
            ("True", "NewReplicaSetAvailable")
        assert watch.violations == []
        assert watch.events > 30

        async def scaled_events() -> Any:
            msgs = {e.message for e in (await kube.list(Event, "default")).items
                    if e.reason == "ScalingReplicaSet"}
            return f"Scaled up replica set {first.name} from 0 to 5" in msgs and msgs
        msgs = await eventually(scaled_events, what="ScalingReplicaSet events")
        assert any(m.startswith(f"Scaled down replica set {first.name} from 5 to ")
                   for m in msgs)


async def test_scale_5_to_50_to_0(kube: Client, plane: AppsControlPlane) -> None:
    async with PodWatch(kube, "app=web") as watch:
        await kube.create(deployment(replicas=5))
        await eventually(rolled_out(kube, watch, "nginx:1", 5), what="5 pods")
        await kube.patch_scale(Deployment, "web", 50, "default")
        await eventually(rolled_out(kube, watch, "nginx:1", 50), timeout=30, what="50 pods")
        assert len(watch.seen_uids) == 50
        rss = await replica_sets(kube)
        assert len(rss) == 1 and util.annotations_of(rss[0])[util.DESIRED_REPLICAS] == "50"
        await kube.patch_scale(Deployment, "web", 0, "default")
        await eventually(rolled_out(kube, watch, "nginx:1", 0), what="0 pods")
        assert len(await replica_sets(kube)) == 1


async def test_controller_crash_mid_rollout_finishes_without_extra_pods(
        kube: Client, sim: KubeletSim) -> None:
    sim.ready_delay = 0.3                                   # a slower rollout to crash into
    plane = await AppsControlPlane(kube).start()
    armed = {"on": False}
    try:
        async with PodWatch(kube, "app=web") as watch:
            watch.checks.append(bounds(5, 2, 1, armed))
            await kube.create(deployment())
            await eventually(rolled_out(kube, watch, "nginx:1", 5), what="first rollout")
            armed["on"] = True
            await set_image(kube, "nginx:2")

            async def midway() -> bool:
                pods = watch.pods()
                return any(image_of(p) == "nginx:2" and p in ready(pods) for p in pods) and \
                    any(image_of(p) == "nginx:1" for p in pods)
            await eventually(midway, what="a rollout half done")
            await plane.stop()                              # crash both controllers
            plane = await AppsControlPlane(kube).start()    # fresh caches, no expectations
            await eventually(rolled_out(kube, watch, "nginx:2", 5), what="finished rollout")
            assert len(watch.seen_uids) == 10               # 5 old + 5 new, nothing extra
            assert watch.violations == []
    finally:
        await plane.stop()


async def test_recreate_never_overlaps(kube: Client, plane: AppsControlPlane) -> None:
    def no_overlap(active: list[Pod]) -> str | None:
        images = {image_of(p) for p in active}
        return f"old and new pods together: {images}" if len(images) > 1 else None

    async with PodWatch(kube, "app=web") as watch:
        watch.checks.append(no_overlap)
        await kube.create(deployment(replicas=3, strategy={"type": "Recreate"}))
        await eventually(rolled_out(kube, watch, "nginx:1", 3), what="first rollout")
        await set_image(kube, "nginx:2")
        await eventually(rolled_out(kube, watch, "nginx:2", 3), what="recreate rollout")
        assert watch.violations == []


async def test_paused_deployment_scales_but_does_not_roll(kube: Client,
                                                          plane: AppsControlPlane) -> None:
    async with PodWatch(kube, "app=web") as watch:
        await kube.create(deployment(replicas=3))
        await eventually(rolled_out(kube, watch, "nginx:1", 3), what="first rollout")
        await kube.patch(Deployment, "web", {"spec": {"paused": True}}, "default")
        await set_image(kube, "nginx:2")
        await kube.patch_scale(Deployment, "web", 4, "default")

        async def paused_scaled() -> bool:
            d = await kube.get(Deployment, "web", "default")
            cond = next((c for c in d.status.conditions or []  # type: ignore[union-attr]
                         if c.type == "Progressing"), None)
            return len(ready(watch.pods())) == 4 and cond is not None and \
                cond.reason == "DeploymentPaused"
        await eventually(paused_scaled, what="scaled while paused")
        assert len(await replica_sets(kube)) == 1
        assert {image_of(p) for p in watch.pods()} == {"nginx:1"}
        await kube.patch(Deployment, "web", {"spec": {"paused": False}}, "default")
        await eventually(rolled_out(kube, watch, "nginx:2", 4), what="rollout after resume")


async def test_progress_deadline_exceeded(kube: Client, plane: AppsControlPlane) -> None:
    async with PodWatch(kube, "app=web") as watch:
        await kube.create(deployment(replicas=2, progressDeadlineSeconds=1))
        await eventually(rolled_out(kube, watch, "nginx:1", 2), what="first rollout")
        await set_image(kube, NEVER_READY)

        async def timed_out() -> Any:
            d = await kube.get(Deployment, "web", "default")
            conds = {c.type: c for c in d.status.conditions or []}  # type: ignore[union-attr]
            p = conds.get("Progressing")
            return p is not None and (p.status, p.reason) == \
                ("False", "ProgressDeadlineExceeded") and conds
        conds = await eventually(timed_out, timeout=10, what="ProgressDeadlineExceeded")
        assert conds["Available"].status == "True"        # the old pod still serves
        assert "has timed out progressing" in (conds["Progressing"].message or "")


async def test_restart_and_history_limit(kube: Client, plane: AppsControlPlane) -> None:
    async with PodWatch(kube, "app=web") as watch:
        await kube.create(deployment(replicas=2, revisionHistoryLimit=1))
        await eventually(rolled_out(kube, watch, "nginx:1", 2), what="first rollout")
        await set_image(kube, "nginx:2")
        await eventually(rolled_out(kube, watch, "nginx:2", 2), what="second rollout")
        before = {p.metadata.uid for p in watch.pods()}
        await kube.patch(Deployment, "web", {"spec": {"template": {"metadata": {"annotations": {
            util.RESTARTED_AT: "2026-01-01T00:00:00Z"}}}}}, "default")

        async def restarted() -> bool:
            pods = watch.pods()
            return await rolled_out(kube, watch, "nginx:2", 2)() and \
                not before & {p.metadata.uid for p in pods} and \
                all(util.RESTARTED_AT in (p.metadata.annotations or {}) for p in pods)
        await eventually(restarted, what="restart rollout")

        async def cleaned() -> Any:
            rss = await replica_sets(kube)
            return len(rss) == 2 and rss
        rss = await eventually(cleaned, what="history cleanup to 1 old ReplicaSet")
        assert sorted(util.revision(rs) for rs in rss) == [2, 3]
