"""`pykubectl autoscale (TYPE NAME | TYPE/NAME | -f FILE) --max=N [--min=N] [--cpu=70%|500m]
[--memory=60%|200Mi] [--cpu-percent=N] [--name=NAME]`: kubectl's autoscale.go.

Builds an autoscaling/v2 HorizontalPodAutoscaler for each target that has a scale
subresource (`--cpu`/`--memory` ending in `%` are Utilization targets, other values
AverageValue, bare numbers in millicores or Mi; the deprecated `--cpu-percent` a CPU
Utilization target; no metric: the server's default of 80% CPU) and creates it. As kubectl
1.3x does, a failed v2 create falls back to autoscaling/v1 only when the targets fit v1
(CPU utilization alone), otherwise it fails with kubectl's wording. Prints
`horizontalpodautoscaler.autoscaling/x autoscaled`, or the object with -o, or with
--dry-run=client what would be sent.
"""
from __future__ import annotations

import argparse
import re
from typing import Any

from kubectl import objects, printers, targets
from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError, is_bug

Obj = dict[str, Any]
CPU_PERCENT_DEPRECATED = ("Flag --cpu-percent has been deprecated, Use --cpu with percentage or resource "
                          "quantity format (e.g., '70%' for utilization or '500m' for milliCPU).\n")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def configure(p: Parser) -> None:
    """Auto-scale a deployment, replica set, stateful set, or replication controller."""
    p.add_argument("args", nargs="*", metavar="TYPE NAME | TYPE/NAME")
    p.add_argument("-f", "--filename", action="append", default=[], help="files identifying the resource")
    p.add_bool("-R", "--recursive", help="process the directory used in -f recursively")
    p.add_argument("--min", type=int, default=-1, help="the lower limit for the number of pods")
    p.add_argument("--max", type=int, default=None, help="the upper limit for the number of pods (required)")
    p.add_argument("--cpu-percent", type=int, default=-1, help="deprecated: use --cpu")
    p.add_argument("--cpu", default="", help="target CPU: 70%% (utilization) or 500m (average value)")
    p.add_argument("--memory", default="", help="target memory: 60%% (utilization) or 200Mi (average value)")
    p.add_argument("--name", default="", help="the name of the autoscaler (default: the target's)")
    p.add_argument("--dry-run", nargs="?", const="client", default="none",
                   choices=["none", "client", "server"], help="only print the object that would be sent")
    p.add_argument("-o", "--output", default="", help="yaml|json|name: print the object")
    p.add_bool("--save-config", help="store the configuration in the last-applied annotation")
    p.add_argument("--field-manager", default="kubectl-autoscale", help="name of the field manager")


def parse_target(text: str, resource: str) -> tuple[str, int | str]:
    """parseResourceInput: ("Utilization", percent) or ("AverageValue", quantity text)."""
    from api.quantity import format_quantity, parse_quantity
    if text.endswith("%"):
        number = text[:-1]
        if not re.fullmatch(r"[+-]?\d+", number) or int(number) <= 0:
            raise CmdError(f"invalid percentage value: {number}")
        return "Utilization", int(number)
    if _NUMBER.match(text):
        text += "m" if resource == "cpu" else "Mi"
    try:
        return "AverageValue", format_quantity(text) if parse_quantity(text) is not None else text
    except (ValueError, ArithmeticError):
        raise CmdError(f"invalid resource {resource} value: {text}") from None


def _metric(resource: str, kind: str, value: int | str) -> Obj:
    target: Obj = {"type": kind, "averageUtilization" if kind == "Utilization" else "averageValue": value}
    return {"type": "Resource", "resource": {"name": resource, "target": target}}


def hpa_v2(name: str, ref: Obj, args: argparse.Namespace) -> Obj:
    spec: Obj = {"scaleTargetRef": ref, "maxReplicas": args.max}
    if args.min > 0:
        spec["minReplicas"] = args.min
    metrics = []
    if args.cpu_percent > 0:
        metrics.append(_metric("cpu", "Utilization", args.cpu_percent))
    if args.cpu:
        metrics.append(_metric("cpu", *parse_target(args.cpu, "cpu")))
    if args.memory:
        metrics.append(_metric("memory", *parse_target(args.memory, "memory")))
    if metrics:
        spec["metrics"] = metrics
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name},
            "spec": spec, "status": {"currentMetrics": None, "desiredReplicas": 0}}


