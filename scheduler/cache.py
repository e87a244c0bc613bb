"""The scheduler cache: every node's `NodeInfo`, the pods placed on them, assumed pods.

Owns where each pod counts: pods the informer reports bound (spec.nodeName set, not
terminated) and pods the scheduler *assumed* onto a node before its binding landed. An
assumed pod counts at once, so the next cycle sees the node fuller; it is confirmed when
the informer reports it bound, forgotten when its binding fails, and expires `ttl` seconds
after its binding finished if the informer never confirmed it (a lost watch event).

Invariants: a pod key is on at most one NodeInfo; `nodes()` lists the NodeInfos of known
nodes in a stable order (the snapshot a cycle filters over), rebuilt only when a node
comes or goes. Single event loop, no locks: a cycle runs without awaiting, so it always
sees one consistent state.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo

log = logging.getLogger(__name__)

DEFAULT_ASSUMED_TTL = 30.0


@dataclass(slots=True)
class _PodState:
    pod: PodInfo
    node: str
    assumed: bool = False
    deadline: float | None = None      # set when an assumed pod's binding finished


class Cache:
    def __init__(self, assumed_ttl: float = DEFAULT_ASSUMED_TTL) -> None:
        self.assumed_ttl = assumed_ttl
        self._nodes: dict[str, NodeInfo] = {}
        self._pods: dict[str, _PodState] = {}
        self._list: list[NodeInfo] | None = None

    # ---------------------------------------------------------------- reads
    def nodes(self) -> list[NodeInfo]:
        """NodeInfos of known nodes, in a stable order (do not mutate the list)."""
        if self._list is None:
            self._list = [ni for ni in self._nodes.values() if ni.node is not None]
        return self._list

    def node(self, name: str) -> NodeInfo | None:
        ni = self._nodes.get(name)
        return ni if ni is not None and ni.node is not None else None

    def node_count(self) -> int:
        return len(self.nodes())

    def is_assumed(self, key: str) -> bool:
        st = self._pods.get(key)
        return st is not None and st.assumed

    def pod_node(self, key: str) -> str | None:
        st = self._pods.get(key)
        return st.node if st is not None else None

    def pod_count(self) -> int:
        return len(self._pods)

    # ---------------------------------------------------------------- nodes
    def add_node(self, node: dict[str, Any]) -> NodeInfo:
        name = (node.get("metadata") or {}).get("name") or ""
        ni = self._nodes.get(name)
        if ni is None:
            ni = self._nodes[name] = NodeInfo(name=name)
        if ni.node is None:
            self._list = None
        ni.set_node(node)
        return ni

    update_node = add_node

    def remove_node(self, name: str) -> None:
        ni = self._nodes.get(name)
        if ni is None:
            return
        self._list = None
        if ni.pods:
            ni.node = None                  # keep the pods until they go away themselves
        else:
            del self._nodes[name]

    # ---------------------------------------------------------------- assumed pods
    def assume_pod(self, pod: PodInfo, node_name: str) -> None:
        """Count `pod` on `node_name` now, before its binding is confirmed."""
        if pod.key in self._pods:
            raise ValueError(f"pod {pod.key} is already in the cache")
        self._add(pod, node_name)
        self._pods[pod.key].assumed = True

    def finish_binding(self, key: str, now: float | None = None) -> None:
        st = self._pods.get(key)
        if st is not None and st.assumed:
            st.deadline = (time.monotonic() if now is None else now) + self.assumed_ttl

    def forget_pod(self, key: str) -> None:
        st = self._pods.get(key)
        if st is not None and st.assumed:
            self._remove(key)

    def cleanup_expired(self, now: float | None = None) -> list[str]:
        """Drop assumed pods whose binding finished `ttl` ago without confirmation."""
        now = time.monotonic() if now is None else now
        expired = [k for k, st in self._pods.items()
                   if st.assumed and st.deadline is not None and st.deadline < now]
        for k in expired:
            log.warning("assumed pod %s expired without its binding being observed", k)
            self._remove(k)
        return expired

    # ---------------------------------------------------------------- bound pods
    def add_pod(self, pod: PodInfo) -> None:
        """The informer reports `pod` bound: confirm an assumed pod or count a new one."""
        st = self._pods.get(pod.key)
        if st is not None and st.node == pod.node_name:
            self._nodes[st.node].add_pod(pod)     # replaces the assumed version
            st.pod, st.assumed, st.deadline = pod, False, None
            return
        if st is not None:
            self._remove(pod.key)               # assumed elsewhere, or moved
        self._add(pod, pod.node_name)

    update_pod = add_pod

    def remove_pod(self, key: str) -> None:
        if key in self._pods:
            self._remove(key)

    # ---------------------------------------------------------------- internals
    def _add(self, pod: PodInfo, node_name: str) -> None:
        ni = self._nodes.get(node_name)
        if ni is None:
            ni = self._nodes[node_name] = NodeInfo(name=node_name)
        ni.add_pod(pod)
        self._pods[pod.key] = _PodState(pod, node_name)

    def _remove(self, key: str) -> None:
        st = self._pods.pop(key)
        ni = self._nodes.get(st.node)
        if ni is None:
            return
        ni.remove_pod(key)
        if ni.node is None and not ni.pods:
            del self._nodes[st.node]
