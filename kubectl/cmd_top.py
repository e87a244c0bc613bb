"""`pykubectl top node|pod`: CPU and memory from the metrics API, as `kubectl top` prints them.

Owns both subcommands: `top node [NAME | -l SEL] [--sort-by cpu|memory] [--show-capacity]
[--no-headers]` (CPU in millicores and memory in Mi with their share of each node's
allocatable, or capacity; nodes without metrics as `<unknown>`) and `top pod [NAME | -l SEL]
[-n NS | -A] [--containers] [--sum] [--sort-by cpu|memory] [--field-selector] [--no-headers]`
(a pod's usage is the sum of its containers'). Quantities round up as kubectl's
MilliValue/Value do. Errors are kubectl's: "Metrics API not available" when the group is not
served, "metrics not available yet" when nothing was measured for existing objects.
"""
from __future__ import annotations

import argparse
import math
from typing import Any

from api.quantity import parse_quantity
from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError
from kubectl.tabwriter import TabWriter

Obj = dict[str, Any]
METRICS = "/apis/metrics.k8s.io/v1beta1"
MIB = 1024 * 1024


def _common(p: Parser, what: str) -> None:
    p.add_argument("args", nargs="*", metavar="[NAME | -l label]")
    p.add_argument("-l", "--selector", default="", help="label selector")
    p.add_argument("--sort-by", default="", choices=["", "cpu", "memory"], help="sort by cpu or memory")
    p.add_bool("--no-headers", help="print no header line")
    p.add_bool("--use-protocol-buffers", default=True, help="(accepted; JSON is used)")


def configure_node(p: Parser) -> None:
    """Display resource (CPU/memory) usage of nodes."""
    _common(p, "node")
    p.add_bool("--show-capacity", help="percentages of capacity instead of allocatable")


def configure_pod(p: Parser) -> None:
    """Display resource (CPU/memory) usage of pods."""
    _common(p, "pod")
    p.add_bool("-A", "--all-namespaces", help="pods of every namespace")
    p.add_bool("--containers", help="the usage of each container")
    p.add_bool("--sum", help="print the sum of the usage")
    p.add_argument("--field-selector", default="", help="field selector")


def millicores(q: Any) -> int:
    """kubectl's Quantity.MilliValue(): rounded up."""
    return math.ceil(parse_quantity(q) * 1000)


def bytes_of(q: Any) -> int:
    return math.ceil(parse_quantity(q))


async def _available(ctx: Context) -> None:
    client = await ctx.client()
    groups = (await client.request("GET", "/apis")).json().get("groups") or []
    if not any(g.get("name") == "metrics.k8s.io" and any(v.get("version") == "v1beta1" for v in g.get("versions") or [])
               for g in groups):
        raise CmdError("Metrics API not available")


def _name(args: argparse.Namespace, what: str) -> str | None:
    if len(args.args) > 1:
        raise CmdError(f"{what} [NAME | -l label]", f"See 'pykubectl top {what} -h' for help and examples")
    if args.args and args.selector:
        raise CmdError("only one of NAME or --selector can be provided")
    return args.args[0] if args.args else None


def _sorted(rows: list[tuple[Obj, int, int]], sort_by: str) -> list[tuple[Obj, int, int]]:
    if sort_by == "cpu":
        return sorted(rows, key=lambda r: -r[1])
    if sort_by == "memory":
        return sorted(rows, key=lambda r: -r[2])
    return rows


