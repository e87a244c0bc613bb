"""The REST client against the real (in-process) apiserver: typed CRUD, error mapping,
pagination, watch, subresources, warnings and the event recorder."""
from __future__ import annotations

import asyncio

import pytest

from api.models import ConfigMap, Deployment, Event, Node, ObjectMeta, Pod
from api.resources import resolve
from client import errors
from client.events import EventRecorder
from client.rest import Client


def cm(name: str, ns: str = "default", **data: str) -> ConfigMap:
    return ConfigMap(metadata=ObjectMeta(name=name, namespace=ns), data=data or None)


async def test_typed_crud_and_error_mapping(kube: Client) -> None:
    created = await kube.create(cm("app", a="1"))
    assert isinstance(created, ConfigMap)
    assert created.metadata.uid and created.metadata.resource_version
    got = await kube.get(ConfigMap, "app", namespace="default")
    assert got.data == {"a": "1"} and got.metadata.uid == created.metadata.uid

    with pytest.raises(errors.AlreadyExists) as ei:
        await kube.create(cm("app"))
    assert ei.value.code == 409 and ei.value.reason == "AlreadyExists"
    with pytest.raises(errors.NotFound) as nf:
        await kube.get(ConfigMap, "missing", namespace="default")
    assert nf.value.code == 404 and "missing" in nf.value.message

    stale = got.model_copy(deep=True)
    got.data = {"a": "2"}
    updated = await kube.update(got)
    assert updated.data == {"a": "2"}
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)
    stale.data = {"a": "lost update"}
    with pytest.raises(errors.Conflict) as conflict:
        await kube.update(stale)
    assert conflict.value.code == 409 and not isinstance(conflict.value, errors.AlreadyExists)

    patched = await kube.patch(ConfigMap, "app", {"data": {"b": "3"}}, namespace="default")
    assert patched.data == {"a": "2", "b": "3"}
    patched = await kube.patch(ConfigMap, "app", [{"op": "remove", "path": "/data/a"}],
                               namespace="default", patch_type="json")
    assert patched.data == {"b": "3"}

    await kube.delete(ConfigMap, "app", namespace="default")
    with pytest.raises(errors.NotFound):
        await kube.get(ConfigMap, "app", namespace="default")
    with pytest.raises(errors.NotFound):
        await kube.delete(ConfigMap, "app", namespace="default")
    with pytest.raises(errors.NotFound):
        await kube.patch(ConfigMap, "app", {"data": {}}, namespace="default")


async def test_invalid_and_raw_dicts(kube: Client) -> None:
    with pytest.raises(errors.Invalid) as inv:
        await kube.create(cm("Not_A_Valid_Name"))
    assert inv.value.code == 422 and inv.value.causes
    info = resolve("configmaps")
    raw = await kube.create({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "raw", "namespace": "default"},
                             "data": {"k": "v"}})
    assert isinstance(raw, dict) and raw["data"] == {"k": "v"}
    again = await kube.get(info, "raw", namespace="default")
    assert isinstance(again, dict) and again["metadata"]["uid"] == raw["metadata"]["uid"]


async def test_cluster_scoped_and_pagination(kube: Client) -> None:
    for i in range(7):
        await kube.create(Node(metadata=ObjectMeta(name=f"node-{i}")))
    page = await kube.list(Node, limit=3)
    assert len(page.items) == 3 and page.continue_
    everything = await kube.list_all(Node, page_size=3)
    assert sorted(n.name for n in everything.items) == [f"node-{i}" for i in range(7)]
    assert everything.resource_version and everything.continue_ is None
    assert (await kube.get(Node, "node-3")).name == "node-3"


async def test_watch_from_list_resource_version(kube: Client) -> None:
    await kube.create(cm("before"))
    lst = await kube.list(ConfigMap, "default")
    stream = kube.watch(ConfigMap, "default", resource_version=lst.resource_version,
                        timeout_seconds=10)
    async with stream:
        await kube.create(cm("w1"))
        await kube.patch(ConfigMap, "w1", {"data": {"x": "y"}}, namespace="default")
        await kube.delete(ConfigMap, "w1", namespace="default")
        seen = []
        async with asyncio.timeout(5):
            async for ev in stream:
                if ev.type != "BOOKMARK":
                    seen.append((ev.type, ev.object.name))
                if len(seen) == 3:
                    break
    assert seen == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]
    assert isinstance(ev.object, ConfigMap)


async def test_scale_bind_and_status(kube: Client) -> None:
    d = await kube.create(Deployment.from_dict({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}))
    scale = await kube.get_scale(Deployment, "web", namespace="default")
    assert scale.spec.replicas == 1
    scale = await kube.patch_scale(Deployment, "web", 4, namespace="default")
    assert scale.spec.replicas == 4
    assert (await kube.get(Deployment, "web", namespace="default")).spec.replicas == 4
    d = await kube.get(Deployment, "web", namespace="default")
    d2 = Deployment.from_dict({**d.to_dict(), "status": {"observedGeneration": 1,
                                                         "replicas": 0}})
    out = await kube.update_status(d2)
    assert out.status is not None and out.status.observed_generation == 1

    pod = await kube.create(Pod.from_dict({
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}}))
    await kube.bind(pod, "node-a")
    assert (await kube.get(Pod, "p", namespace="default")).spec.node_name == "node-a"


async def test_unknown_field_warning(client_config: object) -> None:
    warnings: list[str] = []
    async with Client(client_config, warning_handler=warnings.append) as c:  # type: ignore
        await c.create({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "warn", "namespace": "default"},
                        "bogus": 1})
    assert any("bogus" in w for w in warnings), warnings


async def test_event_recorder_creates_and_aggregates(kube: Client) -> None:
    obj = await kube.create(cm("evt"))
    rec = EventRecorder(kube, "client-test", host="h1")
    for _ in range(3):
        rec.record(obj, "Warning", "Flapping", "it flaps")
    await rec.close()
    events = [e for e in (await kube.list(Event, "default")).items
              if e.involved_object.uid == obj.metadata.uid]
    assert len(events) == 1
    ev = events[0]
    assert (ev.reason, ev.count, ev.type, ev.source.component) == (
        "Flapping", 3, "Warning", "client-test")
    assert ev.name.startswith("evt.")
