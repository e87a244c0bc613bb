"""The informer under churn against the real (in-process) apiserver: 1,000 ConfigMaps
created, updated and deleted while the watch stream is cut twice (each cut resumes the watch
from the last resourceVersion, no relist); the cache, and a mirror
kept only from the handlers' add/update/delete calls, end equal to the server's list."""
from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from api.models import ConfigMap, Namespace, ObjectMeta
from client.informer import Informer
from client.rest import Client

NS = "churn"
TOTAL = 1000


async def bounded(jobs: Iterable[Callable[[], Awaitable[Any]]], limit: int = 32) -> None:
    sem = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> None:
        async with sem:
            await job()

    await asyncio.gather(*(one(j) for j in jobs))


async def server_state(kube: Client) -> dict[str, str]:
    lst = await kube.list_all(ConfigMap, NS, page_size=250)
    return {o.key: o.metadata.resource_version or "" for o in lst.items}


async def test_informer_converges_under_churn_with_cut_watches(
        kube: Client, cuttable: tuple[Client, Any]) -> None:
    inf_client, transport = cuttable
    rnd = random.Random(7)
    await kube.create(Namespace(metadata=ObjectMeta(name=NS)))

    def create(i: int) -> Callable[[], Awaitable[Any]]:
        return lambda: kube.create(ConfigMap(metadata=ObjectMeta(name=f"cm-{i:04d}",
                                                                 namespace=NS),
                                             data={"v": "0"}))

    def update(i: int, v: int) -> Callable[[], Awaitable[Any]]:
        return lambda: kube.patch(ConfigMap, f"cm-{i:04d}", {"data": {"v": str(v)}}, NS)

    def delete(i: int) -> Callable[[], Awaitable[Any]]:
        return lambda: kube.delete(ConfigMap, f"cm-{i:04d}", NS)

    # 300 exist before the informer starts: the first list is paginated (page_size=100)
    await bounded(create(i) for i in range(300))

    mirror: dict[str, str] = {}
    counts = {"add": 0, "update": 0, "delete": 0}

    def on_add(o: ConfigMap) -> None:
        assert o.key not in mirror, f"add of a key already present: {o.key}"
        mirror[o.key] = o.metadata.resource_version or ""
        counts["add"] += 1

    def on_update(old: ConfigMap, new: ConfigMap) -> None:
        assert old.key in mirror and old.key == new.key
        mirror[new.key] = new.metadata.resource_version or ""
        counts["update"] += 1

    def on_delete(o: ConfigMap) -> None:
        assert mirror.pop(o.key, None) is not None, f"delete of an unknown key: {o.key}"
        counts["delete"] += 1

    inf = Informer(inf_client, ConfigMap, NS, page_size=100)
    inf.add_handlers(on_add, on_update, on_delete)
    await inf.start()
    try:
        assert await inf.wait_synced(10)
        assert len(inf.store) == 300

        alive = set(range(300))
        next_id = 300
        for phase in range(3):
            # creates up to 1,000 in all, updates and deletes among the living
            n_new = (TOTAL - 300) // 3 + (1 if phase == 0 else 0)
            new_ids = list(range(next_id, next_id + n_new))
            next_id += n_new
            jobs = [create(i) for i in new_ids]
            to_update = rnd.sample(sorted(alive), 120)
            to_delete = rnd.sample(sorted(alive - set(to_update)), 90)
            jobs += [update(i, phase + 1) for i in to_update]
            jobs += [delete(i) for i in to_delete]
            rnd.shuffle(jobs)
            half = len(jobs) // 2
            await bounded(jobs[:half])
            if phase < 2:
                transport.cut()   # the rest happens while the informer is disconnected
            await bounded(jobs[half:])
            alive = (alive | set(new_ids)) - set(to_delete)
            # and a few more updates once the informer is (most likely) reconnected
            await bounded(update(i, 9) for i in rnd.sample(sorted(alive), 20))
        assert next_id == TOTAL
        assert transport.cuts == 2

        want = await server_state(kube)
        assert len(want) == len(alive)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while True:
            cache = {o.key: o.metadata.resource_version or "" for o in inf.store.list()}
            if cache == want and mirror == want:
                break
            assert loop.time() < deadline, (
                f"cache not converged: {len(cache)} cached, {len(want)} on the server, "
                f"{len(set(cache) ^ set(want))} keys differ")
            await asyncio.sleep(0.05)
        assert inf.relists == 1            # each cut resumed the watch from the last resourceVersion
        assert counts["add"] - counts["delete"] == len(want)
        assert counts["delete"] > 0 and counts["update"] > 0
        assert sorted(o.name for o in inf.store.by_index("namespace", NS)) == \
            sorted(k.split("/")[1] for k in want)
    finally:
        await inf.stop()
