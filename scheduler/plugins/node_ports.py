"""NodePorts filter: a pod's hostPorts must be free on the node.

Kubernetes' HostPortInfo rule: a port is taken for (protocol, port) when the same IP uses
it, or when either side binds 0.0.0.0 (every address).
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from scheduler.framework import CycleState, Status, skip, unschedulable
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import HostPort, PodInfo

NAME = "NodePorts"
ERR_REASON = "node(s) didn't have free ports for the requested pod ports"
_FAIL = unschedulable(NAME, ERR_REASON)
_SKIP = skip(NAME)
ANY_IP = "0.0.0.0"


def port_conflicts(wanted: tuple[HostPort, ...], used: Counter[HostPort]) -> bool:
    if not used:
        return False
    for want in wanted:
        if want.ip == ANY_IP:
            if any(u.protocol == want.protocol and u.port == want.port for u in used):
                return True
        elif want in used or HostPort(ANY_IP, want.protocol, want.port) in used:
            return True
    return False


class NodePorts:
    NAME = NAME

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status | None:
        return None if pod.host_ports else _SKIP

    def filter(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> Status | None:
        return _FAIL if port_conflicts(pod.host_ports, node_info.used_ports) else None


def new(args: Any = None) -> NodePorts:
    return NodePorts()
