"""Test support: builders for Deployments, ReplicaSets and Pods as the caches hold them,
and a fake client/informer set for running one controller sync without a server."""
from __future__ import annotations

import itertools
from typing import Any

from api.meta import new_controller_ref
from api.models import Deployment, Pod, ReplicaSet
from client.errors import NotFound
from controllers.base import SharedInformers

_uids = itertools.count(1)
_rvs = itertools.count(100)
T0 = "2026-01-01T00:00:00Z"


def uid(prefix: str = "uid") -> str:
    return f"{prefix}-{next(_uids)}"


def template(labels: dict[str, str], image: str = "nginx:1",
             annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"labels": dict(labels)}
    if annotations:
        meta["annotations"] = annotations
    return {"metadata": meta, "spec": {"containers": [{"name": "c", "image": image}]}}


def make_rs(name: str = "web", replicas: int = 3, labels: dict[str, str] | None = None,
            *, ns: str = "default", owner: Any = None, generation: int = 1,
            created: str = T0, annotations: dict[str, str] | None = None,
            status: dict[str, Any] | None = None, min_ready: int | None = None,
            image: str = "nginx:1", deleting: bool = False) -> ReplicaSet:
    labels = labels or {"app": name}
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": uid("rs"),
                            "generation": generation, "creationTimestamp": created,
                            "resourceVersion": str(next(_rvs)), "labels": dict(labels)}
    if annotations:
        meta["annotations"] = dict(annotations)
    if owner is not None:
        meta["ownerReferences"] = [new_controller_ref(owner).to_dict()]
    if deleting:
        meta["deletionTimestamp"] = T0
    spec: dict[str, Any] = {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                            "template": template(labels, image)}
    if min_ready is not None:
        spec["minReadySeconds"] = min_ready
    return ReplicaSet.from_dict({"metadata": meta, "spec": spec, "status": status or {}})


def make_pod(name: str, labels: dict[str, str] | None = None, *, ns: str = "default",
             owner: Any = None, phase: str = "Running", ready: bool = True,
             node: str | None = "n1", created: str = T0, ready_since: str | None = T0,
             restarts: int = 0, deleting: bool = False,
             annotations: dict[str, str] | None = None) -> Pod:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": uid("pod"),
                            "creationTimestamp": created, "labels": dict(labels or {}),
                            "resourceVersion": str(next(_rvs))}
    if owner is not None:
        meta["ownerReferences"] = [new_controller_ref(owner).to_dict()]
    if deleting:
        meta["deletionTimestamp"] = T0
    if annotations:
        meta["annotations"] = annotations
    cond: dict[str, Any] = {"type": "Ready", "status": "True" if ready else "False"}
    if ready_since:
        cond["lastTransitionTime"] = ready_since
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "nginx:1"}]}
    if node:
        spec["nodeName"] = node
    status = {"phase": phase, "conditions": [cond],
              "containerStatuses": [{"name": "c", "ready": ready, "restartCount": restarts}]}
    return Pod.from_dict({"metadata": meta, "spec": spec, "status": status})


def make_deployment(name: str = "web", replicas: int = 5, *, image: str = "nginx:1",
                    labels: dict[str, str] | None = None, ns: str = "default",
                    strategy: dict[str, Any] | None = None, generation: int = 1,
                    status: dict[str, Any] | None = None, paused: bool = False,
                    annotations: dict[str, str] | None = None,
                    history: int = 10, progress_deadline: int | None = 600,
                    min_ready: int | None = None) -> Deployment:
    labels = labels or {"app": name}
    strategy = strategy or {"type": "RollingUpdate",
                            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    spec: dict[str, Any] = {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                            "template": template(labels, image), "strategy": strategy,
                            "revisionHistoryLimit": history, "paused": paused}
    if progress_deadline is not None:
        spec["progressDeadlineSeconds"] = progress_deadline
    if min_ready is not None:
        spec["minReadySeconds"] = min_ready
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": uid("deploy"),
                            "generation": generation, "creationTimestamp": T0,
                            "resourceVersion": str(next(_rvs))}
    if annotations:
        meta["annotations"] = dict(annotations)
    return Deployment.from_dict({"metadata": meta, "spec": spec, "status": status or {}})


class FakeClient:
    """The few client verbs controllers call, recorded instead of sent."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], Any] = {}
        self.actions: list[tuple[str, str, Any]] = []

    def seed(self, *objs: Any) -> None:
        for o in objs:
            self.objects[(o.kind, o.key)] = o

    async def get(self, kind: Any, name: str, namespace: str | None = None) -> Any:
        obj = self.objects.get((kind.RESOURCE.kind, f"{namespace}/{name}"))
        if obj is None:
            raise NotFound({"code": 404, "reason": "NotFound", "message": f"{name} not found"})
        return obj.model_copy(deep=True)

    async def create(self, obj: Any, namespace: str | None = None) -> Any:
        out = obj.model_copy(deep=True)
        out.metadata.uid = out.metadata.uid or uid("new")
        out.metadata.resource_version = str(next(_rvs))
        self.actions.append(("create", obj.kind, out))
        self.seed(out)
        return out

    async def update(self, obj: Any) -> Any:
        self.actions.append(("update", obj.kind, obj))
        return obj

    async def update_status(self, obj: Any) -> Any:
        self.actions.append(("update_status", obj.kind, obj))
        return obj

    async def patch(self, kind: Any, name: str, patch: Any, namespace: str | None = None,
                    **kw: Any) -> Any:
        self.actions.append(("patch", f"{kind.RESOURCE.kind}/{name}", patch))
        obj = self.objects.get((kind.RESOURCE.kind, f"{namespace}/{name}"))
        if obj is None:
            return None
        out = type(obj).from_dict(_merge(obj.to_dict(), patch))
        self.seed(out)
        return out

    async def delete(self, kind: Any, name: str, namespace: str | None = None, **kw: Any) -> Any:
        self.actions.append(("delete", f"{kind.RESOURCE.kind}/{name}", kw))
        return None

    def verbs(self, verb: str) -> list[Any]:
        return [a for a in self.actions if a[0] == verb]


def _merge(doc: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(doc) if isinstance(doc, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge(out.get(k), v)
    return out


def fake_informers(client: Any = None) -> SharedInformers:
    """SharedInformers whose caches the test seeds with `inf.get(Kind).store.put(obj)`."""
    return SharedInformers(client)  # type: ignore[arg-type]


def seed(informers: SharedInformers, *objs: Any) -> None:
    for o in objs:
        informers.get(type(o)).store.put(o)
