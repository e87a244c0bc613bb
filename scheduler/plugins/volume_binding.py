"""VolumeBinding: a pod's PersistentVolumeClaims must be usable on the node.

PreFilter: a pod without claims skips the plugin; a claim that is missing, being deleted
or unbound in an Immediate class makes the pod unschedulable everywhere (kube-scheduler's
messages). Filter: a bound claim's volume must admit the node by its node affinity ("node(s)
had volume node affinity conflict"; a volume that does not exist: "node(s) unavailable due
to one or more pvc(s) bound to non-existent pv(s)"); an unbound WaitForFirstConsumer claim
needs a matching Available volume on the node or a class that provisions ("node(s) didn't
find available persistent volumes to bind"). The binding itself runs after the node is
chosen (scheduler/volumebinding.py). Without a `VolumeCache` (use_volumes) it skips.
"""
from __future__ import annotations

from typing import Any

from api.volumematch import find_matching_volume, node_fits
from scheduler.framework import CycleState, Status, skip, unschedulable
from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo
from scheduler.volumebinding import ClaimError, PodClaims, VolumeCache, claim_names

NAME = "VolumeBinding"
ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind"
ERR_REASON_NODE_CONFLICT = "node(s) had volume node affinity conflict"
ERR_REASON_PV_NOT_EXIST = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
_SKIP = skip(NAME)
_STATE = "VolumeBinding"


class VolumeBinding:
    NAME = NAME

    def __init__(self) -> None:
        self.volumes: VolumeCache | None = None

    def use_volumes(self, volumes: VolumeCache) -> None:
        self.volumes = volumes

    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status | None:
        if self.volumes is None or not claim_names(pod.obj):
            return _SKIP
        try:
            claims = self.volumes.pod_claims(pod.obj)
        except ClaimError as e:
            return unschedulable(NAME, str(e), resolvable=False)
        state.write(_STATE, claims)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> Status | None:
        claims: PodClaims = state.read(_STATE)
        assert self.volumes is not None
        node = (node_info.name, node_info.labels)
        for _, pv in claims.bound:
            if pv is None:
                return unschedulable(NAME, ERR_REASON_PV_NOT_EXIST, resolvable=False)
            if not node_fits(pv, node):
                return unschedulable(NAME, ERR_REASON_NODE_CONFLICT, resolvable=False)
        chosen: set[str] = set()
        volumes = list(self.volumes.volumes.values())
        for claim in claims.to_bind:
            pv = find_matching_volume(claim, volumes, node, excluded=chosen)
            if pv is not None:
                chosen.add(pv.name)
            elif not self.volumes.can_provision(claim):
                return unschedulable(NAME, ERR_REASON_BIND_CONFLICT)
        return None


def new(args: Any = None) -> VolumeBinding:
    return VolumeBinding()
