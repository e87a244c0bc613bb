"""`pykubectl create ingress NAME --rule=host/path=service:port[,tls[=secret]] [--class=C]
[--default-backend=service:port] [--annotation=k=v]`: the generator of kubectl's
create_ingress.go, with its flag checks and wording. A path ending in `*` is a Prefix path
(the `*` dropped), any other an Exact one; rules of one host share its `http.paths`; a rule
with `,tls` adds its host to the TLS entry of that secret (each host once). Registered into
cmd_create.
"""
from __future__ import annotations

import argparse
import re
from typing import Any

from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError

Obj = dict[str, Any]
RULE_RE = re.compile(r"^(?P<host>[\w*\-.]*)(?P<path>/.*)=(?P<svcname>[\w\-]+):(?P<svcport>[\w\-]+)"
                     r"(,(?P<istls>tls)=?(?P<secretname>[\w\-]+)?)?$", re.ASCII)


def configure_ingress(p: Parser) -> None:
    """Create an ingress with the specified name."""
    p.add_argument("name", nargs="*")
    p.add_argument("--rule", action="append", default=[],
                   help="rule in format host/path=service:port[,tls=secretname]")
    p.add_argument("--class", dest="ingress_class", default="", help="ingress class to be used")
    p.add_argument("--default-backend", default="", help="default service for backend, in format of svcname:port")
    p.add_argument("--annotation", action="append", default=[], help="annotation to insert in the ingress object")
    from kubectl.cmd_create import _common
    _common(p)


def validate(rules: list[str], default_backend: str, annotations: list[str]) -> None:
    if not default_backend and not rules:
        raise CmdError("not enough information provided: every ingress has to either specify a default-backend "
                       "(which catches all traffic) or a list of rules (which catch specific paths)")
    for rule in rules:
        if not RULE_RE.match(rule):
            raise CmdError(f"rule {rule} is invalid and should be in format host/path=svcname:svcport[,tls[=secret]]")
    for a in annotations:
        if "=" not in a:
            raise CmdError(f"annotation {a} is invalid and should be in format key=[value]")
    if default_backend and len(default_backend.split(":")) != 2:
        raise CmdError("default-backend should be in format servicename:serviceport")


def backend(service: str) -> Obj:
    name, port = service.split(":")[0], service.split(":")[1]
    return {"service": {"name": name, "port": {"number": int(port)} if re.fullmatch(r"-?\d+", port)
                        else {"name": port}}}


def http_path(pathsvc: str) -> Obj:
    parts = pathsvc.split("=")
    path, path_type = "/" + parts[0], "Exact"
    if path.endswith("*"):
        path, path_type = path[:-1], "Prefix"
    return {"path": path, "pathType": path_type, "backend": backend(parts[1])}


def tls_entries(rules: list[str]) -> list[Obj]:
    entries: list[Obj] = []
    seen: set[str] = set()
    for rule in rules:
        parts = rule.split(",")
        if len(parts) != 2:
            continue
        host = rule.split("/", 1)[0]
        secret_parts = parts[1].split("=")
        secret = secret_parts[1] if len(secret_parts) > 1 else ""
        if host in seen:
            continue
        seen.add(host)
        same = next((e for e in entries if e.get("secretName", "") == secret), None)
        if same is not None:
            same.setdefault("hosts", []).append(host)
            continue
        entry: Obj = {}
        if host:
            entry["hosts"] = [host]
        if secret:
            entry["secretName"] = secret
        if entry:
            entries.append(entry)
    return entries


def ingress_rules(rules: list[str]) -> list[Obj]:
    out: list[Obj] = []
    for rule in rules:
        host, pathsvc = rule.split(",")[0].split("/", 1)
        path = http_path(pathsvc)
        same = next((r for r in out if r.get("host", "") == host), None)
        if same is not None:
            same["http"]["paths"].append(path)
            continue
        r: Obj = {"host": host} if host else {}
        r["http"] = {"paths": [path]}
        out.append(r)
    return out


def ingress_object(name: str, rules: list[str], ingress_class: str = "", default_backend: str = "",
                   annotations: list[str] | None = None) -> Obj:
    meta: Obj = {"name": name}
    notes = dict(a.split("=", 1) for a in annotations or [])
    if notes:
        meta["annotations"] = notes
    spec: Obj = {}
    if ingress_class:
        spec["ingressClassName"] = ingress_class
    if default_backend:
        spec["defaultBackend"] = backend(default_backend)
    tls = tls_entries(rules)
    if tls:
        spec["tls"] = tls
    if rules:
        spec["rules"] = ingress_rules(rules)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec,
            "status": {"loadBalancer": {}}}


async def run_ingress(ctx: Context, args: argparse.Namespace) -> int:
    from kubectl.cmd_create import _check_output, _send
    _check_output(args)
    if len(args.name) != 1:
        raise CmdError("exactly one NAME is required, got " + str(len(args.name)),
                       "See 'pykubectl create ingress -h' for help and examples")
    validate(args.rule, args.default_backend, args.annotation)
    obj = ingress_object(args.name[0], args.rule, args.ingress_class, args.default_backend, args.annotation)
    if args.dry_run == "none":
        obj.pop("status")
    await _send(ctx, args, obj)
    return 0


COMMANDS = {"create ingress": (configure_ingress, run_ingress), "create ing": (configure_ingress, run_ingress)}
