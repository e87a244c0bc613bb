"""`pykubectl logs POD|TYPE/NAME [-c C] [-f] [--tail N] [--since D] [--timestamps]
[--previous] [--all-containers] [-l SEL] [--prefix]`: find the pod (a Deployment or
ReplicaSet resolves to one of its pods, `-l` to every matching pod), pick the container
(`-c`, the `kubectl.kubernetes.io/default-container` annotation, else the first, with
kubectl's `Defaulted container` note), and stream `GET pods/NAME/log` to stdout.
"""
from __future__ import annotations

import argparse
from typing import Any

from kubectl import targets
from kubectl.cli import Parser, parse_duration
from kubectl.context import Context
from kubectl.errors import CmdError

Obj = dict[str, Any]
DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"


def configure(p: Parser) -> None:
    """Print the logs for a container in a pod."""
    p.add_argument("args", nargs="*", metavar="(POD | TYPE/NAME) [CONTAINER]")
    p.add_argument("-c", "--container", default="", help="the container to print the logs of")
    p.add_bool("-f", "--follow", help="stream the logs")
    p.add_argument("--tail", type=int, default=-1, help="lines of recent log to show (-1: all)")
    p.add_argument("--since", default="", help="only logs newer than this duration (5s, 2m, 3h)")
    p.add_argument("--since-time", default="", help="only logs after this RFC 3339 time")
    p.add_bool("--timestamps", help="include timestamps on each line")
    p.add_bool("-p", "--previous", help="the previous instance of the container")
    p.add_bool("--all-containers", help="every container of the pod(s)")
    p.add_argument("-l", "--selector", default="", help="label selector")
    p.add_bool("--prefix", help="prefix each line with the pod and container name")
    p.add_argument("--limit-bytes", type=int, default=0, help="maximum bytes of logs to return")


def log_params(args: argparse.Namespace, container: str) -> dict[str, Any]:
    params: dict[str, Any] = {"container": container}
    if args.follow:
        params["follow"] = "true"
    if args.tail >= 0:
        params["tailLines"] = args.tail
    if args.since:
        params["sinceSeconds"] = max(1, int(parse_duration(args.since, "--since") + 0.999))
    if args.since_time:
        params["sinceTime"] = args.since_time
    if args.timestamps:
        params["timestamps"] = "true"
    if args.previous:
        params["previous"] = "true"
    if args.limit_bytes:
        params["limitBytes"] = args.limit_bytes
    return params


def pick_containers(pod: Obj, wanted: str, all_containers: bool) -> tuple[list[str], str | None]:
    """(containers to read, the note kubectl prints when it chose one)."""
    spec = pod.get("spec") or {}
    inits, names, ephemeral = ([c.get("name", "") for c in spec.get(k) or []]
                               for k in ("initContainers", "containers", "ephemeralContainers"))
    pod_name = (pod.get("metadata") or {}).get("name")
    if all_containers:
        return inits + names + ephemeral, None
    if wanted:
        if wanted not in inits + names + ephemeral:
            raise CmdError(f"container {wanted} is not valid for pod {pod_name}")
        return [wanted], None
    if not names:
        raise CmdError(f"pod {pod_name} has no containers")
    default = ((pod.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CONTAINER)
    if default in names:
        return [default], None
    if len(names) == 1:
        return names, None
    every = [f"{n} (init)" for n in inits] + names + [f"{n} (ephem)" for n in ephemeral]
    return [names[0]], f'Defaulted container "{names[0]}" out of: {", ".join(every)}'


async def _pods(ctx: Context, args: argparse.Namespace) -> list[Obj]:
    from api.resources import resolve
    client = await ctx.client()
    words = list(args.args)
    if args.selector:
        if words:
            raise CmdError("only a selector (-l) or a POD name is allowed")
        lst = await client.list_all(resolve("pods"), ctx.namespace, label_selector=args.selector)
        return list(lst.items)
    if not words:
        raise CmdError("expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
                       "POD or TYPE/NAME is a required argument for the logs command")
    if len(words) > 2:
        raise CmdError("expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.")
    if len(words) == 2:
        if args.container:
            raise CmdError("only one of -c or an inline [CONTAINER] arg is allowed")
        args.container = words[1]
    word = words[0]
    if "/" not in word:
        return [await client.get(resolve("pods"), word, namespace=ctx.namespace)]
    kind, _, name = word.partition("/")
    info = targets.resolve_type(kind)
    if info.kind == "Pod":
        return [await client.get(info, name, namespace=ctx.namespace)]
    owner = await client.get(info, name, namespace=ctx.namespace)
    from kubectl.describers import selector_text
    sel = selector_text((owner.get("spec") or {}).get("selector"))
    if not sel:
        raise CmdError(f"cannot get the logs from {info.group_resource}: selector is empty")
    lst = await client.list_all(resolve("pods"), ctx.namespace, label_selector=sel)
    pods = sorted(lst.items, key=lambda p: ((p.get("status") or {}).get("phase") != "Running",
                                           (p.get("metadata") or {}).get("creationTimestamp") or ""))
    if not pods:
        raise CmdError("timed out waiting for the condition")
    if len(pods) > 1:
        ctx.err(f"Found {len(pods)} pods, using pod/{(pods[0].get('metadata') or {}).get('name')}\n")
    return pods[:1]


async def run(ctx: Context, args: argparse.Namespace) -> int:
    from api.resources import resolve
    client = await ctx.client()
    pods = await _pods(ctx, args)
    for pod in pods:
        meta = pod.get("metadata") or {}
        containers, note = pick_containers(pod, args.container, args.all_containers)
        if note:
            ctx.err(note + "\n")
        for c in containers:
            prefix = f"[pod/{meta.get('name')}/{c}] " if args.prefix else ""
            path = resolve("pods").path(meta.get("namespace"), meta.get("name"), "log")
            async with client.stream("GET", path, params=log_params(args, c)) as resp:
                pending = ""
                async for chunk in resp.aiter_text():
                    if not prefix:
                        ctx.out(chunk)
                        continue
                    pending += chunk
                    *lines, pending = pending.split("\n")
                    ctx.out("".join(f"{prefix}{line}\n" for line in lines))
                if prefix and pending:
                    ctx.out(f"{prefix}{pending}")
    return 0


COMMANDS = {"logs": (configure, run)}
