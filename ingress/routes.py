"""From Ingresses, Services, EndpointSlices and Secrets to a routing `Plan` (pure).

Kubernetes' semantics, decided here so nginx only executes them:
- hosts: a rule's host is a server; `*.example.com` matches exactly one more label; a
  rule without host goes to the default server (every other host falls there too);
- paths: an Exact path matches only itself; a Prefix path matches itself and whatever is
  below it element by element (`/foo` matches `/foo` and `/foo/bar`, not `/foobar`; a
  trailing `/` is ignored); Exact wins over Prefix, a longer prefix over a shorter one
  (ImplementationSpecific is treated as Prefix). The same path in two Ingresses: the older
  Ingress (creationTimestamp, then namespace/name) keeps it;
- backends: a Service port (by number or name) resolved to its EndpointSlices' ready
  addresses and target port; a Service or port that does not exist is a `Problem` of the
  Ingress and its paths answer 503; a Service without ready endpoints also answers 503;
- default backend: the oldest Ingress's `spec.defaultBackend`, else a 404 page; a host's
  requests that match none of its paths go there too;
- TLS: each `spec.tls` entry's hosts are served on 443 with its `kubernetes.io/tls`
  Secret; a missing or malformed Secret is a Problem (the host stays on 80, and on 443
  with the controller's own certificate).
Ingresses listed in `excluded` (refused by `nginx -t` before) and Ingresses with bad
annotations are left out whole, with a Problem each.
"""
from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ingress import annotations

Obj = dict[str, Any]
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


@dataclass(frozen=True)
class Upstream:
    name: str
    addresses: tuple[str, ...]
    weights: tuple[int, ...] = ()   # one per address (an HTTPRoute's weighted backends); empty: equal


@dataclass(frozen=True)
class Branch:
    """Requests of a location that carry these headers (exact values) go to `upstream`."""

    headers: tuple[tuple[str, str], ...]
    upstream: Upstream | None


@dataclass(frozen=True)
class Location:
    path: str                 # normalised: no trailing "/" except the root
    exact: bool
    upstream: Upstream | None  # None: 503 (no such backend) or the 404 default
    ingress: str              # "namespace/name" (of an Ingress, or "httproute:ns/name"); "" for the default
    options: annotations.LocationOptions = annotations.LocationOptions()
    not_found: bool = False   # the built-in default backend
    branches: tuple[Branch, ...] = ()   # header matches, checked before `upstream`


@dataclass
class Server:
    host: str                 # "" for the default server
    locations: list[Location] = field(default_factory=list)
    certificate: str | None = None   # a key of Plan.certificates
    certificate_owner: str = ""      # the Ingress whose Secret it is

    def has(self, path: str, exact: bool) -> bool:
        return any(loc.path == path and loc.exact == exact for loc in self.locations)


@dataclass(frozen=True)
class Problem:
    ingress: str
    reason: str
    message: str


@dataclass
class Plan:
    servers: list[Server]
    certificates: dict[str, bytes]          # name -> PEM (certificate chain + key)
    problems: list[Problem]
    served: list[str]                       # the Ingresses (ns/name) in the config


def ingress_key(ing: Obj) -> str:
    meta = ing.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


def _age_order(ing: Obj) -> tuple[str, str]:
    meta = ing.get("metadata") or {}
    return (meta.get("creationTimestamp") or "", ingress_key(ing))


def normalise(path: str | None, path_type: str | None) -> tuple[str, bool]:
    """(path, exact) as nginx will see it."""
    p = path or "/"
    if path_type == "Exact":
        return p, True
    return (p.rstrip("/") or "/"), False


def upstream_name(namespace: str, service: str, port: str | int) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{namespace}-{service}-{port}")


class Backends:
    """Service backends resolved against Services and EndpointSlices."""

    def __init__(self, services: dict[tuple[str, str], Obj], slices: list[Obj]) -> None:
        self.services = services
        self.slices: dict[tuple[str, str], list[Obj]] = {}
        for s in slices:
            meta = s.get("metadata") or {}
            svc = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
            if svc:
                self.slices.setdefault((meta.get("namespace") or "", svc), []).append(s)

    def resolve(self, namespace: str, backend: Obj) -> tuple[Upstream | None, str | None]:
        """(upstream, problem message); an upstream may have no addresses (503)."""
        if backend.get("resource") is not None:
            ref = backend["resource"]
            return None, f"resource backend {ref.get('kind')}/{ref.get('name')} is not supported by this controller"
        svc_ref = backend.get("service") or {}
        name, port_ref = svc_ref.get("name") or "", svc_ref.get("port") or {}
        svc = self.services.get((namespace, name))
        if svc is None:
            return None, f'service "{namespace}/{name}" not found'
        want = port_ref.get("number") or port_ref.get("name")
        ports = (svc.get("spec") or {}).get("ports") or []
        port = next((p for p in ports if (p.get("port") == want if isinstance(want, int) else p.get("name") == want)),
                    None)
        if port is None:
            return None, f'service "{namespace}/{name}" has no port {want}'
        addresses: list[str] = []
        for s in self.slices.get((namespace, name), []):
            target = next((p.get("port") for p in s.get("ports") or []
                           if (p.get("name") or "") == (port.get("name") or "")), None)
            if target is None:
                continue
            for ep in s.get("endpoints") or []:
                if (ep.get("conditions") or {}).get("ready") is False:
                    continue
                addresses += [f"{a}:{target}" for a in ep.get("addresses") or []]
        return Upstream(upstream_name(namespace, name, want), tuple(sorted(set(addresses)))), None


