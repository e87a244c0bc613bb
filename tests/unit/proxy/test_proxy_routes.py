"""host-gw routes: the pure decision and the commands a sync issues."""
from __future__ import annotations

import json
from typing import Any

from api.models import Node
from kubelet.proxy.routes import (EXEMPT_COMMENT, ROUTE_PROTO, RouteManager, desired_routes, exemption_spec,
                                  route_changes)


def node(name: str, ip: str | None, cidr: str | None) -> Node:
    d: dict[str, Any] = {"metadata": {"name": name}, "spec": {}, "status": {}}
    if cidr:
        d["spec"]["podCIDR"] = cidr
    if ip:
        d["status"]["addresses"] = [{"type": "Hostname", "address": name}, {"type": "InternalIP", "address": ip}]
    return Node.from_dict(d)


def test_desired_routes_skip_self_and_incomplete_nodes() -> None:
    nodes = [node("n1", "172.31.1.11", "10.244.1.0/24"), node("n2", "172.31.1.12", "10.244.2.0/24"),
             node("n3", None, "10.244.3.0/24"), node("n4", "172.31.1.14", None)]
    assert desired_routes(nodes, "n1") == {"10.244.2.0/24": "172.31.1.12"}


def test_route_changes() -> None:
    put, delete = route_changes({"10.244.2.0/24": "172.31.1.12", "10.244.3.0/24": "172.31.1.13"},
                                {"10.244.2.0/24": "172.31.1.99", "10.244.4.0/24": "172.31.1.14"})
    assert put == {"10.244.2.0/24": "172.31.1.99", "10.244.4.0/24": "172.31.1.14"}
    assert delete == ["10.244.3.0/24"]


def test_exemption_spec_lets_marked_packets_through() -> None:
    spec = exemption_spec("10.244.0.0/16")
    assert spec[:4] == ["-s", "10.244.0.0/16", "-d", "10.244.0.0/16"]
    assert "!" in spec and "0x4000/0x4000" in spec and EXEMPT_COMMENT in spec and spec[-1] == "RETURN"


class FakeRunner:
    """Answers `ip route show` from a dict and records every other command."""

    def __init__(self) -> None:
        self.routes: dict[str, str] = {}
        self.rules: list[list[str]] = []
        self.calls: list[tuple[str, ...]] = []

    async def run(self, *argv: str, stdin: str | None = None, check: bool = True) -> tuple[int, str, str]:
        self.calls.append(argv)
        if argv[:4] == ("ip", "-4", "-j", "route"):
            return 0, json.dumps([{"dst": d, "gateway": g, "protocol": ROUTE_PROTO} for d, g in self.routes.items()]), ""
        if argv[:3] == ("ip", "route", "replace"):
            self.routes[argv[3]] = argv[5]
        elif argv[:3] == ("ip", "route", "del"):
            self.routes.pop(argv[3], None)
        elif argv[0] == "iptables":
            op, spec = argv[5], list(argv[8:]) if argv[5] == "-I" else list(argv[7:])
            if op == "-C":
                return (0 if spec in self.rules else 1), "", ""
            if op == "-I":
                self.rules.insert(0, spec)
            elif op == "-D":
                self.rules.remove(spec)
        return 0, "", ""


async def test_sync_and_cleanup() -> None:
    runner = FakeRunner()
    rm = RouteManager(None, "n1", "10.244.0.0/16", runner)  # type: ignore[arg-type]
    for n in (node("n1", "172.31.1.11", "10.244.1.0/24"), node("n2", "172.31.1.12", "10.244.2.0/24"),
              node("n3", "172.31.1.13", "10.244.3.0/24")):
        rm.on_node(n)
    await rm.sync()
    assert runner.routes == {"10.244.2.0/24": "172.31.1.12", "10.244.3.0/24": "172.31.1.13"}
    assert runner.rules == [exemption_spec("10.244.0.0/16")]
    await rm.sync()                                        # idempotent: no duplicate rule
    assert len(runner.rules) == 1
    rm.on_node_delete(node("n3", "172.31.1.13", "10.244.3.0/24"))
    assert rm._dirty.is_set()
    await rm.sync()
    assert runner.routes == {"10.244.2.0/24": "172.31.1.12"}
    await rm.cleanup()
    assert runner.routes == {} and runner.rules == []


async def test_heartbeat_does_not_dirty() -> None:
    rm = RouteManager(None, "n1", None, FakeRunner())  # type: ignore[arg-type]
    rm.on_node(node("n2", "172.31.1.12", "10.244.2.0/24"))
    rm._dirty.clear()
    rm.on_node(node("n2", "172.31.1.12", "10.244.2.0/24"))
    assert not rm._dirty.is_set()
