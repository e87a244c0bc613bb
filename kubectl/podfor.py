"""Which pod a command means: `POD`, `pod/NAME`, or `TYPE/NAME` of something that selects pods.

Owns kubectl's `AttachablePodForObject`: a Deployment, ReplicaSet, StatefulSet, DaemonSet,
Job (their `spec.selector`) or a Service (its plain `spec.selector` map) leads to the first
of its pods, running and ready ones first, then the oldest. `pick_selector` and
`rank_pods` are pure.
"""
from __future__ import annotations

from typing import Any

from kubectl.context import Context
from kubectl.errors import CmdError

Obj = dict[str, Any]


def pick_selector(obj: Obj) -> str:
    """The label selector (as text) an object chooses its pods with."""
    from kubectl.describers import selector_text
    kind = obj.get("kind")
    sel = (obj.get("spec") or {}).get("selector")
    if kind == "Service":
        return ",".join(f"{k}={v}" for k, v in sorted((sel or {}).items()))
    return selector_text(sel) if isinstance(sel, dict) else ""


def _ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def rank_pods(pods: list[Obj]) -> list[Obj]:
    """Running and ready first, then running, then the rest; older before newer."""
    def key(p: Obj) -> tuple[int, str]:
        running = (p.get("status") or {}).get("phase") == "Running"
        return (0 if running and _ready(p) else 1 if running else 2,
                (p.get("metadata") or {}).get("creationTimestamp") or "")
    return sorted(pods, key=key)


async def pod_for(ctx: Context, word: str) -> tuple[Obj, Obj | None]:
    """(the pod, the object named when it was not a pod)."""
    from api.resources import resolve
    from kubectl import targets
    client = await ctx.client()
    if "/" not in word:
        return await client.get(resolve("pods"), word, namespace=ctx.namespace), None
    kind, _, name = word.partition("/")
    info = targets.resolve_type(kind)
    if info.kind == "Pod":
        return await client.get(info, name, namespace=ctx.namespace), None
    owner = await client.get(info, name, namespace=ctx.namespace)
    selector = pick_selector(owner)
    if not selector:
        raise CmdError(f"cannot attach to {info.kind}: selector for {info.kind} not implemented")
    lst = await client.list_all(resolve("pods"), ctx.namespace, label_selector=selector)
    pods = rank_pods(list(lst.items))
    if not pods:
        raise CmdError(f"no pods found for {word}" if "/" in word else f"pods \"{word}\" not found")
    return pods[0], owner
