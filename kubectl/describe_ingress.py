"""`kubectl describe ingress` (kubectl's IngressDescriber for networking.k8s.io/v1), pure:
the caller passes each backend Service and its EndpointSlices (or the error reading them)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from kubectl import describe_util as du
from kubectl.describers import _endpoints_from_slices

Obj = dict[str, Any]
#: (namespace, service name) -> (Service, its EndpointSlices) or the error text
Backends = dict[str, "tuple[Obj, list[Obj]] | str"]


def service_backend_text(svc: Obj) -> str:
    port = svc.get("port") or {}
    return f"{svc.get('name', '')}:{port.get('number') or port.get('name') or ''}"


def backend_text(backend: Obj, backends: Backends) -> str:
    svc_ref = backend.get("service")
    if svc_ref is not None:
        text = service_backend_text(svc_ref)
        got = backends.get(svc_ref.get("name") or "")
        if got is None or isinstance(got, str):
            return f"{text} (<error: {got}>)"
        svc, slices = got
        port_ref = svc_ref.get("port") or {}
        name = ""
        for sp in (svc.get("spec") or {}).get("ports") or []:
            if port_ref.get("number") and port_ref.get("number") == sp.get("port"):
                name = sp.get("name") or ""
            elif port_ref.get("name") and port_ref.get("name") == sp.get("name"):
                name = sp.get("name") or ""
        return f"{text} ({_endpoints_from_slices(slices, name) or '<none>'})"
    res = backend.get("resource")
    if res is not None:
        group = res.get("apiGroup") if res.get("apiGroup") is not None else "<none>"
        return f"APIGroup: {group}, Kind: {res.get('kind', '')}, Name: {res.get('name', '')}"
    return ""


def describe_ingress(ing: Obj, backends: Backends, events: list[Obj] | None = None,
                     now: datetime | None = None) -> str:
    w = du.PrefixWriter()
    meta, spec = ing.get("metadata") or {}, ing.get("spec") or {}
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    du.labels_multiline(w, "Labels", meta.get("labels"))
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    lb = ((ing.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    address = ",".join(sorted({i.get("ip") or i.get("hostname") for i in lb if i.get("ip") or i.get("hostname")}))
    w.write(0, f"Address:\t{address}\n")
    w.write(0, f"Ingress Class:\t{spec.get('ingressClassName') or '<none>'}\n")
    default = backend_text(spec["defaultBackend"], backends) if spec.get("defaultBackend") else "<default>"
    w.write(0, f"Default backend:\t{default}\n")
    if spec.get("tls"):
        w.write(0, "TLS:\n")
        for t in spec["tls"]:
            hosts = ",".join(t.get("hosts") or [])
            if t.get("secretName"):
                w.write(1, f"{t['secretName']} terminates {hosts}\n")
            else:
                w.write(1, f"SNI routes {hosts}\n")
    w.write(0, "Rules:\n  Host\tPath\tBackends\n")
    w.write(1, "----\t----\t--------\n")
    count = 0
    for rule in spec.get("rules") or []:
        if rule.get("http") is None:
            continue
        count += 1
        w.write(1, f"{rule.get('host') or '*'}\t\n")
        for p in rule["http"].get("paths") or []:
            w.write(2, f"\t{p.get('path', '')} \t{backend_text(p.get('backend') or {}, backends)}\n")
    if count == 0:
        w.write(1, f"*\t*\t{default}\n")
    du.annotations_multiline(w, "Annotations", meta.get("annotations"))
    du.events(w, events, now)
    return w.text()


def service_names(ing: Obj) -> list[str]:
    """The Services an Ingress's backends name (what the describer needs read)."""
    spec = ing.get("spec") or {}
    refs = [spec.get("defaultBackend") or {}] + [p.get("backend") or {} for r in spec.get("rules") or []
                                                   for p in (r.get("http") or {}).get("paths") or []]
    return sorted({(b.get("service") or {}).get("name") for b in refs if (b.get("service") or {}).get("name")})
