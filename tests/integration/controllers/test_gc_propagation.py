"""Garbage collector against the in-process apiserver: background, foreground and orphan
propagation over Deployment -> ReplicaSet -> Pods, and owner identity by uid."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from api.meta import new_controller_ref
from api.models import ConfigMap, Deployment, Pod, ReplicaSet
from client.errors import NotFound
from client.rest import Client
from controllers.base import SharedInformers
from controllers.garbagecollector import GarbageCollector
from tests.support.sim_nodes import wait_for
from tests.support.waits import reconciles

NS = "default"


@contextlib.asynccontextmanager
async def gc_running(kube: Client, informers: SharedInformers) -> AsyncIterator[GarbageCollector]:
    gc = GarbageCollector(kube, informers)
    await informers.start_all()
    task = asyncio.create_task(gc.run(4))
    try:
        yield gc
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def tree(kube: Client, name: str, pods: int = 2) -> tuple[Deployment, ReplicaSet, list[Pod]]:
    labels = {"app": name}
    tmpl = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    d = await kube.create(Deployment.from_dict({
        "metadata": {"name": name, "namespace": NS},
        "spec": {"replicas": pods, "selector": {"matchLabels": labels}, "template": tmpl}}))
    rs = await kube.create(ReplicaSet.from_dict({
        "metadata": {"name": f"{name}-1", "namespace": NS, "labels": labels,
                     "ownerReferences": [new_controller_ref(d).to_dict()]},
        "spec": {"replicas": pods, "selector": {"matchLabels": labels}, "template": tmpl}}))
    ps = [await kube.create(Pod.from_dict({
        "metadata": {"name": f"{name}-1-{i}", "namespace": NS, "labels": labels,
                     "ownerReferences": [new_controller_ref(rs).to_dict()]},
        "spec": tmpl["spec"]})) for i in range(pods)]
    return d, rs, ps


async def exists(kube: Client, kind: Any, name: str) -> bool:
    try:
        await kube.get(kind, name, NS)
        return True
    except NotFound:
        return False


async def all_gone(kube: Client, *objs: Any) -> bool:
    for o in objs:
        if await exists(kube, type(o), o.name):
            return False
    return True


async def test_background_deletes_replicasets_and_pods(kube: Client,
                                                       informers: SharedInformers) -> None:
    async with gc_running(kube, informers) as gc:
        seen = reconciles(gc, lambda ref: ref.name == "bg-1-1")
        d, rs, pods = await tree(kube, "bg")
        await wait_for(lambda: seen, what="the GC looked at the last pod")
        assert await exists(kube, Pod, pods[0].name)          # live owners: nothing happens
        await kube.delete(Deployment, "bg", NS, propagation_policy="Background")
        await wait_for(lambda: all_gone(kube, rs, *pods), what="rs and pods collected")


async def test_foreground_waits_for_dependents(kube: Client, informers: SharedInformers) -> None:
    async with gc_running(kube, informers):
        d, rs, pods = await tree(kube, "fg")
        pods_outlived_owner = []

        async def check() -> bool:
            owner = await exists(kube, Deployment, "fg")      # read the owner first: once it
            pods_left = not await all_gone(kube, *pods)       # is gone, pods must be too
            if not owner and pods_left:
                pods_outlived_owner.append(True)
            return not owner and not pods_left
        out = await kube.delete(Deployment, "fg", NS, propagation_policy="Foreground")
        assert "foregroundDeletion" in (out.metadata.finalizers or [])
        await wait_for(check, interval=0.02, what="foreground deletion")
        assert not pods_outlived_owner
        assert await all_gone(kube, rs)


async def test_orphan_keeps_dependents_without_owner_refs(kube: Client,
                                                          informers: SharedInformers) -> None:
    async with gc_running(kube, informers) as gc:
        d, rs, pods = await tree(kube, "or")
        await kube.delete(Deployment, "or", NS, propagation_policy="Orphan")
        await wait_for(lambda: all_gone(kube, d), what="owner removed")
        kept = await kube.get(ReplicaSet, rs.name, NS)
        assert not kept.metadata.owner_references
        cached = informers.get(ReplicaSet).store

        def seen_orphaned() -> bool:
            rs_now = cached.get_by_name(NS, rs.name)
            return rs_now is not None and rs_now.metadata.resource_version == kept.metadata.resource_version
        await wait_for(seen_orphaned, what="the GC saw the orphaned ReplicaSet")
        await wait_for(gc.queue.idle, what="the GC has nothing left to do")
        assert await exists(kube, Pod, pods[0].name)


async def test_owner_identity_is_the_uid(kube: Client, informers: SharedInformers) -> None:
    async with gc_running(kube, informers):
        owner = await kube.create(ConfigMap.from_dict({"metadata": {"name": "owner", "namespace": NS}}))
        other = await kube.create(ConfigMap.from_dict({"metadata": {"name": "other", "namespace": NS}}))
        stale_ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                     "uid": "00000000-dead-0000-0000-000000000000"}
        good_ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
        other_ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "other", "uid": other.metadata.uid}
        for name, refs in (("stale", [stale_ref]), ("good", [good_ref]),
                           ("two", [stale_ref, other_ref])):
            await kube.create(ConfigMap.from_dict({"metadata": {
                "name": name, "namespace": NS, "ownerReferences": refs}}))
        await wait_for(lambda: all_gone(kube, ConfigMap.from_dict({"metadata": {"name": "stale"}})),
                       what="dependent of a same-named, other-uid owner collected")

        async def two_lost_stale_ref() -> bool:
            cm = await kube.get(ConfigMap, "two", NS)
            return [r.uid for r in cm.metadata.owner_references or []] == [other.metadata.uid]
        await wait_for(two_lost_stale_ref, what="dangling ref removed")
        assert await exists(kube, ConfigMap, "good")