def certificate(secret: Obj | None, namespace: str, name: str) -> tuple[str | None, bytes | None, str | None]:
    """(file name, PEM, problem) of a kubernetes.io/tls Secret."""
    if secret is None:
        return None, None, f'secret "{namespace}/{name}" not found'
    data = secret.get("data") or {}
    try:
        crt, key = base64.b64decode(data.get("tls.crt") or ""), base64.b64decode(data.get("tls.key") or "")
    except ValueError:
        crt = key = b""
    if b"-----BEGIN" not in crt or b"-----BEGIN" not in key:
        return None, None, f'secret "{namespace}/{name}" has no PEM tls.crt and tls.key'
    pem = crt.rstrip(b"\n") + b"\n" + key.rstrip(b"\n") + b"\n"
    return f"{namespace}_{name}_{hashlib.sha256(pem).hexdigest()[:12]}.pem", pem, None


def build_plan(ingresses: list[Obj], services: dict[tuple[str, str], Obj], slices: list[Obj],
               secrets: dict[tuple[str, str], Obj], excluded: dict[str, str] | None = None,
               routes: Callable[[Backends], tuple[list[tuple[str, Location]], list[Problem]]] | None = None) -> Plan:
    """The routing plan of `ingresses` (already filtered to this controller's class), plus
    the (host, location) pairs `routes` makes with the same backends (HTTPRoutes: an
    Ingress keeps a path both name)."""
    backends = Backends(services, slices)
    problems: list[Problem] = []
    servers: dict[str, Server] = {"": Server("")}
    certs: dict[str, bytes] = {}
    served: list[str] = []
    default: Location | None = None
    for ing in sorted(ingresses, key=_age_order):
        key = ingress_key(ing)
        ns = (ing.get("metadata") or {}).get("namespace") or ""
        if excluded and key in excluded:
            problems.append(Problem(key, "RejectedByNginx", excluded[key]))
            continue
        try:
            options = annotations.parse((ing.get("metadata") or {}).get("annotations"))
        except annotations.AnnotationError as e:
            problems.append(Problem(key, "InvalidAnnotation", str(e)))
            continue
        served.append(key)
        spec = ing.get("spec") or {}

        def resolve(backend: Obj, ns: str = ns, key: str = key) -> Upstream | None:
            upstream, problem = backends.resolve(ns, backend)
            if problem:
                problems.append(Problem(key, "BackendNotFound", problem))
            return upstream

        if spec.get("defaultBackend") is not None and default is None:
            default = Location("/", False, resolve(spec["defaultBackend"]), key, options)
        for rule in spec.get("rules") or []:
            server = servers.setdefault(rule.get("host") or "", Server(rule.get("host") or ""))
            for p in (rule.get("http") or {}).get("paths") or []:
                path, exact = normalise(p.get("path"), p.get("pathType"))
                if server.has(path, exact):
                    continue
                server.locations.append(Location(path, exact, resolve(p.get("backend") or {}), key, options))
        for tls in spec.get("tls") or []:
            if not tls.get("secretName"):
                continue
            name, pem, problem = certificate(secrets.get((ns, tls["secretName"])), ns, tls["secretName"])
            if problem or name is None or pem is None:
                problems.append(Problem(key, "TLSSecretNotFound", problem or ""))
                continue
            certs[name] = pem
            for host in tls.get("hosts") or []:
                server = servers.setdefault(host, Server(host))
                if server.certificate is None:
                    server.certificate, server.certificate_owner = name, key
    if routes is not None:
        extra, route_problems = routes(backends)
        problems += route_problems
        for host, loc in extra:
            server = servers.setdefault(host, Server(host))
            if not server.has(loc.path, loc.exact):
                server.locations.append(loc)
    fallback = default or Location("/", False, None, "", not_found=True)
    for server in servers.values():
        if not server.has("/", False):
            server.locations.append(fallback)
    ordered = [servers[""]] + sorted((s for h, s in servers.items() if h), key=lambda s: s.host)
    return Plan(ordered, certs, problems, served)
