"""Gateway API HTTPRoutes as nginx locations, and the status this controller writes (pure).

Which objects are ours: Gateways whose `gatewayClassName` names a GatewayClass with
`controllerName: pykube.io/gateway-controller`, and HTTPRoutes with a parentRef to one of
them that its listeners allow (`allowedRoutes.namespaces.from`: Same, the default, or All).
Every Gateway of ours is served by the same nginx, on the ingress Service's 80 and 443.

What an HTTPRoute becomes (`route_locations`): each hostname (none: every host, i.e. the
default server) x each match's path (PathPrefix, the default `/`, or Exact) is a location;
matches with `headers` (Exact values) are branches checked first, those with the most
headers first; a rule's `backendRefs` are one upstream whose servers are weighted so each
Service gets its `weight` share (the default 1; weight 0 gets none), e.g. a 90/10 canary.
A Service missing or in another namespace, a RegularExpression match, method or query
matches and filters are not served: the route's `ResolvedRefs`/`Accepted` conditions and a
Warning Event say so. An Ingress and an HTTPRoute naming the same host and path: the
Ingress keeps it.
"""
from __future__ import annotations

import hashlib
import math
import re
from datetime import datetime, timezone
from typing import Any

from ingress.gateway_crds import GROUP
from ingress.routes import Backends, Branch, Location, Problem, Upstream, normalise

CONTROLLER_NAME = "pykube.io/gateway-controller"
CLASS_NAME = "nginx"
Obj = dict[str, Any]
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")
_HEADER_VALUE = re.compile(r'^[^$"\\\x00-\x1f]*$')


def _meta(o: Obj) -> Obj:
    return o.get("metadata") or {}


def route_key(route: Obj) -> str:
    return f"{_meta(route).get('namespace')}/{_meta(route).get('name')}"


def our_classes(classes: list[Obj]) -> set[str]:
    return {_meta(c).get("name") or "" for c in classes
            if (c.get("spec") or {}).get("controllerName") == CONTROLLER_NAME}


def our_gateways(classes: list[Obj], gateways: list[Obj]) -> list[Obj]:
    mine = our_classes(classes)
    return [g for g in gateways if (g.get("spec") or {}).get("gatewayClassName") in mine]


def _allows(gateway: Obj, route_ns: str) -> bool:
    gw_ns = _meta(gateway).get("namespace")
    for listener in (gateway.get("spec") or {}).get("listeners") or []:
        origin = (((listener.get("allowedRoutes") or {}).get("namespaces") or {}).get("from")) or "Same"
        if origin == "All" or (origin == "Same" and route_ns == gw_ns):
            return True
    return False


def attachments(route: Obj, gateways: list[Obj]) -> list[tuple[Obj, Obj]]:
    """(parentRef, Gateway) pairs of `route` among our `gateways` that accept it."""
    ns = _meta(route).get("namespace") or ""
    by_key = {(_meta(g).get("namespace"), _meta(g).get("name")): g for g in gateways}
    out = []
    for ref in (route.get("spec") or {}).get("parentRefs") or []:
        if (ref.get("group") or GROUP) != GROUP or (ref.get("kind") or "Gateway") != "Gateway":
            continue
        gw = by_key.get((ref.get("namespace") or ns, ref.get("name")))
        if gw is not None and _allows(gw, ns):
            out.append((ref, gw))
    return out