async def run_node(ctx: Context, args: argparse.Namespace) -> int:
    from api.resources import resolve
    await _available(ctx)
    client = await ctx.client()
    name = _name(args, "node")
    params = {"labelSelector": args.selector} if args.selector else None
    if name:
        metrics = [(await client.request("GET", f"{METRICS}/nodes/{name}")).json()]
        nodes = [await client.get(resolve("nodes"), name)]
    else:
        metrics = (await client.request("GET", f"{METRICS}/nodes", params=params)).json().get("items") or []
        nodes = (await client.list_all(resolve("nodes"), None, label_selector=args.selector or None)).items
    if not metrics:
        raise CmdError("metrics not available yet")
    by_name = {n["metadata"]["name"]: n for n in nodes}
    rows = [(m, millicores(m["usage"]["cpu"]), bytes_of(m["usage"]["memory"]))
            for m in sorted(metrics, key=lambda m: m["metadata"]["name"])]
    w = TabWriter()
    if not args.no_headers:
        w.write("NAME\tCPU(cores)\tCPU(%)\tMEMORY(bytes)\tMEMORY(%)\t\n")
    for m, cpu, mem in _sorted(rows, args.sort_by):
        node = by_name.get(m["metadata"]["name"]) or {}
        avail = ((node.get("status") or {}).get("capacity" if args.show_capacity else "allocatable")) or {}
        cpu_pct = f"{cpu * 100 // millicores(avail['cpu'])}%" if avail.get("cpu") else "<unknown>"
        mem_pct = f"{mem * 100 // bytes_of(avail['memory'])}%" if avail.get("memory") else "<unknown>"
        w.write(f"{m['metadata']['name']}\t{cpu}m\t{cpu_pct}\t{mem // MIB}Mi\t{mem_pct}\t\n")
    measured = {m["metadata"]["name"] for m in metrics}
    for n in sorted(by_name):
        if n not in measured:
            w.write(f"{n}\t<unknown>\t<unknown>\t<unknown>\t<unknown>\t\n")
    ctx.out(w.flush())
    return 0


async def run_pod(ctx: Context, args: argparse.Namespace) -> int:
    from api.resources import resolve
    await _available(ctx)
    client = await ctx.client()
    name = _name(args, "pod")
    ns = None if args.all_namespaces else ctx.namespace
    params = {k: v for k, v in (("labelSelector", args.selector), ("fieldSelector", args.field_selector)) if v}
    base = f"{METRICS}/namespaces/{ns}/pods" if ns else f"{METRICS}/pods"
    if name:
        metrics = [(await client.request("GET", f"{base}/{name}")).json()]
    else:
        metrics = (await client.request("GET", base, params=params or None)).json().get("items") or []
    if not metrics:
        pods = await client.list_all(resolve("pods"), ns, label_selector=args.selector or None)
        if pods.items:
            raise CmdError("metrics not available yet")
        ctx.err("No resources found\n" if ns is None else f"No resources found in {ns} namespace.\n")
        return 0
    metrics.sort(key=lambda m: (m["metadata"].get("namespace", ""), m["metadata"]["name"]))
    rows = [(m, sum(millicores(c["usage"]["cpu"]) for c in m.get("containers") or []),
             sum(bytes_of(c["usage"]["memory"]) for c in m.get("containers") or [])) for m in metrics]
    w = TabWriter()
    head = ["NAMESPACE"] if ns is None else []
    head += ["POD", "NAME"] if args.containers else ["NAME"]
    if not args.no_headers:
        w.write("\t".join(head + ["CPU(cores)", "MEMORY(bytes)"]) + "\t\n")
    total_cpu = total_mem = 0
    for m, cpu, mem in _sorted(rows, args.sort_by):
        lead = [m["metadata"].get("namespace", "")] if ns is None else []
        if args.containers:
            for c in m.get("containers") or []:
                c_cpu, c_mem = millicores(c["usage"]["cpu"]), bytes_of(c["usage"]["memory"])
                w.write("\t".join(lead + [m["metadata"]["name"], c["name"], f"{c_cpu}m", f"{c_mem // MIB}Mi"]) + "\t\n")
        else:
            w.write("\t".join(lead + [m["metadata"]["name"], f"{cpu}m", f"{mem // MIB}Mi"]) + "\t\n")
        total_cpu, total_mem = total_cpu + cpu, total_mem + mem
    if args.sum:
        pad = [""] * (len(head))
        w.write("\t".join(pad + ["________", "________"]) + "\t\n")
        w.write("\t".join(pad + [f"{total_cpu}m", f"{total_mem // MIB}Mi"]) + "\t\n")
    ctx.out(w.flush())
    return 0


COMMANDS = {"top node": (configure_node, run_node), "top pod": (configure_pod, run_pod)}
