"""Many hollow kubelets in one process: all register Ready and run the pods bound to them."""
from __future__ import annotations

import asyncio
import ipaddress
import time
from pathlib import Path

from api.models import Node, Pod
from client.rest import Client
from kubelet.hollow import HollowNodes, pod_cidrs
from tests.integration.kubelet.conftest import pod_body, ready


def test_pod_cidrs() -> None:
    assert pod_cidrs("10.244.0.0/16", 3) == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"]


async def test_hollow_nodes_run_pods(client: Client, tmp_path: Path) -> None:
    count = 200   # "hundreds of hollow kubelets fit in one process"
    nodes = HollowNodes(client.config, count, tmp_path, start_delay=0.05, cidr_base="10.251.0.0/16",
                        relist_period=0.5, lease_interval=5)
    await nodes.start()
    try:
        listed = await client.list(Node)
        assert len(listed.items) == count
        assert all(any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])
                   for n in listed.items if n.status)
        ports = {n.status.daemon_endpoints.kubelet_endpoint.port for n in listed.items  # type: ignore[union-attr]
                 if n.status}
        assert len(ports) == count  # each hollow kubelet serves on its own free port
        for i in range(count * 2):
            await client.create(pod_body(f"p{i}", node=f"hollow-node-{i % count}"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pods = (await client.list(Pod, "default")).items
            if sum(ready(p) for p in pods) == count * 2:
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError(f"only {sum(ready(p) for p in pods)} of {count * 2} pods Ready")
        for p in pods:
            assert p.spec is not None and p.status is not None and p.status.pod_ip
            i = int((p.spec.node_name or "").rsplit("-", 1)[1])
            assert ipaddress.ip_address(p.status.pod_ip) in ipaddress.ip_network(f"10.251.{i}.0/24")
    finally:
        await nodes.stop()