def weighted(ns: str, refs: list[Obj], backends: Backends) -> tuple[Upstream | None, list[str]]:
    """One upstream for a rule's backendRefs, each Service weighted by its `weight`."""
    problems: list[str] = []
    parts: list[tuple[Upstream, int]] = []
    for ref in refs:
        if (ref.get("group") or "") != "" or (ref.get("kind") or "Service") != "Service":
            problems.append(f"backendRef {ref.get('kind')}/{ref.get('name')}: only Services are supported")
            continue
        if (ref.get("namespace") or ns) != ns:
            problems.append(f"backendRef {ref.get('namespace')}/{ref.get('name')}: another namespace needs a "
                            "ReferenceGrant, which this controller does not support")
            continue
        if ref.get("port") is None:
            problems.append(f"backendRef {ref.get('name')}: port is required for a Service")
            continue
        upstream, problem = backends.resolve(ns, {"service": {"name": ref.get("name"),
                                                              "port": {"number": ref["port"]}}})
        if problem or upstream is None:
            problems.append(problem or "")
            continue
        weight = ref.get("weight", 1)
        if weight > 0 and upstream.addresses:
            parts.append((upstream, int(weight)))
    if not parts:
        return None, problems
    if len(parts) == 1:
        return parts[0][0], problems
    addresses: list[str] = []
    weights: list[int] = []
    pods = math.lcm(*(len(u.addresses) for u, _ in parts))     # exact shares, as small integers
    for upstream, weight in parts:
        for addr in upstream.addresses:
            addresses.append(addr)
            weights.append(weight * pods // len(upstream.addresses))
    common = math.gcd(*weights)
    weights = [w // common for w in weights]
    digest = hashlib.sha256(repr((addresses, weights)).encode()).hexdigest()[:10]
    return Upstream(f"weighted_{digest}", tuple(addresses), tuple(weights)), problems


def _match(m: Obj) -> tuple[tuple[str, bool] | None, tuple[tuple[str, str], ...], str | None]:
    """((path, exact), headers, problem) of one HTTPRouteMatch."""
    path = m.get("path") or {"type": "PathPrefix", "value": "/"}
    kind = path.get("type") or "PathPrefix"
    if kind not in ("PathPrefix", "Exact"):
        return None, (), f"path match type {kind} is not supported"
    if m.get("method") or m.get("queryParams"):
        return None, (), "method and query parameter matches are not supported"
    headers = []
    for h in m.get("headers") or []:
        if (h.get("type") or "Exact") != "Exact":
            return None, (), f"header match type {h.get('type')} is not supported"
        name, value = h.get("name") or "", h.get("value") or ""
        if not _HEADER_NAME.match(name) or not _HEADER_VALUE.match(value):
            return None, (), f"header match {name}: {value!r} is not supported"
        headers.append((name, value))
    return normalise(path.get("value") or "/", "Exact" if kind == "Exact" else "Prefix"), tuple(sorted(headers)), None


def route_locations(routes: list[Obj], gateways: list[Obj], backends: Backends,
                    excluded: dict[str, str] | None = None
                    ) -> tuple[list[tuple[str, Location]], list[Problem], dict[str, list[str]]]:
    """The locations of our HTTPRoutes, their Problems (keyed `httproute:ns/name`), and each
    served route's unresolved references / unsupported parts (empty: all resolved).
    Routes in `excluded` (refused by nginx -t) are left out."""
    out: list[tuple[str, Location]] = []
    problems: list[Problem] = []
    issues: dict[str, list[str]] = {}
    for route in sorted(routes, key=lambda r: (_meta(r).get("creationTimestamp") or "", route_key(r))):
        if not attachments(route, gateways):
            continue
        key, ns = route_key(route), _meta(route).get("namespace") or ""
        owner = f"httproute:{key}"
        if excluded and owner in excluded:
            problems.append(Problem(owner, "RejectedByNginx", excluded[owner]))
            issues[key] = [excluded[owner]]
            continue
        spec = route.get("spec") or {}
        found: list[str] = []
        table: dict[tuple[str, bool], tuple[Upstream | None, bool, list[Branch]]] = {}
        for rule in spec.get("rules") or [{}]:
            if rule.get("filters"):
                found.append("filters are not supported (ignored)")
            upstream, rule_problems = weighted(ns, rule.get("backendRefs") or [], backends)
            found += rule_problems
            for m in rule.get("matches") or [{}]:
                where, headers, problem = _match(m)
                if problem or where is None:
                    found.append(problem or "")
                    continue
                default, has_default, branches = table.get(where, (None, False, []))
                if headers:
                    if all(b.headers != headers for b in branches):
                        branches.append(Branch(headers, upstream))
                elif not has_default:
                    default, has_default = upstream, True
                table[where] = (default, has_default, branches)
        issues[key] = found
        problems += [Problem(owner, "HTTPRouteNotFullyServed", p) for p in found]
        for host in spec.get("hostnames") or [""]:
            for (path, exact), (default, has_default, branches) in table.items():
                ordered = tuple(sorted(branches, key=lambda b: -len(b.headers)))
                out.append((host, Location(path, exact, default, owner, not_found=not has_default, branches=ordered)))
    return out, problems, issues


# ---------------------------------------------------------------------- status
def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(type_: str, ok: bool, reason: str, message: str, generation: int | None,
              old: list[Obj] | None) -> Obj:
    """A metav1.Condition, keeping lastTransitionTime when the status did not change."""
    status = "True" if ok else "False"
    prev = next((c for c in old or [] if c.get("type") == type_), None)
    since = prev["lastTransitionTime"] if prev and prev.get("status") == status and prev.get(
        "lastTransitionTime") else now()
    return {"type": type_, "status": status, "reason": reason, "message": message,
            "observedGeneration": generation or 0, "lastTransitionTime": since}


def class_status(gc: Obj) -> Obj:
    old = (gc.get("status") or {}).get("conditions")
    return {"conditions": [condition("Accepted", True, "Accepted", "served by pykube's nginx",
                                     _meta(gc).get("generation"), old)]}


def gateway_status(gw: Obj, addresses: list[str], attached: int) -> Obj:
    gen, old = _meta(gw).get("generation"), gw.get("status") or {}
    programmed = bool(addresses)
    listeners = []
    old_listeners = {li.get("name"): li for li in old.get("listeners") or []}
    for listener in (gw.get("spec") or {}).get("listeners") or []:
        prev = (old_listeners.get(listener.get("name")) or {}).get("conditions")
        listeners.append({"name": listener.get("name"), "attachedRoutes": attached,
                          "supportedKinds": [{"group": GROUP, "kind": "HTTPRoute"}],
                          "conditions": [condition("Accepted", True, "Accepted", "", gen, prev),
                                         condition("Programmed", programmed, "Programmed" if programmed else "Pending",
                                                   "", gen, prev),
                                         condition("ResolvedRefs", True, "ResolvedRefs", "", gen, prev)]})
    return {"addresses": [{"type": "IPAddress", "value": a} for a in addresses],
            "conditions": [condition("Accepted", True, "Accepted", "", gen, old.get("conditions")),
                           condition("Programmed", programmed, "Programmed" if programmed else "AddressNotAssigned",
                                     "" if programmed else "the ingress-nginx Service has no address yet", gen,
                                     old.get("conditions"))],
            "listeners": listeners}


def route_status(route: Obj, gateways: list[Obj], issues: list[str]) -> Obj:
    gen = _meta(route).get("generation")
    old = {(p.get("parentRef") or {}).get("name"): p for p in (route.get("status") or {}).get("parents") or []}
    parents = []
    for ref, _gw in attachments(route, gateways):
        prev = (old.get(ref.get("name")) or {}).get("conditions")
        resolved = not issues
        parents.append({"parentRef": ref, "controllerName": CONTROLLER_NAME, "conditions": [
            condition("Accepted", True, "Accepted", "", gen, prev),
            condition("ResolvedRefs", resolved, "ResolvedRefs" if resolved else "BackendNotFound",
                      "; ".join(issues), gen, prev)]})
    return {"parents": parents}
