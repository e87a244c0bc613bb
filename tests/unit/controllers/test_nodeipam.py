"""Node IPAM: the CIDR allocator and the controller's use of it."""
from __future__ import annotations

import pytest

from api.models import Node
from controllers.nodeipam import CIDRAllocator, CIDRRangeFull, NodeIpamController
from tests.support.controller_fakes import RecordingClient, informers_for, obj, seed


def test_allocates_unique_24s_round_robin() -> None:
    a = CIDRAllocator("10.244.0.0/16", 24)
    got = [a.allocate() for _ in range(3)]
    assert got == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"]
    a.release("10.244.1.0/24")
    assert a.allocate() == "10.244.3.0/24"          # round robin: not reused at once
    assert len({a.allocate() for _ in range(252)}) == 252
    assert a.allocate() == "10.244.1.0/24"           # the freed one, last
    with pytest.raises(CIDRRangeFull):
        a.allocate()


def test_occupy_outside_range_is_ignored() -> None:
    a = CIDRAllocator("10.244.0.0/23", 24)
    assert not a.occupy("192.168.0.0/24")
    assert not a.occupy("10.244.0.0/25")
    assert a.occupy("10.244.1.0/24")
    assert a.allocate() == "10.244.0.0/24"
    with pytest.raises(CIDRRangeFull):
        a.allocate()


def test_bad_mask() -> None:
    with pytest.raises(ValueError):
        CIDRAllocator("10.244.0.0/16", 8)


async def test_controller_rebuilds_then_assigns_and_releases() -> None:
    client = RecordingClient()
    informers = informers_for(client)
    c = NodeIpamController(client, informers)     # type: ignore[arg-type]
    old = obj(Node, "old", spec={"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]})
    new = obj(Node, "new")
    seed(informers, old, new)
    await c.started()
    await c.reconcile("new")
    (patch,) = client.verbs("patch")
    assert patch[1] == "Node/new"
    assert patch[2] == {"spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]}}
    await c.reconcile("new")                    # cache not caught up: same range again
    assert client.verbs("patch")[-1][2] == patch[2]
    assert len(c.allocator) == 2
    informers.get(Node).store.remove("old")
    await c.reconcile("old")
    assert len(c.allocator) == 1
