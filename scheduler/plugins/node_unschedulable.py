"""NodeUnschedulable filter: a cordoned node (spec.unschedulable) takes only pods that
tolerate the `node.kubernetes.io/unschedulable:NoSchedule` taint."""
from __future__ import annotations

from typing import Any

from scheduler.framework import CycleState, Status, unschedulable
from scheduler.nodeinfo import UNSCHEDULABLE_TAINT_KEY, NodeInfo, Taint
from scheduler.plugins.taint_toleration import tolerates
from scheduler.podinfo import PodInfo

NAME = "NodeUnschedulable"
ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"
_TAINT = Taint(UNSCHEDULABLE_TAINT_KEY, "", "NoSchedule")
_FAIL = unschedulable(NAME, ERR_REASON_UNSCHEDULABLE, resolvable=False)


def node_unschedulable(state: CycleState, pod: PodInfo, node_info: NodeInfo) -> Status | None:
    if not node_info.unschedulable:
        return None
    if any(tolerates(t, _TAINT) for t in pod.tolerations):
        return None
    return _FAIL


class NodeUnschedulable:
    NAME = NAME
    filter = staticmethod(node_unschedulable)


def new(args: Any = None) -> NodeUnschedulable:
    return NodeUnschedulable()
