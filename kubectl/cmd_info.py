"""`pykubectl version`, `cluster-info` and `api-resources`: what the server is and serves.

`api-resources` reads the server's legacy discovery documents (`/api/v1`, `/apis`, and each
group's preferred version) through `client.rest.Client.request`, and prints kubectl's table
(NAME SHORTNAMES APIVERSION NAMESPACED KIND, `-o wide` adding VERBS and CATEGORIES).
"""
from __future__ import annotations

import argparse
import json
import platform
from typing import Any

from kubectl import printers
from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError
from kubectl.tabwriter import TabWriter

CLIENT_GIT_VERSION = "v1.31.0-pykube"


def client_version() -> dict[str, str]:
    major, minor = CLIENT_GIT_VERSION.lstrip("v").split(".")[:2]
    return {"major": major, "minor": minor, "gitVersion": CLIENT_GIT_VERSION, "gitCommit": "",
            "gitTreeState": "clean", "buildDate": "", "goVersion": f"python{platform.python_version()}",
            "compiler": "cpython", "platform": f"{platform.system().lower()}/{platform.machine()}"}


def configure_version(p: Parser) -> None:
    """Print the client and server version information."""
    p.add_bool("--client", help="client version only (no server required)")
    p.add_argument("-o", "--output", default="", help="yaml|json")


async def run_version(ctx: Context, args: argparse.Namespace) -> int:
    if args.output not in ("", "yaml", "json"):
        raise CmdError("--output must be 'yaml' or 'json'")
    doc: dict[str, Any] = {"clientVersion": client_version()}
    server_error: Exception | None = None
    if not args.client:
        try:
            doc["serverVersion"] = await (await ctx.client()).version()
        except Exception as e:  # noqa: BLE001 - printed after the client version, as kubectl
            server_error = e
    if args.output == "json":
        ctx.out(json.dumps(doc, indent=2) + "\n")
    elif args.output == "yaml":
        ctx.out(printers.to_yaml(doc))
    else:
        ctx.out(f"Client Version: {CLIENT_GIT_VERSION}\n")
        if "serverVersion" in doc:
            ctx.out(f"Server Version: {doc['serverVersion'].get('gitVersion', '')}\n")
    if server_error is not None:
        raise server_error
    return 0


def configure_cluster_info(p: Parser) -> None:
    """Display cluster information."""


async def run_cluster_info(ctx: Context, args: argparse.Namespace) -> int:
    client = await ctx.client()
    await client.request("GET", "/api")        # fails like kubectl when the server is away
    server = ctx.config.server
    ctx.out(f"Kubernetes control plane is running at {server}\n")
    from api.resources import resolve
    lst = await client.list(resolve("services"), "kube-system",
                            label_selector="kubernetes.io/cluster-service=true")
    for svc in lst.items:
        meta = svc.get("metadata") or {}
        name = (meta.get("labels") or {}).get("kubernetes.io/name") or meta.get("name")
        link = f"{server}/api/v1/namespaces/kube-system/services/{_proxy_name(svc)}/proxy"
        ctx.out(f"{name} is running at {link}\n")
    ctx.out("\nTo further debug and diagnose cluster problems, use 'pykubectl cluster-info dump'.\n")
    return 0


def _proxy_name(svc: dict[str, Any]) -> str:
    """`<scheme>:<service>:<port name>` as kubectl's utilnet.JoinSchemeNamePort builds it."""
    name = (svc.get("metadata") or {}).get("name", "")
    ports = (svc.get("spec") or {}).get("ports") or []
    if not ports:
        return name
    port = ports[0]
    scheme = "https" if port.get("name") == "https" or port.get("port") == 443 else ""
    if scheme:
        return f"{scheme}:{name}:{port.get('name', '')}"
    return f"{name}:{port['name']}" if port.get("name") else name


def configure_api_resources(p: Parser) -> None:
    """Print the supported API resources on the server."""
    p.add_argument("-o", "--output", default="", help="wide|name")
    p.add_argument("--namespaced", nargs="?", const="true", default=None, choices=["true", "false"],
                   help="only (non-)namespaced resources")
    p.add_argument("--api-group", default=None, help="only resources in this API group")
    p.add_bool("--no-headers", help="do not print headers")
    p.add_argument("--verbs", action="append", default=[], help="only resources supporting these verbs")
    p.add_argument("--sort-by", default="", choices=["", "name", "kind"])


async def discovered_resources(ctx: Context) -> list[dict[str, Any]]:
    """Every top-level resource the server lists, with `apiVersion` and `group` added."""
    client = await ctx.client()
    docs = [("", "v1", (await client.request("GET", "/api/v1")).json())]
    groups = (await client.request("GET", "/apis")).json()
    for g in groups.get("groups") or []:
        gv = (g.get("preferredVersion") or {}).get("groupVersion")
        if not gv:
            continue
        docs.append((g.get("name", ""), gv, (await client.request("GET", f"/apis/{gv}")).json()))
    out = []
    for group, gv, doc in docs:
        for r in doc.get("resources") or []:
            if "/" in r.get("name", ""):
                continue
            out.append(dict(r, apiVersion=gv, group=group))
    return out


async def run_api_resources(ctx: Context, args: argparse.Namespace) -> int:
    if args.output not in ("", "wide", "name"):
        raise CmdError(f'--output {args.output} is not available')
    resources = await discovered_resources(ctx)
    if args.namespaced is not None:
        resources = [r for r in resources if bool(r.get("namespaced")) == (args.namespaced == "true")]
    if args.api_group is not None:
        resources = [r for r in resources if r["group"] == args.api_group]
    verbs = {v for vs in args.verbs for v in vs.split(",") if v}
    if verbs:
        resources = [r for r in resources if verbs <= set(r.get("verbs") or [])]
    resources.sort(key=lambda r: (r["group"], r.get("kind" if args.sort_by == "kind" else "name", "")))
    if args.output == "name":
        ctx.out("".join(f"{r['name']}.{r['group']}\n" if r["group"] else f"{r['name']}\n" for r in resources))
        return 0
    tw = TabWriter(padding=3, minwidth=6)
    wide = args.output == "wide"
    if not args.no_headers:
        tw.write("NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND" + ("\tVERBS\tCATEGORIES" if wide else "") + "\n")
    for r in resources:
        row = [r["name"], ",".join(r.get("shortNames") or []), r["apiVersion"],
               "true" if r.get("namespaced") else "false", r.get("kind", "")]
        if wide:
            row += [",".join(sorted(r.get("verbs") or [])), ",".join(r.get("categories") or [])]
        tw.write("\t".join(row) + "\n")
    ctx.out(tw.flush())
    return 0


COMMANDS = {
    "version": (configure_version, run_version),
    "cluster-info": (configure_cluster_info, run_cluster_info),
    "api-resources": (configure_api_resources, run_api_resources),
}