def hpa_v1(v2: Obj, args: argparse.Namespace) -> Obj:
    spec = {k: v for k, v in v2["spec"].items() if k != "metrics"}
    percent = args.cpu_percent if args.cpu_percent > 0 else (
        parse_target(args.cpu, "cpu")[1] if args.cpu else None)
    if percent is not None:
        spec["targetCPUUtilizationPercentage"] = percent
    return {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": dict(v2["metadata"]), "spec": spec}


def v1_compatible(args: argparse.Namespace) -> None:
    """canCreateHPAV1, word for word: --cpu is parsed even when empty ("empty input"), and
    an incompatible configuration reports Go's rendering of a nil error."""
    if not args.cpu:
        raise CmdError("empty input")
    kind, _ = parse_target(args.cpu, "cpu")
    if not ((args.cpu_percent >= 0 and not args.memory) or (not args.memory and kind == "Utilization")):
        raise CmdError("%!w(<nil>)")


def _validate(ctx: Context, args: argparse.Namespace) -> None:
    if args.cpu_percent != -1:
        ctx.err(CPU_PERCENT_DEPRECATED)
    if args.max is None:
        raise CmdError('required flag(s) "max" not set')
    if args.max < 1:
        raise CmdError(f"--max=MAXPODS is required and must be at least 1, max: {args.max}")
    if args.max < args.min:
        raise CmdError(f"--max=MAXPODS must be larger or equal to --min=MINPODS, max: {args.max}, min: {args.min}")
    if args.cpu_percent > 0 and args.cpu:
        raise CmdError("--cpu-percent and --cpu are mutually exclusive")
    if args.cpu:
        parse_target(args.cpu, "cpu")
    if args.memory:
        parse_target(args.memory, "memory")
    if args.output not in ("", "yaml", "json", "name"):
        raise CmdError(f'unable to match a printer suitable for the output format "{args.output}", '
                       "allowed formats are: json,name,yaml")


def _gvr(info: Any) -> str:
    return f"{info.group}/{info.version}, Resource={info.plural}"


async def _create(ctx: Context, args: argparse.Namespace, obj: Obj, ns: str | None) -> Obj:
    client = await ctx.client()
    params: dict[str, Any] = {"fieldManager": args.field_manager}
    if args.dry_run == "server":
        params["dryRun"] = "All"
    path = f"/apis/{obj['apiVersion']}/namespaces/{ns}/horizontalpodautoscalers"
    return dict((await client.request("POST", path, params=params, json=obj)).json())


def _print(ctx: Context, args: argparse.Namespace, obj: Obj, operation: str) -> None:
    suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(args.dry_run, "")
    if args.output in ("yaml", "json"):
        ctx.out(printers.render([obj], printers.PrintOptions(output=args.output), single=True))
    elif args.output == "name":
        ctx.out(printers.qualified_name(obj) + "\n")
    else:
        ctx.out(f"{printers.qualified_name(obj)} {operation}{suffix}\n")


async def run(ctx: Context, args: argparse.Namespace) -> int:
    _validate(ctx, args)
    if args.filename:
        from kubectl import manifests
        tgts = targets.from_manifests(manifests.load(args.filename, args.recursive, ctx.stdin))
    elif args.args:
        tgts = targets.parse_args(args.args)
    else:
        raise CmdError("You must provide one or more resources by argument or filename.",
                       "Example resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n"
                       "   '<resource> <name>'\n   '<resource>'")
    got = await targets.fetch(ctx, tgts)
    for e in got.errors:
        raise e
    count = 0
    for target in got.objects:
        info = printers.info_of(target)
        assert info is not None
        if "scale" not in info.subresources:
            raise CmdError(f"cannot autoscale a {info.kind}: could not find scale subresource for "
                           f"{_gvr(info)} in discovery information")
        meta = target.get("metadata") or {}
        ref = {"kind": info.kind, "name": meta["name"], "apiVersion": info.api_version}
        obj = hpa_v2(args.name or meta["name"], ref, args)
        ns = meta.get("namespace") or ctx.namespace
        if ctx.namespace_explicit:
            obj["metadata"]["namespace"] = ns
        count += 1
        if args.dry_run == "client":
            _print(ctx, args, obj, "created")
            continue
        if args.save_config:
            obj = objects.with_last_applied(obj)
        body = {k: v for k, v in obj.items() if k != "status"}
        try:
            created = await _create(ctx, args, body, ns)
        except Exception as e:
            if is_bug(e):
                raise
            try:
                v1_compatible(args)
            except CmdError as why:
                raise CmdError("failed to create autoscaling/v2 HPA and the configuration is incompatible "
                               f"with autoscaling/v1: {why}") from None
            created = await _create(ctx, args, hpa_v1(body, args), ns)
        _print(ctx, args, created, "autoscaled")
    if count == 0:
        raise CmdError("no objects passed to autoscale")
    return 0


COMMANDS = {"autoscale": (configure, run)}
