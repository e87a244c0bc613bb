"""client.events: Event shape, aggregation of repeats, never raising or blocking."""
from __future__ import annotations

import asyncio

from client_fakeapi import FakeAPI, status

from api.models import ConfigMap, Event, Node, ObjectMeta
from client.events import EventRecorder


async def test_creates_event_with_reference(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        obj = await c.create(ConfigMap(metadata=ObjectMeta(name="web", namespace="team")))
        rec = EventRecorder(c, "replicaset-controller", host="node-1")
        rec.record(obj, "Normal", "SuccessfulCreate", "Created pod: web-abc")
        await rec.flush()
        events = (await c.list(Event, "team")).items
        assert len(events) == 1
        ev = events[0]
        name, _, stamp = ev.name.partition(".")
        assert name == "web" and int(stamp, 16) > 0
        assert ev.involved_object.kind == "ConfigMap" and ev.involved_object.name == "web"
        assert ev.involved_object.uid == obj.metadata.uid
        assert ev.involved_object.namespace == "team"
        assert (ev.type, ev.reason, ev.message, ev.count) == (
            "Normal", "SuccessfulCreate", "Created pod: web-abc", 1)
        assert ev.source.component == "replicaset-controller" and ev.source.host == "node-1"
        assert ev.first_timestamp == ev.last_timestamp and ev.first_timestamp.endswith("Z")
        await rec.close()


async def test_repeats_patch_count(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        node = Node(metadata=ObjectMeta(name="n1", uid="u-n1"))
        rec = EventRecorder(c, "kubelet")
        for _ in range(3):
            rec.record(node, "Warning", "NodeNotReady", "down")
        rec.record(node, "Warning", "NodeNotReady", "something else")
        await rec.flush()
        events = sorted((await c.list(Event, "default")).items, key=lambda e: e.message or "")
        assert [(e.message, e.count) for e in events] == [("down", 3), ("something else", 1)]
        patches = [r for r in fake_api.requests if r.method == "PATCH"]
        assert len(patches) == 2
        # the Event was deleted meanwhile: a repeat creates a new one
        await c.delete(Event, events[0].name, namespace="default")
        rec.record(node, "Warning", "NodeNotReady", "down")
        await rec.flush()
        again = [e for e in (await c.list(Event, "default")).items if e.message == "down"]
        assert len(again) == 1 and again[0].count == 1
        await rec.close()


async def test_window_expiry_creates_new_event(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        rec = EventRecorder(c, "x", aggregate_window=0.0)
        obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d", "namespace": "n"}}
        rec.record(obj, "Normal", "R", "m")
        await rec.flush()
        rec.record(obj, "Normal", "R", "m")
        await rec.flush()
        assert len((await c.list(Event, "n")).items) == 2
        await rec.close()


async def test_never_raises_nor_blocks(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        rec = EventRecorder(c, "x", max_pending=2)
        fake_api.inject("POST", 500, status(500, "InternalError"))
        for i in range(5):                         # queue of 2: the rest are dropped
            rec.record(ConfigMap(metadata=ObjectMeta(name=f"o{i}", namespace="n")),
                       "Normal", "R", "m")
        rec.record(object(), "Normal", "R", "m")   # garbage in: logged, not raised
        await rec.flush()
        names = [e.involved_object.name for e in (await c.list(Event, "n")).items]
        assert names == ["o1"]                      # o0 hit the 500, o2.. were dropped
        await rec.close()


def test_record_without_loop_does_not_raise() -> None:
    rec = EventRecorder(None, "x")  # type: ignore[arg-type]
    rec.record(ConfigMap(metadata=ObjectMeta(name="a")), "Normal", "R", "m")


async def test_close_is_prompt_when_api_hangs() -> None:
    class Hanging:
        async def create(self, obj: object) -> None:
            await asyncio.sleep(3600)

    rec = EventRecorder(Hanging(), "x")  # type: ignore[arg-type]
    rec.record(ConfigMap(metadata=ObjectMeta(name="a", namespace="n")), "Normal", "R", "m")
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await rec.close(timeout=0.1)
    assert loop.time() - t0 < 1
