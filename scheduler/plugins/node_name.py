"""NodeName filter: a pod that names its node (spec.nodeName) fits only that node."""
from __future__ import annotations

from typing import Any

from scheduler.framework import CycleState, Status, skip, unschedulable
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo

NAME = "NodeName"
ERR_REASON = "node(s) didn't match the requested node name"
_FAIL = unschedulable(NAME, ERR_REASON, resolvable=False)
_SKIP = skip(NAME)


class NodeName:
    NAME = NAME

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status | None:
        return None if pod.node_name else _SKIP

    def filter(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> Status | None:
        if not pod.node_name or pod.node_name == node_info.name:
            return None
        return _FAIL


def new(args: Any = None) -> NodeName:
    return NodeName()
