"""ServiceLB: LoadBalancer Services on bare metal, the way k3s does it.

Owns `status.loadBalancer.ingress` of Services of type LoadBalancer: the addresses of the
nodes that serve them (each node's ExternalIP, else its InternalIP, sorted). Every
node's kube-proxy then answers the Service port on those addresses (`KUBE-SERVICES ...
loadbalancer IP` rules), and the node port as for any NodePort Service, so
`pykubectl get svc` shows an EXTERNAL-IP instead of `<pending>`.

Serving nodes, as k3s' svclb chooses them: Ready nodes; when any node carries the label
`svccontroller.k3s.cattle.io/enablelb=true`, only those. A Service that stops being a
LoadBalancer has the status this controller wrote cleared.

There must be one writer per cluster, so, as in k3s (whose ServiceLB controller runs in
the server, not in the agents), this is a controller for the controller-manager: it
runs under the manager's leader election, `FACTORIES["servicelb"]`. `lb_ingress` is
the pure decision; `reconcile` writes the status only when it differs.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from api.meta import get_condition
from api.models import Node, Service
from api.models.core import LoadBalancerIngress, LoadBalancerStatus, ServiceStatus
from client.errors import NotFound
from client.store import object_key
from controllers.base import Controller, SharedInformers

log = logging.getLogger(__name__)

ENABLE_LB_LABEL = "svccontroller.k3s.cattle.io/enablelb"


def node_address(node: Node) -> str | None:
    addrs = {a.type: a.address for a in (node.status.addresses if node.status else None) or []}
    return addrs.get("ExternalIP") or addrs.get("InternalIP")


def node_ready(node: Node) -> bool:
    cond = get_condition(node.status, "Ready") if node.status else None
    return cond is not None and cond.status == "True"


def serving_nodes(nodes: Iterable[Node]) -> list[Node]:
    ready = [n for n in nodes if node_ready(n)]
    labelled = [n for n in ready if (n.metadata.labels or {}).get(ENABLE_LB_LABEL) == "true"]
    return labelled or ready


def is_load_balancer(svc: Service) -> bool:
    return bool(svc.spec and svc.spec.type == "LoadBalancer")


def current_ingress(svc: Service) -> list[str]:
    lb = svc.status.load_balancer if svc.status else None
    return [i.ip for i in (lb.ingress if lb else None) or [] if i.ip]


def lb_ingress(svc: Service, nodes: Iterable[Node]) -> list[str]:
    """The ingress IPs the Service should show ([] for a non-LoadBalancer Service)."""
    if not is_load_balancer(svc):
        return []
    ips = {ip for ip in (node_address(n) for n in serving_nodes(nodes)) if ip}
    return sorted(ips, key=lambda ip: tuple(int(x) for x in ip.split(".")) if "." in ip else (0,))


def with_ingress(svc: Service, ips: list[str]) -> Service:
    new = svc.model_copy(deep=True)
    status = new.status or ServiceStatus()
    status.load_balancer = LoadBalancerStatus(ingress=[LoadBalancerIngress(ip=ip) for ip in ips] or None)
    new.status = status
    return new


class ServiceLBController(Controller):
    NAME = "servicelb"

    def __init__(self, client: Any, informers: SharedInformers, recorder: Any = None) -> None:
        super().__init__(client, informers, recorder)
        self.services = self.watch(Service)
        self.nodes = self.watch(Node, key_fn=self._lb_services)

    def _lb_services(self, _node: Any) -> list[str]:
        return [object_key(s) for s in self.services.store.list() if is_load_balancer(s)]

    async def reconcile(self, key: Any) -> None:
        svc = self.services.store.get(key)
        if svc is None:
            return
        want = lb_ingress(svc, self.nodes.store.list())
        if want == current_ingress(svc):
            return
        try:
            await self.client.update_status(with_ingress(svc, want))
        except NotFound:
            return
        log.info("%s ingress %s", key, ",".join(want) or "<none>")
