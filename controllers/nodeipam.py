"""The node IPAM controller: gives each node its pod range (`spec.podCIDR` / `podCIDRs`),
one /24 (--node-cidr-mask-size) of --cluster-cidr (10.244.0.0/16), as Kubernetes' range
allocator does.

`CIDRAllocator` is the pure part: a set of taken subnets of the cluster range, allocating
the next free one round-robin. The controller rebuilds it from every node's podCIDR once
the cache synced (`started`), then allocates in a single worker, so two nodes can never get
the same range. A range is released when its node is deleted.

Invariants:
- A node that already has a podCIDR keeps it (it is immutable); it is only marked taken.
- A node we assigned but whose update our cache has not shown yet gets the same range
  again, never a second one.
"""
from __future__ import annotations

import ipaddress
import logging
from typing import Any

from api.models import Node
from client.errors import NotFound
from controllers.base import Controller

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class CIDRRangeFull(Exception):
    """No free subnet is left in the cluster CIDR."""


class CIDRAllocator:
    def __init__(self, cluster_cidr: str = "10.244.0.0/16", mask_size: int = 24) -> None:
        self.cluster = ipaddress.ip_network(cluster_cidr, strict=False)
        if mask_size < self.cluster.prefixlen or mask_size > self.cluster.max_prefixlen:
            raise ValueError(f"node mask /{mask_size} does not fit in {self.cluster}")
        self.mask_size = mask_size
        self.size = 2 ** (mask_size - self.cluster.prefixlen)
        self._step = 2 ** (self.cluster.max_prefixlen - mask_size)
        self._used: set[int] = set()
        self._next = 0

    def _index(self, cidr: str) -> int | None:
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return None
        if net.version != self.cluster.version or net.prefixlen != self.mask_size or \
                not net.subnet_of(self.cluster):  # type: ignore[arg-type]
            return None
        return (int(net.network_address) - int(self.cluster.network_address)) // self._step

    def _cidr(self, index: int) -> str:
        base = int(self.cluster.network_address) + index * self._step
        return str(ipaddress.ip_network((base, self.mask_size)))

    def occupy(self, cidr: str) -> bool:
        """Mark a range taken (a node already has it); False when outside the cluster CIDR."""
        i = self._index(cidr)
        if i is None:
            return False
        self._used.add(i)
        return True

    def release(self, cidr: str) -> None:
        i = self._index(cidr)
        if i is not None:
            self._used.discard(i)

    def allocate(self) -> str:
        if len(self._used) >= self.size:
            raise CIDRRangeFull(f"no free /{self.mask_size} left in {self.cluster}")
        for k in range(self.size):
            i = (self._next + k) % self.size
            if i not in self._used:
                self._used.add(i)
                self._next = (i + 1) % self.size
                return self._cidr(i)
        raise CIDRRangeFull(f"no free /{self.mask_size} left in {self.cluster}")

    def __len__(self) -> int:
        return len(self._used)


class NodeIpamController(Controller):
    NAME = "node-ipam-controller"

    def __init__(self, *args: Any, cluster_cidr: str = "10.244.0.0/16",
                 node_cidr_mask_size: int = 24, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.allocator = CIDRAllocator(cluster_cidr, node_cidr_mask_size)
        self.nodes = self.watch(Node)
        self._assigned: dict[str, str] = {}      # node name -> range it holds

    async def started(self) -> None:
        for node in self.nodes.store.list():
            cidr = node.spec.pod_cidr if node.spec else None
            if cidr and self.allocator.occupy(cidr):
                self._assigned[node.name] = cidr

    async def run(self, workers: int = 1) -> None:
        await super().run(1)                     # allocation must be serial

    async def reconcile(self, name: str) -> None:
        node: Node | None = self.nodes.store.get(name)
        if node is None:
            cidr = self._assigned.pop(name, None)
            if cidr is not None:
                self.allocator.release(cidr)
                log.info("node %s gone: released %s", name, cidr)
            return
        have = node.spec.pod_cidr if node.spec else None
        if have:
            old = self._assigned.get(name)
            if old != have:
                if old is not None:
                    self.allocator.release(old)
                if self.allocator.occupy(have):
                    self._assigned[name] = have
            return
        cidr = self._assigned.get(name)
        if cidr is None:
            cidr = self.allocator.allocate()
            self._assigned[name] = cidr
        try:
            await self.client.patch(Node, name, {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}})
        except NotFound:
            return                               # its delete event releases the range
        log.info("node %s: podCIDR %s", name, cidr)
