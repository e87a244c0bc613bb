"""Node registration, status and lease heartbeat of a hollow kubelet against the in-process apiserver."""
from __future__ import annotations

import asyncio
import time

from api.models import Lease, Node
from client.rest import Client
from tests.integration.kubelet.conftest import KubeletFactory
from tests.support.waits import until


def _cond(node: Node, ctype: str) -> dict[str, str]:
    assert node.status is not None
    return next(c.to_dict() for c in node.status.conditions or [] if c.type == ctype)


async def test_node_registers_ready(client: Client, kubelets: KubeletFactory) -> None:
    k = await kubelets("node-1")
    node = await client.get(Node, "node-1")
    assert node.spec is not None and node.spec.pod_cidr == "10.250.1.0/24"
    assert node.status is not None
    ready = _cond(node, "Ready")
    assert ready["status"] == "True" and ready["reason"] == "KubeletReady"
    assert _cond(node, "MemoryPressure")["status"] == "False"
    cap = node.status.capacity or {}
    assert int(cap["cpu"]) >= 1 and cap["memory"].endswith("Ki") and cap["pods"] == "110"
    assert node.status.allocatable == cap
    assert {a.type for a in node.status.addresses or []} == {"InternalIP", "Hostname"}
    assert node.status.daemon_endpoints is not None
    assert node.status.daemon_endpoints.kubelet_endpoint is not None
    assert node.status.daemon_endpoints.kubelet_endpoint.port == k.server.port != 0  # type: ignore[union-attr]
    info = node.status.node_info
    assert info is not None and info.kubelet_version.startswith("v1.") and info.container_runtime_version
    assert (node.metadata.labels or {})["kubernetes.io/hostname"] == "node-1"


async def test_lease_is_renewed(client: Client, kubelets: KubeletFactory) -> None:
    await kubelets("node-1")
    first = await client.get(Lease, "node-1", namespace="kube-node-lease")
    assert first.spec is not None and first.spec.holder_identity == "node-1"
    assert first.spec.lease_duration_seconds == 40
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        cur = await client.get(Lease, "node-1", namespace="kube-node-lease")
        assert cur.spec is not None
        if cur.spec.renew_time != first.spec.renew_time:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the lease was not renewed")


async def test_not_ready_until_pod_cidr_assigned(client: Client, kubelets: KubeletFactory) -> None:
    await kubelets("node-2", pod_cidr=None)
    node = await client.get(Node, "node-2")
    ready = _cond(node, "Ready")
    assert ready["status"] == "False" and ready["reason"] == "KubeletNotReady"
    assert "pod CIDR" in ready["message"]
    # what the node IPAM controller does
    await client.patch(Node, "node-2", {"spec": {"podCIDR": "10.250.9.0/24", "podCIDRs": ["10.250.9.0/24"]}})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if _cond(await client.get(Node, "node-2"), "Ready")["status"] == "True":
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the node did not become Ready once it had a pod CIDR")


async def test_status_is_not_rewritten_when_unchanged(client: Client, kubelets: KubeletFactory) -> None:
    k = await kubelets("node-1")
    rv = (await client.get(Node, "node-1")).metadata.resource_version
    renewed = k.node_status.lease_renewals
    # two lease renewals, each followed by a status check (the third renewal comes after it)
    await until(lambda: k.node_status.lease_renewals >= renewed + 3, what="three lease renewals")
    assert (await client.get(Node, "node-1")).metadata.resource_version == rv


async def test_deleted_node_registers_again(client: Client, kubelets: KubeletFactory) -> None:
    await kubelets("node-1")
    await client.delete(Node, "node-1")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            node = await client.get(Node, "node-1")
            assert _cond(node, "Ready")["status"] == "True"
            return
        except Exception:  # noqa: BLE001 - not back yet
            await asyncio.sleep(0.1)
    raise AssertionError("the node was not registered again")
