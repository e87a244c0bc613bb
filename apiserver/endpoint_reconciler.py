"""The `kubernetes` Service's endpoints when several apiservers share one etcd: upstream's
lease endpoint reconciler (pkg/controlplane/reconcilers/lease.go).

Owns, for each apiserver on an etcd store, a Lease `kube-system/apiserver-<address>`
(label `apiserver.kubernetes.io/identity: kube-apiserver`, the address in
`spec.holderIdentity`) renewed every RENEW seconds, and the Endpoints and EndpointSlice
`default/kubernetes` set to the addresses of the Leases not expired (LEASE seconds). So
`kubectl get ep kubernetes` lists every live server, pods reach whichever is up, and an
agent learns every server it may fail over to (pykube/apiserver_lb.py). A server stopped
cleanly removes its Lease and address; a killed one drops out when its Lease expires.
`live_addresses` is the pure decision.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from api.resources import by_kind
from apiserver import errors

log = logging.getLogger("apiserver.endpoints")

LEASE, RENEW = 15, 5
LABEL = "apiserver.kubernetes.io/identity"
_FMT = "%Y-%m-%dT%H:%M:%S.%fZ"


def lease_name(address: str) -> str:
    return "apiserver-" + address.replace(".", "-").replace(":", "-")


def _time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    for fmt in (_FMT, "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            continue
    return None


def live_addresses(leases: Iterable[dict[str, Any]], now: dt.datetime) -> list[str]:
    """The addresses of the apiserver Leases renewed within their duration, sorted."""
    out = set()
    for lease in leases:
        if (lease.get("metadata", {}).get("labels") or {}).get(LABEL) != "kube-apiserver":
            continue
        spec = lease.get("spec") or {}
        renewed = _time(spec.get("renewTime"))
        if renewed and renewed + dt.timedelta(seconds=spec.get("leaseDurationSeconds") or LEASE) > now \
                and spec.get("holderIdentity"):
            out.add(str(spec["holderIdentity"]))
    return sorted(out)


class LeaseEndpointReconciler:
    def __init__(self, registry: Any, cache: Any, address: str, port: int) -> None:
        self.registry, self.cache, self.address, self.port = registry, cache, address, port
        self._lease = by_kind("coordination.k8s.io/v1", "Lease")

    async def run(self) -> None:
        while True:
            try:
                await self.reconcile()
            except Exception as e:  # noqa: BLE001 - a store hiccup is retried next round
                log.warning("kubernetes endpoints: %s", e)
            await asyncio.sleep(RENEW)

    async def reconcile(self, remove_self: bool = False) -> None:
        now = dt.datetime.now(dt.timezone.utc)
        name = lease_name(self.address)
        if remove_self:
            try:
                await self.registry.delete(self._lease, "kube-system", name)
            except errors.APIError:
                pass
        else:
            await self._renew(name, now)
        leases = [co.obj for co in self.cache.cache(self._lease).objects.values()
                  if co.obj.get("metadata", {}).get("namespace") == "kube-system"]
        live = set(live_addresses(leases, now))
        if remove_self:
            live.discard(self.address)
        else:
            live.add(self.address)
        if live:
            await self._set_endpoints(sorted(live))

    async def _renew(self, name: str, now: dt.datetime) -> None:
        spec = {"holderIdentity": self.address, "leaseDurationSeconds": LEASE,
                "renewTime": now.strftime(_FMT)}
        try:
            cur = await self.registry.get(self._lease, "kube-system", name)
        except errors.APIError:
            await self.registry.create(self._lease, "kube-system", {
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": name, "namespace": "kube-system", "labels": {LABEL: "kube-apiserver"}},
                "spec": spec})
            return
        cur["spec"] = {**(cur.get("spec") or {}), **spec}
        await self.registry.update(self._lease, "kube-system", name, cur)

    async def _set_endpoints(self, addresses: list[str]) -> None:
        ports = [{"name": "https", "port": self.port, "protocol": "TCP"}]
        ep_res = by_kind("v1", "Endpoints")
        cur = await self.registry.get(ep_res, "default", "kubernetes")
        want = [{"addresses": [{"ip": a} for a in addresses], "ports": ports}]
        if cur.get("subsets") != want:
            cur["subsets"] = want
            await self.registry.update(ep_res, "default", "kubernetes", cur)
        es_res = by_kind("discovery.k8s.io/v1", "EndpointSlice")
        cur = await self.registry.get(es_res, "default", "kubernetes")
        endpoints = [{"addresses": [a], "conditions": {"ready": True}} for a in addresses]
        if cur.get("endpoints") != endpoints:
            cur["endpoints"] = endpoints
            await self.registry.update(es_res, "default", "kubernetes", cur)
