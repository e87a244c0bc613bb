"""`kubectl get` columns of Ingress and IngressClass (Kubernetes' printIngress and
printIngressClass in pkg/printers/internalversion), as pure functions of wire dicts.
`TABLES` is merged into api.tables'."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.tables import Column, Obj, age, meta_of, spec_of, status_of

_NAME = Column("Name", format="name", description="Name must be unique within a namespace.")
_AGE = Column("Age", description="CreationTimestamp")
LOAD_BALANCER_WIDTH = 16


def format_hosts(rules: list[Obj]) -> str:
    """The first three hosts, `*` when none names one, `+ N more...` past three."""
    hosts: list[str] = []
    more = False
    for rule in rules:
        if len(hosts) == 3:
            more = True
        if not more and rule.get("host"):
            hosts.append(rule["host"])
    if not hosts:
        return "*"
    text = ",".join(hosts)
    return f"{text} + {len(rules) - 3} more..." if more else text


def load_balancer_text(status: Obj, wide: bool = False) -> str:
    """The addresses (IP, else hostname), sorted and unique, cut at 16 characters unless wide."""
    seen = sorted({i.get("ip") or i.get("hostname") for i in (status.get("loadBalancer") or {}).get("ingress") or []
                   if i.get("ip") or i.get("hostname")})
    text = ",".join(seen)
    if not wide and len(text) > LOAD_BALANCER_WIDTH:
        text = text[:LOAD_BALANCER_WIDTH - 3] + "..."
    return text


def _ingress_row(ing: Obj) -> list[Any]:
    spec = spec_of(ing)
    return [meta_of(ing).get("name"), spec.get("ingressClassName") or "<none>", format_hosts(spec.get("rules") or []),
            load_balancer_text(status_of(ing)), "80, 443" if spec.get("tls") else "80", age(ing)]


def _ingress_class_row(c: Obj) -> list[Any]:
    spec = spec_of(c)
    params = spec.get("parameters")
    text = "<none>"
    if params:
        text = params.get("kind") or ""
        if params.get("apiGroup") is not None:
            text += "." + params["apiGroup"]
        text += "/" + (params.get("name") or "")
    return [meta_of(c).get("name"), spec.get("controller") or "", text, age(c)]


TABLES: dict[str, tuple[list[Column], Callable[[Obj], list[Any]]]] = {
    "Ingress": ([_NAME, Column("Class"), Column("Hosts"), Column("Address"), Column("Ports"), _AGE], _ingress_row),
    "IngressClass": ([_NAME, Column("Controller"), Column("Parameters"), _AGE], _ingress_class_row),
}
