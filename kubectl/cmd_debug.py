"""`pykubectl debug POD --image=IMAGE [-i] [-t] [-c NAME] [--target=C] [-- COMMAND...]`.

kubectl's ephemeral-container debugging: an ephemeral container (named `debugger-xxxxx`
unless `-c` names it, with the `general` profile's SYS_PTRACE capability) is added to the
pod through its `ephemeralcontainers` subresource (a strategic merge patch); with `-i`,
pykubectl waits for it to start and attaches (its log instead when it already ended, or
with a warning when the attach is refused), and says how to reattach. A server without that subresource answers 404 with empty
details, which kubectl reports as "ephemeral containers are disabled for this cluster".
`debug_container` is pure.
"""
from __future__ import annotations

import argparse
import json
import random
from typing import Any

from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError

_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"   # Kubernetes' rand.String
ENDED = ("Session ended, the ephemeral container will not be restarted but may be reattached using "
         "'{attach}' if it is still running")


def configure(p: Parser) -> None:
    """Create debugging sessions for troubleshooting workloads and nodes."""
    p.add_argument("args", nargs="*", metavar="(POD | TYPE/NAME)")
    p.add_argument("--image", default="", help="the image of the debug container")
    p.add_argument("-c", "--container", default="", help="the debug container's name")
    p.add_argument("--target", default="", help="share the process namespace of this container")
    p.add_bool("-i", "--stdin", help="keep stdin open on the container")
    p.add_bool("-t", "--tty", help="allocate a TTY for the debug container")
    p.add_bool("-q", "--quiet", help="suppress informational messages")
    p.add_argument("--image-pull-policy", default="", help="the debug container's image pull policy")


def debug_container(name: str, image: str, command: list[str], stdin: bool, tty: bool, target: str,
                    pull: str = "") -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": image, "terminationMessagePolicy": "File",
                         "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}   # profile "general"
    if command:
        c["command"] = command
    if stdin:
        c["stdin"] = True
    if tty:
        c["tty"] = True
    if target:
        c["targetContainerName"] = target
    if pull:
        c["imagePullPolicy"] = pull
    return c


async def run(ctx: Context, args: argparse.Namespace) -> int:
    from api.resources import resolve
    from client.errors import APIError
    from kubectl.cmd_attach import attach_session
    from kubectl.cmd_exec import UpgradeRefused
    from kubectl.cmd_run import _wait_pod
    words = list(args.args)
    if len(words) != 1:
        raise CmdError("one pod name is required for debugging" if not words else
                       "only one pod may be debugged at a time")
    if not args.image:
        raise CmdError("--image is required for ephemeral containers")
    if args.tty and not args.stdin:
        raise CmdError("-i/--stdin is required for containers with -t/--tty=true")
    pods = resolve("pods")
    client = await ctx.client()
    name = words[0].split("/", 1)[-1]
    pod = await client.get(pods, name, namespace=ctx.namespace)
    if args.target:
        ctx.out(f'Targeting container "{args.target}". If you don\'t see processes from this container it may be '
                "because the container runtime doesn't support this feature.\n")
    debugger = args.container
    if not debugger:
        debugger = "debugger-" + "".join(random.choice(_ALPHABET) for _ in range(5))
        if not args.quiet:
            ctx.out(f"Defaulting debug container name to {debugger}.\n")
    container = debug_container(debugger, args.image, list(args.passthrough), args.stdin, args.tty,
                                args.target, args.image_pull_policy)
    existing = next((c for c in (pod.get("spec") or {}).get("ephemeralContainers") or []
                     if c.get("name") == debugger), None)
    if existing is not None:   # as kubectl's two-way patch: what the new one lacks is removed
        container = {**{k: None for k in existing}, **container}
    patch = {"spec": {"ephemeralContainers": [container]}}
    path = pods.path(ctx.namespace, name, "ephemeralcontainers")
    try:
        await client.request("PATCH", path, content=json.dumps(patch).encode(),
                             headers={"Content-Type": "application/strategic-merge-patch+json"})
    except APIError as e:
        if e.code == 404 and not (e.status.get("details") or {}).get("name"):
            raise CmdError(f'ephemeral containers are disabled for this cluster (error from server: '
                           f'"{e.status.get("message")}")') from None
        raise
    if not args.stdin:
        return 0

    def started(p: dict[str, Any]) -> bool:
        return any(s.get("name") == debugger and ({"running", "terminated"} & set(s.get("state") or {}))
                   for s in (p.get("status") or {}).get("ephemeralContainerStatuses") or [])
    pod = await _wait_pod(ctx, name, 60, started)
    if any(s.get("name") == debugger and "terminated" in (s.get("state") or {})
           for s in (pod.get("status") or {}).get("ephemeralContainerStatuses") or []):
        return await _print_log(ctx, name, debugger)   # it ended already: its log, as kubectl
    try:
        code, message = await attach_session(ctx, pod, debugger, args.stdin, args.tty, args.quiet, ended=ENDED)
    except UpgradeRefused as e:   # it ended before we attached: its output is in its log
        ctx.err(f"warning: couldn't attach to pod/{name}, falling back to streaming logs: {e}\n")
        return await _print_log(ctx, name, debugger)
    if code and message:
        ctx.err(message + "\n")
    return code


async def _print_log(ctx: Context, pod: str, container: str) -> int:
    from api.resources import resolve
    client = await ctx.client()
    r = await client.request("GET", resolve("pods").path(ctx.namespace, pod, "log"), params={"container": container})
    ctx.out(r.text)
    return 0


COMMANDS = {"debug": (configure, run)}
