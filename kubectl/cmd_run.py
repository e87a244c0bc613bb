"""`pykubectl run NAME --image=IMAGE [-i] [-t] [--rm] [--restart=..] [--command] -- [ARGS...]`.

Creates one pod as kubectl's generator does (container named after the pod, label
`run=NAME`, `stdin`/`stdinOnce`/`tty` from `-i`/`-t`, restart policy `Always`, or
`OnFailure` when interactive). Without `--attach` (implied by `-i`) it prints
`pod/NAME created`. Attached, it waits for the pod to run (or finish), shows the output
so far, attaches (falling back to the logs when the container is already gone), deletes
the pod with `--rm`, and for restart policies Never/OnFailure waits for the pod to end
and returns the container's exit code, as kubectl does. `pod_object` is pure.
"""
from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from kubectl.cli import Parser, parse_duration
from kubectl.context import Context
from kubectl.errors import CmdError

RESTARTS = ("Always", "OnFailure", "Never")


def configure(p: Parser) -> None:
    """Run a particular image on the cluster."""
    p.add_argument("args", nargs="*", metavar="NAME")
    p.add_argument("--image", default="", help="the image for the container")
    p.add_argument("--restart", default="", help="the pod's restart policy: Always, OnFailure or Never")
    p.add_bool("-i", "--stdin", help="keep stdin open on the container")
    p.add_bool("-t", "--tty", help="allocate a TTY for the container")
    p.add_bool("--rm", help="delete the pod after it exits (only with an attached session)")
    p.add_bool("--attach", default=None, help="wait for the pod to start and attach to it")  # type: ignore[arg-type]
    p.add_bool("--command", help="use the extra arguments as the command, not the args")
    p.add_argument("--env", action="append", default=[], help="environment variables, NAME=VALUE")
    p.add_argument("-l", "--labels", default="", help="comma-separated labels")
    p.add_argument("--port", default="", help="the port the container exposes")
    p.add_argument("--image-pull-policy", default="", help="the container's image pull policy")
    p.add_bool("-q", "--quiet", help="suppress prompt messages")
    p.add_argument("--pod-running-timeout", default="1m0s", help="how long to wait for the pod to run")


def _pairs(text: str, what: str) -> dict[str, str]:
    out = {}
    for part in [p for p in text.split(",") if p]:
        k, sep, v = part.partition("=")
        if not sep or not k:
            raise CmdError(f"unexpected {what} spec: {part}")
        out[k] = v
    return out


def pod_object(name: str, image: str, args: list[str], *, command: bool, stdin: bool, tty: bool,
               restart: str, env: list[str], labels: str, port: str, pull: str) -> dict[str, Any]:
    container: dict[str, Any] = {"name": name, "image": image}
    if args:
        container["command" if command else "args"] = args
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in (e.partition("=")[::2] for e in env)]
    if stdin:
        container.update(stdin=True, stdinOnce=True)
    if tty:
        container["tty"] = True
    if port:
        container["ports"] = [{"containerPort": int(port)}]
    if pull:
        container["imagePullPolicy"] = pull
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": _pairs(labels, "label") or {"run": name}},
            "spec": {"containers": [container], "restartPolicy": restart, "dnsPolicy": "ClusterFirst"}}


def _validate(args: argparse.Namespace) -> tuple[str, str, bool]:
    if not args.args:
        raise CmdError("NAME is required for run")
    if not args.image:
        raise CmdError("--image is required")
    if args.tty and not args.stdin:
        raise CmdError("-i/--stdin is required for containers with -t/--tty=true")
    restart = args.restart or ("OnFailure" if args.stdin else "Always")
    if restart not in RESTARTS:
        raise CmdError(f"invalid restart policy: {restart}, valid values are: Always, OnFailure, Never")
    attach = bool(args.attach) if args.attach is not None else args.stdin
    if args.rm and not attach:
        raise CmdError("--rm should only be used for attached containers")
    if args.port and not args.port.isdigit():
        raise CmdError("--port must be a number")
    for e in args.env:
        if "=" not in e or e.startswith("="):
            raise CmdError(f"invalid env: {e}")
    return args.args[0], restart, attach


