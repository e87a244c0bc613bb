"""client.informer against the in-memory fake apiserver: list+watch, relist diffs after a
cut stream or 410, backoff, resync, handler isolation."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from client_fakeapi import FakeAPI, status

from api.models import ConfigMap, ObjectMeta
from client.informer import Informer


def cm(name: str, ns: str = "default", **data: str) -> ConfigMap:
    return ConfigMap(metadata=ObjectMeta(name=name, namespace=ns), data=data or None)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def attach(self, inf: Informer) -> None:
        inf.add_handlers(on_add=lambda o: self.events.append(("add", o.key)),
                         on_update=lambda a, b: self.events.append(("update", b.key)),
                         on_delete=lambda o: self.events.append(("delete", o.key)))

    def take(self) -> list[tuple[str, str]]:
        out, self.events = self.events, []
        return out


async def until(cond: Callable[[], bool], timeout: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "condition not met in time"
        await asyncio.sleep(0.005)


async def test_list_then_watch(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        await c.create(cm("a"))
        await c.create(cm("b", ns="other"))
        inf = Informer(c, ConfigMap)
        rec = Recorder()
        rec.attach(inf)
        async with inf:
            assert await inf.wait_synced(2)
            assert sorted(rec.take()) == [("add", "default/a"), ("add", "other/b")]
            watch = fake_api.requests[-1]
            assert watch.url.params["allowWatchBookmarks"] == "true"
            assert watch.url.params["resourceVersion"] == inf.resource_version
            await c.patch(ConfigMap, "a", {"data": {"k": "v"}})
            await c.delete(ConfigMap, "b", namespace="other")
            await c.create(cm("c"))
            await until(lambda: len(rec.events) == 3)
            assert rec.take() == [("update", "default/a"), ("delete", "other/b"),
                                  ("add", "default/c")]
            assert inf.store.get("default/a").data == {"k": "v"}
            assert sorted(inf.store.keys()) == ["default/a", "default/c"]
            assert sorted(o.name for o in inf.store.by_index("namespace", "default")) == ["a", "c"]
        assert inf.relists == 1


async def test_namespaced_informer(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        await c.create(cm("a", ns="x"))
        await c.create(cm("b", ns="y"))
        async with Informer(c, ConfigMap, "x") as inf:
            await inf.wait_synced(2)
            assert inf.store.keys() == ["x/a"]
            assert fake_api.requests[-1].url.path == "/api/v1/namespaces/x/configmaps"


async def test_relist_after_cut_fires_the_diff(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        for n in "abc":
            await c.create(cm(n))
        inf = Informer(c, ConfigMap, backoff_base=0.1)
        rec = Recorder()
        rec.attach(inf)
        async with inf:
            await inf.wait_synced(2)
            rec.take()
            fake_api.cut_watches()
            # while the informer backs off, the world changes and history is compacted
            await c.delete(ConfigMap, "a")
            await c.patch(ConfigMap, "b", {"data": {"x": "1"}})
            await c.create(cm("d"))
            fake_api.compact()
            fake_api.history.clear()        # the watch cannot replay: only a relist helps
            await until(lambda: inf.relists == 2)
            assert sorted(rec.take()) == [("add", "default/d"), ("delete", "default/a"),
                                          ("update", "default/b")]
            assert sorted(inf.store.keys()) == ["default/b", "default/c", "default/d"]


async def test_clean_end_rewatches_and_410_relists(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        await c.create(cm("a"))
        rec = Recorder()
        inf = Informer(c, ConfigMap, backoff_base=0.01)
        rec.attach(inf)
        async with inf:
            await inf.wait_synced(2)
            await c.create(cm("b"))
            await until(lambda: len(rec.events) == 2)
            opens = fake_api.watch_opens
            fake_api.end_watches()          # server timeout: re-watch, no relist
            await until(lambda: fake_api.watch_opens == opens + 1)
            assert inf.relists == 1
            await c.create(cm("c"))
            await until(lambda: inf.store.get("default/c") is not None)
            fake_api.rv += 5                # writes elsewhere, then compaction past our rv
            fake_api.compact()
            fake_api.end_watches()          # re-watch from an old rv -> 410 -> relist
            await until(lambda: inf.relists == 2)
            await c.create(cm("d"))
            await until(lambda: inf.store.get("default/d") is not None)
            assert [e for e in rec.events if e[0] != "add"] == []


async def test_backoff_grows_while_listing_fails(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        for _ in range(4):
            fake_api.inject("GET", 500, status(500, "InternalError", "db down"))
        inf = Informer(c, ConfigMap, backoff_base=0.02, backoff_cap=0.05)
        async with inf:
            assert await inf.wait_synced(3)
        gets = [t for r, t in zip(fake_api.requests, fake_api.times) if r.method == "GET"]
        gaps = [b - a for a, b in zip(gets, gets[1:])][:4]
        assert gaps[0] >= 0.018 and gaps[1] >= 0.038 and gaps[2] >= 0.045
        assert gaps[3] < 0.2                # capped


async def test_resync_and_handler_errors(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        await c.create(cm("a"))
        seen: list[tuple[str, Any]] = []

        def bad_add(obj: Any) -> None:
            raise RuntimeError("handler bug")

        async def on_update(old: Any, new: Any) -> None:
            seen.append(("update", old is new))

        inf = Informer(c, ConfigMap, resync_period=0.05)
        inf.add_handlers(on_add=bad_add)
        inf.add_handlers(on_update=on_update)
        async with inf:
            await inf.wait_synced(2)
            await until(lambda: len(seen) >= 2)
            assert all(same for _, same in seen)        # resync: on_update(obj, obj)
            await c.create(cm("b"))                     # still alive after the bad handler
            await until(lambda: inf.store.get("default/b") is not None)


async def test_late_handlers_get_existing_objects(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        await c.create(cm("a"))
        async with Informer(c, ConfigMap) as inf:
            await inf.wait_synced(2)
            rec = Recorder()
            rec.attach(inf)
            assert rec.take() == [("add", "default/a")]


async def test_raw_informer_with_resource_info(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        await c.create(cm("a"))
        async with Informer(c, ConfigMap.RESOURCE) as inf:
            await inf.wait_synced(2)
            assert inf.store.get("default/a")["kind"] == "ConfigMap"
            await c.delete(ConfigMap, "a")
            await until(lambda: len(inf.store) == 0)
