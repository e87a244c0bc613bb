"""Endpoints controller against the in-process apiserver: addresses follow pod readiness,
named target ports resolve per pod, and Endpoints go with their Service."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from api.models import Endpoints, Pod, Service
from client.errors import NotFound
from client.rest import Client
from controllers.base import SharedInformers
from controllers.endpoints import EndpointsController
from tests.support.sim_nodes import wait_for
from tests.support.waits import reconciles


@contextlib.asynccontextmanager
async def running(c: EndpointsController, informers: SharedInformers) -> AsyncIterator[None]:
    await informers.start_all()
    task = asyncio.create_task(c.run(2))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def make_pod(kube: Client, name: str, ip: str, ready: bool,
                   ports: list[dict[str, Any]]) -> None:
    await kube.create(Pod.from_dict({
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "nginx", "ports": ports}]}}))
    await set_ready(kube, name, ready, ip)


async def set_ready(kube: Client, name: str, ready: bool, ip: str | None = None) -> None:
    body = (await kube.get(Pod, name, "default")).to_dict()
    st = body.setdefault("status", {})
    st["phase"] = "Running"
    if ip:
        st["podIP"] = ip
    st["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
    await kube.update_status(Pod.from_dict(body))


async def subsets(kube: Client, name: str = "web") -> list[dict[str, Any]] | None:
    try:
        ep = await kube.get(Endpoints, name, "default")
    except NotFound:
        return None
    return [s.to_dict() for s in ep.subsets or []]


def ips(subs: list[dict[str, Any]] | None, key: str = "addresses") -> dict[int, list[str]]:
    return {s["ports"][0]["port"]: sorted(a["ip"] for a in s.get(key, []))
            for s in subs or [] if s.get(key)}


async def test_endpoints_follow_readiness_and_named_ports(kube: Client,
                                                          informers: SharedInformers) -> None:
    kube_ep_before = await subsets(kube, "kubernetes")
    c = EndpointsController(kube, informers)
    async with running(c, informers):
        await kube.create(Service.from_dict({
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"},
                     "ports": [{"name": "http", "port": 80, "targetPort": "http-web"}]}}))
        await make_pod(kube, "a", "10.244.1.5", True, [{"name": "http-web", "containerPort": 8080}])
        await make_pod(kube, "b", "10.244.2.5", False, [{"name": "http-web", "containerPort": 8080}])
        await make_pod(kube, "c", "10.244.3.5", True, [{"name": "http-web", "containerPort": 9000}])
        await make_pod(kube, "d", "10.244.4.5", True, [{"name": "metrics", "containerPort": 9100}])

        async def expected() -> bool:
            s = await subsets(kube)
            return ips(s) == {8080: ["10.244.1.5"], 9000: ["10.244.3.5"]} and \
                ips(s, "notReadyAddresses") == {8080: ["10.244.2.5"]}
        await wait_for(expected, what="initial endpoints")
        s = await subsets(kube) or []
        addr = next(a for sub in s for a in sub.get("addresses", []) if a["ip"] == "10.244.1.5")
        assert addr["targetRef"]["kind"] == "Pod" and addr["targetRef"]["name"] == "a"

        await set_ready(kube, "b", True)
        await set_ready(kube, "a", False)

        async def flipped() -> bool:
            s = await subsets(kube)
            return ips(s) == {8080: ["10.244.2.5"], 9000: ["10.244.3.5"]} and \
                ips(s, "notReadyAddresses") == {8080: ["10.244.1.5"]}
        await wait_for(flipped, what="readiness flip")

        ep = await kube.get(Endpoints, "web", "default")
        seen = reconciles(c, lambda key: key == "default/web")
        await kube.patch(Pod, "d", {"metadata": {"labels": {"touched": "yes"}}}, "default")
        await wait_for(lambda: len(seen) >= 1, what="a reconcile of the unchanged service")
        # nothing changed: no write
        assert (await kube.get(Endpoints, "web", "default")).metadata.resource_version == \
            ep.metadata.resource_version

        await kube.delete(Pod, "c", "default")
        await wait_for(lambda: _no_port(kube, 9000), what="pod c gone from endpoints")

        await kube.delete(Service, "web", "default")
        await wait_for(lambda: _gone(kube), what="endpoints removed with the service")
        assert await subsets(kube, "kubernetes") == kube_ep_before


async def _no_port(kube: Client, port: int) -> bool:
    return port not in ips(await subsets(kube))


async def _gone(kube: Client) -> bool:
    return await subsets(kube) is None
