"""Node IPAM against the in-process apiserver: 20 nodes get 20 distinct /24s of the
cluster CIDR; a restarted controller keeps them and never hands one out twice."""
from __future__ import annotations

import asyncio
import ipaddress

from api.models import Node
from client.rest import Client
from controllers.base import SharedInformers
from controllers.nodeipam import NodeIpamController
from tests.support.sim_nodes import wait_for


async def cidrs(kube: Client) -> dict[str, str | None]:
    return {n.name: (n.spec.pod_cidr if n.spec else None) for n in (await kube.list(Node)).items}


async def run_ipam(kube: Client) -> tuple[SharedInformers, asyncio.Task[None]]:
    informers = SharedInformers(kube)
    c = NodeIpamController(kube, informers, cluster_cidr="10.244.0.0/16")
    await informers.start_all()
    return informers, asyncio.create_task(c.run())


async def stop(informers: SharedInformers, task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await informers.stop_all()


async def test_twenty_nodes_get_unique_24s(kube: Client) -> None:
    informers, task = await run_ipam(kube)
    try:
        await asyncio.gather(*(kube.create(Node.from_dict({"metadata": {"name": f"node-{i:02d}"}}))
                               for i in range(20)))

        async def all_assigned() -> dict[str, str | None] | None:
            got = await cidrs(kube)
            return got if len(got) == 20 and all(got.values()) else None
        got = await wait_for(all_assigned, what="20 podCIDRs")
        nets = [ipaddress.ip_network(c) for c in got.values() if c]
        assert len(set(nets)) == 20
        assert all(n.prefixlen == 24 and n.subnet_of(ipaddress.ip_network("10.244.0.0/16"))
                   for n in nets)
        for n in (await kube.list(Node)).items:
            assert n.spec is not None and n.spec.pod_cidrs == [n.spec.pod_cidr]
    finally:
        await stop(informers, task)

    # a new controller rebuilds the used set from the nodes: new nodes get fresh ranges
    informers, task = await run_ipam(kube)
    try:
        await kube.delete(Node, "node-00")
        await asyncio.gather(*(kube.create(Node.from_dict({"metadata": {"name": f"extra-{i}"}}))
                               for i in range(3)))

        async def extras() -> dict[str, str | None] | None:
            got = await cidrs(kube)
            return got if all(got.get(f"extra-{i}") for i in range(3)) else None
        got = await wait_for(extras, what="podCIDRs after restart")
        assert len(set(got.values())) == len(got) == 22
    finally:
        await stop(informers, task)
