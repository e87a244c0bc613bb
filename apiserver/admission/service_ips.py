"""ServiceIPs: a Service's ClusterIP (from the service CIDR) and NodePorts (30000-32767).

Allocated on create and on updates that ask for new ones, kept across updates that do not,
given back on delete. Every allocation is recorded on the write's Reservation, so a write
that fails after allocating (conflict, not found, store error, dry run) leaves nothing taken.
The allocators are rebuilt from the stored Services when the apiserver starts (`rebuild`).
"""
from __future__ import annotations

from typing import Any, Iterable

from api.resources import ResourceInfo
from apiserver import errors
from apiserver.admission import AdmissionPlugin, Obj, Reservation
from apiserver.allocators import AllocationError, IPAllocator, PortAllocator


def _uses_node_ports(svc: Obj) -> bool:
    return (svc.get("spec") or {}).get("type") in ("NodePort", "LoadBalancer")


def held(svc: Obj | None) -> tuple[set[str], set[int]]:
    """The ClusterIPs and NodePorts a stored Service holds."""
    spec = (svc or {}).get("spec") or {}
    ips = {ip for ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]) if ip and ip != "None"}
    ports = {p["nodePort"] for p in spec.get("ports") or [] if p.get("nodePort")}
    return ips, ports


class ServiceIPs(AdmissionPlugin):
    NAME = "ServiceIPs"

    def __init__(self, service_cidr: str = "10.96.0.0/12",
                 node_port_range: tuple[int, int] = (30000, 32767)) -> None:
        self.ips = IPAllocator(service_cidr)
        self.ports = PortAllocator(*node_port_range)

    def handles(self, resource: ResourceInfo) -> bool:
        return resource.group == "" and resource.kind == "Service"

    def rebuild(self, services: Iterable[Obj]) -> None:
        for svc in services:
            ips, ports = held(svc)
            for ip in ips:
                self.ips.mark(ip)
            for port in ports:
                self.ports.mark(port)

    async def admit_create(self, resource: ResourceInfo, obj: Obj, res: Reservation) -> None:
        self._allocate(obj, None, res)

    async def admit_update(self, resource: ResourceInfo, new: Obj, old: Obj, res: Reservation) -> None:
        self._allocate(new, old, res)
        res.on_commit(lambda: self._release(old, keep=new))

    def deleted(self, resource: ResourceInfo, obj: Obj) -> None:
        self._release(obj, keep=None)

    def _release(self, svc: Obj, keep: Obj | None) -> None:
        ips, ports = held(svc)
        kept_ips, kept_ports = held(keep)
        for ip in ips - kept_ips:
            self.ips.release(ip)
        for port in ports - kept_ports:
            self.ports.release(port)

    def _allocate(self, svc: Obj, old: Obj | None, res: Reservation) -> None:
        spec = svc.setdefault("spec", {})
        ospec = (old or {}).get("spec") or {}
        stype = spec.get("type") or "ClusterIP"
        try:
            if stype == "ExternalName":
                spec.pop("clusterIP", None)
            elif old is not None and ospec.get("clusterIP") and not spec.get("clusterIP"):
                spec["clusterIP"] = ospec["clusterIP"]
            elif old is None or spec.get("clusterIP") != ospec.get("clusterIP"):
                want = spec.get("clusterIP")
                if want != "None":
                    ip = self.ips.allocate(want or None)
                    res.on_abort(lambda ip=ip: self.ips.release(ip))
                    spec["clusterIP"] = ip
            if spec.get("clusterIP"):
                spec["clusterIPs"] = [spec["clusterIP"]]
            old_ports: dict[tuple[Any, Any], Any] = {
                (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort") for p in ospec.get("ports") or []}
            for p in spec.get("ports") or []:
                if not _uses_node_ports(svc):
                    p.pop("nodePort", None)
                    continue
                prev = old_ports.get((p.get("port"), p.get("protocol", "TCP")))
                if p.get("nodePort") and p["nodePort"] == prev:
                    continue
                if not p.get("nodePort") and prev:
                    p["nodePort"] = prev
                    continue
                port = self.ports.allocate(p.get("nodePort") or None)
                res.on_abort(lambda port=port: self.ports.release(port))
                p["nodePort"] = port
        except AllocationError as e:
            field = "spec.clusterIPs" if "IP" in str(e) or "range is full" in str(e) else "spec.ports"
            name = (svc.get("metadata") or {}).get("name")
            raise errors.APIError(422, "Invalid",
                                  f'Service "{name}" is invalid: {field}: Invalid value: {e}',
                                  {"name": name, "kind": "Service",
                                   "causes": [{"reason": "FieldValueInvalid", "message": str(e),
                                               "field": field}]}) from None
