"""`pykubectl attach POD|TYPE/NAME [-c C] [-i] [-t] [-q]`: join a running container's own process.

The pod's `attach` subresource, as kubectl uses it: the container's TTY decides ours (a
container started with `tty: true` always gets one; `-t` on one without says so), the
hints on stderr (unless `-q`), and "Session ended, resume using
..." after a session with a TTY. `attach_session` is shared with `run -i` and `debug`.
"""
from __future__ import annotations

import argparse
from typing import Any

from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError

RECORDED = ("All commands and output from this session will be recorded in container logs, including "
            "credentials and sensitive information passed through the command prompt.")
PROMPT_HINT = "If you don't see a command prompt, try pressing enter."


def configure(p: Parser) -> None:
    """Attach to a running container."""
    p.add_argument("args", nargs="*", metavar="(POD | TYPE/NAME)")
    p.add_argument("-c", "--container", default="", help="the container to attach to")
    p.add_bool("-i", "--stdin", help="pass stdin to the container")
    p.add_bool("-t", "--tty", help="stdin is a TTY")
    p.add_bool("-q", "--quiet", help="only print output from the remote session")
    p.add_argument("--pod-running-timeout", default="1m0s", help="how long to wait for a running pod")


def container_spec(pod: dict[str, Any], name: str) -> dict[str, Any]:
    spec = pod.get("spec") or {}
    for c in (spec.get("containers") or []) + (spec.get("ephemeralContainers") or []) + \
            (spec.get("initContainers") or []):
        if c.get("name") == name:
            return dict(c)
    raise CmdError(f"container {name} not found in pod {(pod.get('metadata') or {}).get('name')}")


async def attach_session(ctx: Context, pod: dict[str, Any], container: str, stdin: bool, tty: bool,
                         quiet: bool, command_name: str = "kubectl attach",
                         ended: str = "Session ended, resume using '{attach}' command") -> tuple[int, str]:
    """Attach this process's stdio to `container` of `pod`, with kubectl's messages (`ended`
    after a raw session, `{attach}` standing for the command that attaches again)."""
    from kubectl import terminal
    from kubectl.cmd_exec import stream_to_pod
    spec = container_spec(pod, container)
    if tty and not spec.get("tty"):
        tty = False
        if not quiet:
            ctx.err(f"error: Unable to use a TTY - container {container} did not allocate one\n")
    elif not tty and spec.get("tty"):
        tty = True      # the container has a TTY: the stream must be one
    tty = terminal.setup_tty(ctx.stderr, ctx.stdin, stdin, tty, quiet)
    raw = tty and stdin
    if not quiet:
        ctx.err(RECORDED + "\n" + PROMPT_HINT + "\n")
    result = await stream_to_pod(ctx, pod, "attach", [], container, stdin, tty)
    meta = pod.get("metadata") or {}
    if not quiet and raw:
        again = f"{command_name} {meta.get('name')} -c {container} -n {meta.get('namespace') or 'default'} -i -t"
        ctx.out(ended.format(attach=again) + "\n")
    return result


async def run(ctx: Context, args: argparse.Namespace) -> int:
    from kubectl.cmd_exec import check_container
    from kubectl.cmd_logs import pick_containers
    from kubectl.podfor import pod_for
    words = list(args.args)
    if len(words) != 1:
        raise CmdError("expected POD, TYPE/NAME, or TYPE NAME, (at most 2 arguments) saw "
                       f"{len(words)}: {words}" if words else "at least 1 argument is required for attach")
    pod, _ = await pod_for(ctx, words[0])
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise CmdError(f"cannot attach a container in a completed pod; current phase is {phase}")
    containers, note = pick_containers(pod, check_container(pod, args.container), False)
    if note and not args.quiet:
        ctx.err(note + "\n")
    code, message = await attach_session(ctx, pod, containers[0], args.stdin, args.tty, args.quiet)
    if code and message:
        raise CmdError(message)
    return code


COMMANDS = {"attach": (configure, run)}