async def run(ctx: Context, args: argparse.Namespace) -> int:
    from api.resources import resolve
    name, restart, attach = _validate(args)
    pod = pod_object(name, args.image, list(args.args[1:]) + list(args.passthrough), command=args.command,
                     stdin=args.stdin, tty=args.tty, restart=restart, env=args.env, labels=args.labels,
                     port=args.port, pull=args.image_pull_policy)
    client = await ctx.client()
    created = await client.create(pod, namespace=ctx.namespace)
    if not attach:
        ctx.out(f"pod/{name} created\n")
        return 0
    pods = resolve("pods")
    timeout = parse_duration(args.pod_running_timeout, "--pod-running-timeout")
    code, message = 0, ""
    try:
        await _attach(ctx, args, created, timeout)
        if restart != "Always":
            done = await _wait_pod(ctx, name, timeout, lambda p: _phase(p) == "Succeeded" or
                                   (restart == "Never" and _phase(p) == "Failed"))
            code, message = exit_status(done)
    finally:
        if args.rm:
            await client.delete(pods, name, namespace=ctx.namespace)
            ctx.out(f'pod "{name}" deleted from {ctx.namespace} namespace\n')
    if message:
        ctx.err(message + "\n")
    return code


def _phase(pod: dict[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def _running_and_ready(pod: dict[str, Any]) -> bool:
    return _phase(pod) == "Running" and any(c.get("type") == "Ready" and c.get("status") == "True"
                                            for c in (pod.get("status") or {}).get("conditions") or [])


def exit_status(pod: dict[str, Any]) -> tuple[int, str]:
    """The exit code `run` ends with for a finished pod, and what it prints (pure)."""
    if _phase(pod) == "Succeeded":
        return 0, ""
    meta = pod.get("metadata") or {}
    who = f"pod {meta.get('namespace')}/{meta.get('name')}"
    term = (((pod.get("status") or {}).get("containerStatuses") or [{}])[0].get("state") or {}).get("terminated")
    if not term or not term.get("exitCode"):
        return 1, f"error: {who} failed with unknown exit code"
    return int(term["exitCode"]), f"{who} terminated ({term.get('reason', '')})\n{term.get('message', '')}".rstrip()


async def _wait_pod(ctx: Context, name: str, timeout: float, done: Any) -> dict[str, Any]:
    """The pod once `done(pod)`, watching it (timeout 0: forever)."""
    from api.resources import resolve
    client = await ctx.client()
    pods = resolve("pods")
    deadline = time.monotonic() + timeout if timeout > 0 else None
    while True:
        lst = await client.list(pods, ctx.namespace, field_selector=f"metadata.name={name}")
        if not lst.items:
            raise CmdError(f'pods "{name}" not found')
        if done(lst.items[0]):
            return dict(lst.items[0])
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise CmdError("timed out waiting for the condition")
        try:
            async with asyncio.timeout(left):
                async for ev in client.watch(pods, ctx.namespace, resource_version=lst.resource_version,
                                             field_selector=f"metadata.name={name}"):
                    if ev.type == "DELETED":
                        raise CmdError(f'pods "{name}" not found')
                    if ev.type in ("ADDED", "MODIFIED") and done(ev.object):
                        return dict(ev.object)
        except TimeoutError:
            raise CmdError("timed out waiting for the condition") from None


async def _attach(ctx: Context, args: argparse.Namespace, pod: dict[str, Any], timeout: float) -> None:
    from client.errors import APIError, ConnectionFailed
    from kubectl.cmd_attach import attach_session
    from kubectl.cmd_exec import UpgradeRefused
    name = pod["metadata"]["name"]
    pod = await _wait_pod(ctx, name, timeout, lambda p: _running_and_ready(p) or _phase(p) in ("Succeeded", "Failed"))
    if _phase(pod) in ("Succeeded", "Failed"):
        await _logs(ctx, name, None)
        return
    since = await _logs(ctx, name, None)          # what it printed before we attach
    try:
        await attach_session(ctx, pod, name, args.stdin, args.tty, args.quiet, "kubectl attach")
    except (APIError, ConnectionFailed, UpgradeRefused) as e:
        ctx.err(f"warning: couldn't attach to pod/{name}, falling back to streaming logs: {e}\n")
        await _logs(ctx, name, since)


async def _logs(ctx: Context, name: str, since: str | None) -> str:
    """Print the pod's log (from `since`); the time it was read, for the next call."""
    from api.meta import now_rfc3339
    from api.resources import resolve
    client = await ctx.client()
    path = resolve("pods").path(ctx.namespace, name, "log")
    stamp = now_rfc3339()
    r = await client.request("GET", path, params={"sinceTime": since} if since else None)
    ctx.out(r.text)
    return stamp


COMMANDS = {"run": (configure, run)}
