"""Service ClusterIP and NodePort allocation.

Owns two in-memory allocators, rebuilt from the stored Services when the apiserver starts.
Allocation is a synchronous pick-and-mark (no await inside), so concurrent creates in this
event loop can never get the same address or port; the caller releases on failed writes
and on delete. 10.96.0.1 (the first address) is reserved for the `kubernetes` Service.
"""
from __future__ import annotations

import ipaddress
import random


class AllocationError(Exception):
    pass


class IPAllocator:
    def __init__(self, cidr: str) -> None:
        self.net = ipaddress.ip_network(cidr)
        self._first = int(self.net.network_address) + 1
        self._last = int(self.net.broadcast_address) - 1
        self.used: set[int] = set()

    @property
    def kubernetes_ip(self) -> str:
        return str(ipaddress.ip_address(self._first))

    @property
    def dns_ip(self) -> str:
        """The tenth address, where cluster DNS lives (10.96.0.10)."""
        return str(ipaddress.ip_address(self._first + 9))

    def allocate(self, want: str | None = None) -> str:
        if want:
            n = int(ipaddress.ip_address(want))
            if not (self._first <= n <= self._last):
                raise AllocationError(
                    f"the provided IP ({want}) is not in the valid range. The range of valid IPs is {self.net}")
            if n in self.used:
                raise AllocationError(
                    f"failed to allocate IP {want}: provided IP is already allocated")
            self.used.add(n)
            return want
        size = self._last - self._first + 1
        if len(self.used) >= size:
            raise AllocationError("range is full")
        # random start, then linear probe (kube's allocator also picks at random); skip the
        # first 16 addresses for static assignment (kubernetes, dns)
        low = self._first + min(16, size // 2)
        start = random.randint(low, self._last)
        n = start
        while n in self.used:
            n = n + 1 if n < self._last else low
            if n == start:
                raise AllocationError("range is full")
        self.used.add(n)
        return str(ipaddress.ip_address(n))

    def release(self, ip: str | None) -> None:
        if ip and ip != "None":
            try:
                self.used.discard(int(ipaddress.ip_address(ip)))
            except ValueError:
                pass

    def mark(self, ip: str) -> None:
        try:
            n = int(ipaddress.ip_address(ip))
        except ValueError:
            return
        if self._first <= n <= self._last:
            self.used.add(n)


class PortAllocator:
    def __init__(self, low: int = 30000, high: int = 32767) -> None:
        self.low, self.high = low, high
        self.used: set[int] = set()

    def allocate(self, want: int | None = None) -> int:
        if want:
            if not (self.low <= want <= self.high):
                raise AllocationError(
                    f"provided port is not in the valid range. The range of valid ports is {self.low}-{self.high}")
            if want in self.used:
                raise AllocationError("provided port is already allocated")
            self.used.add(want)
            return want
        free = self.high - self.low + 1 - len(self.used)
        if free <= 0:
            raise AllocationError("range is full")
        start = random.randint(self.low, self.high)
        p = start
        while p in self.used:
            p = p + 1 if p < self.high else self.low
        self.used.add(p)
        return p

    def release(self, port: int | None) -> None:
        if port:
            self.used.discard(port)

    def mark(self, port: int) -> None:
        self.used.add(port)
