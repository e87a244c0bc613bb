"""`IngressController`: keeps nginx serving what the Ingresses of our class say.

Level-triggered over one key: any change to an Ingress, IngressClass, Service,
EndpointSlice or Secret (and, when the Gateway API's CRDs are installed, a GatewayClass,
Gateway or HTTPRoute: ingress/gateway.py) queues `SYNC`, and `reconcile` recomputes everything from the
informer caches (ingress/routes.py, ingress/nginxconf.py), then:
1. when the rendered configuration equals the running one, nothing is reloaded;
2. otherwise it is staged and tested with `nginx -t`; a refusal that nginx blames on
   lines of one Ingress leaves that Ingress out (until it changes) and the rest is tried
   again; a refusal nobody owns keeps the running configuration (nothing is swapped);
3. a tested configuration is swapped in and nginx reloaded (gracefully);
4. each new Problem (a missing Service or Secret, a bad annotation, nginx's refusal) is
   told once as a Warning Event on its Ingress (or HTTPRoute);
5. the data plane (nginx Deployment and LoadBalancer Service) is deployed when the first
   Ingress of our class appears, so a cluster that uses none keeps its ports 80 and 443;
6. every served Ingress gets `status.loadBalancer.ingress` from the data plane's
   LoadBalancer Service (written only when it differs), and the Gateway API objects of
   ours their status (ingress/gateway_sync.py).

Which Ingresses are ours: `spec.ingressClassName` (or the old `kubernetes.io/ingress.class`
annotation) naming an IngressClass whose controller is `pykube.io/ingress-nginx`, or no
class at all while our IngressClass is the cluster default.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from api.models import EndpointSlice, Ingress, IngressClass, Secret, Service
from client.errors import NotFound
from client.events import WARNING, EventRecorder
from client.rest import Client
from controllers.base import Controller, SharedInformers
from ingress import dataplane
from ingress.dataplane import CONTROLLER, DEFAULT_CLASS_ANNOTATION, ConfigDir, Reloader
from ingress.nginxconf import Listen, render
from ingress import gateway, gateway_sync
from ingress.gateway_crds import GATEWAY, GATEWAY_CLASS, HTTP_ROUTE
from ingress.routes import Backends, Location, Plan, Problem, build_plan, ingress_key

log = logging.getLogger(__name__)

SYNC = "sync"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
MAX_ATTEMPTS = 5
Obj = dict[str, Any]


def is_ours(ing: Obj, classes: list[Obj], controller: str = CONTROLLER) -> bool:
    """Whether an Ingress belongs to this controller (by its class, or by default)."""
    spec = ing.get("spec") or {}
    name = spec.get("ingressClassName") or ((ing.get("metadata") or {}).get("annotations") or {}).get(CLASS_ANNOTATION)
    mine = [c for c in classes if (c.get("spec") or {}).get("controller") == controller]
    if name:
        return any((c.get("metadata") or {}).get("name") == name for c in mine)
    return any(((c.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true"
               for c in mine)


def load_balancer_status(service: Obj | None) -> Obj:
    """An Ingress's status.loadBalancer from the data plane Service's."""
    entries = ((service or {}).get("status") or {}).get("loadBalancer", {}).get("ingress") or []
    out = [{k: e[k] for k in ("ip", "hostname") if e.get(k)} for e in entries]
    return {"ingress": [e for e in out if e]} if any(out) else {}


class IngressController(Controller):
    NAME = "ingress"

    def __init__(self, client: Client, informers: SharedInformers, conf: ConfigDir, reloader: Reloader,
                 listen: Listen | None = None, recorder: EventRecorder | None = None,
                 status_service: tuple[str, str] = (dataplane.NAMESPACE, dataplane.NAME),
                 deploy: Callable[[], Awaitable[None]] | None = None, gateway_api: bool = False) -> None:
        super().__init__(client, informers, recorder or EventRecorder(client, component="pykube-ingress"))
        self.conf = conf
        self.reloader = reloader
        self.listen = listen or Listen()
        self.status_service = status_service
        self.deploy = deploy                    # the data plane, deployed for the first Ingress
        self.excluded: dict[str, tuple[str, str]] = {}      # ingress -> (resourceVersion, nginx's message)
        self.reported: set[Problem] = set()
        self.reloads = 0
        self.pending_reload = False
        self.gateway_api = gateway_api          # the Gateway API's CRDs are installed: serve HTTPRoutes too
        kinds: list[Any] = [Ingress, IngressClass, Service, EndpointSlice, Secret]
        if gateway_api:
            kinds += [GATEWAY_CLASS, GATEWAY, HTTP_ROUTE]
        for kind in kinds:
            self.watch(kind, lambda _obj: SYNC)

    # ------------------------------------------------------------------ reading the caches
    def _dicts(self, kind: Any) -> list[Obj]:
        return [o if isinstance(o, dict) else o.to_dict() for o in self.informers.get(kind).store.list()]

    def _by_key(self, kind: Any) -> dict[tuple[str, str], Obj]:
        out: dict[tuple[str, str], Obj] = {}
        for o in self._dicts(kind):
            meta = o.get("metadata") or {}
            out[(meta.get("namespace") or "", meta.get("name") or "")] = o
        return out

    def ours(self) -> list[Obj]:
        classes = self._dicts(IngressClass)
        return [i for i in self._dicts(Ingress) if is_ours(i, classes)]

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: Any) -> None:
        ingresses = self.ours()
        gw_classes, gateways, routes = ((self._dicts(GATEWAY_CLASS), self._dicts(GATEWAY), self._dicts(HTTP_ROUTE))
                                        if self.gateway_api else ([], [], []))
        mine = gateway.our_gateways(gw_classes, gateways)
        if (ingresses or mine) and self.deploy is not None:
            await self.deploy()
            self.deploy = None
        objects = {ingress_key(i): i for i in ingresses}
        objects.update({"httproute:" + gateway.route_key(r): r for r in routes})
        versions = {k: (o.get("metadata") or {}).get("resourceVersion") or "" for k, o in objects.items()}
        self.excluded = {k: v for k, v in self.excluded.items() if versions.get(k) == v[0]}
        services, slices, secrets = self._by_key(Service), self._dicts(EndpointSlice), self._by_key(Secret)
        issues: dict[str, list[str]] = {}

        def http_routes(backends: Backends) -> tuple[list[tuple[str, Location]], list[Problem]]:
            locations, problems, found = gateway.route_locations(routes, mine, backends,
                                                                 {k: v[1] for k, v in self.excluded.items()})
            issues.clear()
            issues.update(found)
            return locations, problems
        plan = await self._apply(ingresses, services, slices, secrets, versions, http_routes)
        self._report(plan.problems, objects)
        lb = services.get(self.status_service)
        await self._write_status(plan, ingresses, lb)
        if self.gateway_api:
            addresses = [e.get("ip") or e.get("hostname") for e in load_balancer_status(lb).get("ingress") or []]
            await gateway_sync.write_status(self.client, gw_classes, mine, routes, issues, addresses)

    async def _apply(self, ingresses: list[Obj], services: dict[tuple[str, str], Obj], slices: list[Obj],
                     secrets: dict[tuple[str, str], Obj], versions: dict[str, str],
                     http_routes: Callable[[Backends], tuple[list[tuple[str, Location]], list[Problem]]]) -> Plan:
        for _ in range(MAX_ATTEMPTS):
            plan = build_plan(ingresses, services, slices, secrets, {k: v[1] for k, v in self.excluded.items()},
                              http_routes)
            rendered = render(plan, self.listen)
            if rendered.text == self.conf.current():
                if self.pending_reload:
                    await self._reload()
                return plan
            self.conf.stage(rendered)
            start = time.monotonic()
            ok, message = await self.conf.test()
            log.info("nginx -t: %s in %.0f ms", "ok" if ok else "refused", (time.monotonic() - start) * 1000)
            if ok:
                self.conf.promote(keep=set(rendered.files))
                self.pending_reload = True
                await self._reload()
                return plan
            culprit = rendered.culprit(message, str(self.conf.staging))
            if culprit is None or culprit in self.excluded:
                log.error("nginx refused the new configuration; keeping the running one: %s", message)
                return plan
            log.warning("nginx refused the lines of Ingress %s: %s", culprit, message)
            shown = message.replace(str(self.conf.root) + "/", "").replace("staging.conf", "nginx.conf")
            self.excluded[culprit] = (versions.get(culprit, ""), "nginx -t refused its configuration: " + shown)
        return plan

    async def _reload(self) -> None:
        start = time.monotonic()
        await self.reloader.reload()
        self.pending_reload = False
        self.reloads += 1
        log.info("nginx reloaded (%d) in %.0f ms", self.reloads, (time.monotonic() - start) * 1000)

    def _report(self, problems: list[Problem], objects: dict[str, Obj]) -> None:
        now = set(problems)
        for p in problems:
            if p not in self.reported and p.ingress in objects:
                obj = objects[p.ingress]
                if not p.ingress.startswith("httproute:"):
                    obj = {**obj, "apiVersion": "networking.k8s.io/v1", "kind": "Ingress"}
                self.record(obj, WARNING, p.reason, p.message)
        self.reported = now

    async def _write_status(self, plan: Plan, ingresses: list[Obj], service: Obj | None) -> None:
        want = load_balancer_status(service)
        served = set(plan.served)
        for ing in ingresses:
            if ingress_key(ing) not in served:
                continue
            have = (ing.get("status") or {}).get("loadBalancer") or {}
            if have == want:
                continue
            meta = ing["metadata"]
            try:
                await self.client.patch(Ingress, meta["name"], {"status": {"loadBalancer": want or {"ingress": None}}},
                                        meta["namespace"], subresource="status")
            except NotFound:
                pass
