"""Admission: what the apiserver decides about an object beyond defaulting and validation.

Owns the built-in admission steps pykube runs on writes, in Kubernetes' order of ideas:
- NamespaceLifecycle: no creates in a missing or terminating namespace.
- DefaultTolerationSeconds: pods tolerate not-ready/unreachable NoExecute taints for 300 s.
- Service allocation: ClusterIP from the service CIDR and NodePorts from 30000-32767,
  kept across updates, released on delete or on a failed write.
The allocators are rebuilt from the stored Services at start (`rebuild`).
"""
from __future__ import annotations

from typing import Any, Iterable

from api.resources import ResourceInfo
from apiserver import errors, wire
from apiserver.allocators import AllocationError, IPAllocator, PortAllocator
from apiserver.storage.interface import Backend
from apiserver.watchcache import ResourceCache

NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"


def _nodeport_types(svc: dict[str, Any]) -> bool:
    return (svc.get("spec") or {}).get("type") in ("NodePort", "LoadBalancer")


class Admission:
    def __init__(self, namespaces: ResourceCache, backend: Backend, service_cidr: str = "10.96.0.0/12",
                 node_port_range: tuple[int, int] = (30000, 32767),
                 default_toleration_seconds: int = 300) -> None:
        self.namespaces = namespaces
        self.backend = backend
        self.ips = IPAllocator(service_cidr)
        self.ports = PortAllocator(*node_port_range)
        self.default_toleration_seconds = default_toleration_seconds

    # ------------------------------------------------------------------ start-up
    def rebuild(self, services: Iterable[dict[str, Any]]) -> None:
        for svc in services:
            spec = svc.get("spec") or {}
            for ip in spec.get("clusterIPs") or [spec.get("clusterIP")]:
                if ip and ip != "None":
                    self.ips.mark(ip)
            for p in spec.get("ports") or []:
                if p.get("nodePort"):
                    self.ports.mark(p["nodePort"])

    # ------------------------------------------------------------------ namespaces
    async def check_namespace(self, resource: ResourceInfo, namespace: str | None) -> None:
        """Read from the watch cache; a namespace the cache has not seen yet (just created)
        is looked up in the store."""
        if not resource.namespaced or not namespace:
            return
        key = resource_key_namespace(namespace)
        co = self.namespaces.objects.get(key)
        if co is not None:
            ns = co.obj
        else:
            kv = await self.backend.get(key)
            if kv is None:
                raise errors.namespace_not_found(namespace)
            ns = wire.loads(kv.value)
        if ns.get("metadata", {}).get("deletionTimestamp") or \
                (ns.get("status") or {}).get("phase") == "Terminating":
            raise errors.forbidden(
                f"unable to create new content in namespace {namespace} because it is being terminated",
                resource)

    # ------------------------------------------------------------------ create / update
    async def admit_create(self, resource: ResourceInfo, obj: dict[str, Any]) -> None:
        await self.check_namespace(resource, obj.get("metadata", {}).get("namespace"))
        if resource.kind == "Pod":
            self._default_tolerations(obj)
        elif resource.kind == "Service":
            self._allocate_service(obj, None)

    def admit_update(self, resource: ResourceInfo, obj: dict[str, Any], old: dict[str, Any]) -> None:
        if resource.kind == "Service":
            self._allocate_service(obj, old)

    def release(self, resource: ResourceInfo, obj: dict[str, Any] | None,
                keep: dict[str, Any] | None = None) -> None:
        """Free what `obj` holds that `keep` (the surviving version, if any) does not."""
        if resource.kind != "Service" or obj is None:
            return
        spec, kspec = obj.get("spec") or {}, (keep or {}).get("spec") or {}
        if spec.get("clusterIP") != kspec.get("clusterIP"):
            self.ips.release(spec.get("clusterIP"))
        kept_ports = {p.get("nodePort") for p in kspec.get("ports") or []}
        for p in spec.get("ports") or []:
            if p.get("nodePort") and p["nodePort"] not in kept_ports:
                self.ports.release(p["nodePort"])

    def _default_tolerations(self, pod: dict[str, Any]) -> None:
        spec = pod.setdefault("spec", {})
        tols: list[dict[str, Any]] = spec.get("tolerations") or []
        for key in (NOT_READY_TAINT, UNREACHABLE_TAINT):
            if any(t.get("key") == key and t.get("effect") in (None, "", "NoExecute") or
                   (t.get("operator") == "Exists" and not t.get("key")) for t in tols):
                continue
            tols.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                         "tolerationSeconds": self.default_toleration_seconds})
        spec["tolerations"] = tols

    def _allocate_service(self, svc: dict[str, Any], old: dict[str, Any] | None) -> None:
        spec = svc.setdefault("spec", {})
        ospec = (old or {}).get("spec") or {}
        stype = spec.get("type") or "ClusterIP"
        taken: list[tuple[str, Any]] = []
        try:
            if stype == "ExternalName":
                spec.pop("clusterIP", None)
            elif old is not None and ospec.get("clusterIP") and not spec.get("clusterIP"):
                spec["clusterIP"] = ospec["clusterIP"]
            elif old is None or spec.get("clusterIP") != ospec.get("clusterIP"):
                want = spec.get("clusterIP")
                if want != "None":
                    ip = self.ips.allocate(want or None)
                    taken.append(("ip", ip))
                    spec["clusterIP"] = ip
            if spec.get("clusterIP"):
                spec["clusterIPs"] = [spec["clusterIP"]]
            old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                         for p in ospec.get("ports") or []}
            for p in spec.get("ports") or []:
                if not _nodeport_types(svc):
                    p.pop("nodePort", None)
                    continue
                prev = old_ports.get((p.get("port"), p.get("protocol", "TCP")))
                if p.get("nodePort") and p["nodePort"] == prev:
                    continue
                if not p.get("nodePort") and prev:
                    p["nodePort"] = prev
                    continue
                port = self.ports.allocate(p.get("nodePort") or None)
                taken.append(("port", port))
                p["nodePort"] = port
        except AllocationError as e:
            for kind, v in taken:
                (self.ips.release if kind == "ip" else self.ports.release)(v)  # type: ignore[operator]
            field = "spec.clusterIPs" if "IP" in str(e) or "range is full" in str(e) else "spec.ports"
            raise errors.APIError(422, "Invalid",
                                  f'Service "{svc.get("metadata", {}).get("name")}" is invalid: {field}: Invalid value: {e}',
                                  {"kind": "Service", "causes": [{"reason": "FieldValueInvalid",
                                                                   "message": str(e), "field": field}]})


def resource_key_namespace(name: str) -> str:
    return f"/registry/core/namespaces/{name}"
