"""`pykubectl exec POD|TYPE/NAME [-c C] [-i] [-t] [-q] -- COMMAND [ARG...]`.

Runs the command through the pod's `exec` subresource (client/stream.py: a WebSocket with
`v5.channel.k8s.io`, else v4): stdin with `-i` (its end closes the remote stdin), a TTY
with `-it` on a terminal (raw mode, window size and its changes), and the remote exit
code as ours (`command terminated with exit code N` on stderr), as kubectl does.
"""
from __future__ import annotations

import argparse

from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError


class UpgradeRefused(CmdError):
    """The apiserver refused to open the stream (403 without `create` on the subresource,
    a container not running...): kubectl's `unable to upgrade connection: <why>`."""


def configure(p: Parser) -> None:
    """Execute a command in a container."""
    p.add_argument("args", nargs="*", metavar="(POD | TYPE/NAME)")
    p.add_argument("-c", "--container", default="", help="the container to run the command in")
    p.add_bool("-i", "--stdin", help="pass stdin to the container")
    p.add_bool("-t", "--tty", help="stdin is a TTY")
    p.add_bool("-q", "--quiet", help="only print output from the remote session")


def split_target(args: argparse.Namespace) -> tuple[str, list[str]]:
    words, command = list(args.args), list(args.passthrough)
    if not words:
        raise CmdError("pod, type/name or --filename must be specified")
    if len(words) > 1:
        raise CmdError("exec [POD] [COMMAND] is not supported anymore. "
                       "Use exec [POD] -- [COMMAND] instead")
    if not command:
        raise CmdError("you must specify at least one command for the container")
    return words[0], command


def check_container(pod: dict, wanted: str) -> str:
    """`wanted` when the pod has it (containers, init or ephemeral), else kubectl's error."""
    spec = pod.get("spec") or {}
    names = [c.get("name") for key in ("containers", "initContainers", "ephemeralContainers")
             for c in spec.get(key) or []]
    if wanted and wanted not in names:
        raise CmdError(f"container {wanted} is not valid for pod {(pod.get('metadata') or {}).get('name')} "
                       f"out of: {', '.join(str(n) for n in names)}")
    return wanted


async def stream_to_pod(ctx: Context, pod: dict, subresource: str, command: list[str], container: str,
                        stdin: bool, tty: bool) -> tuple[int, str]:
    """Run one exec or attach session against `pod` with this process's stdio."""
    from api.resources import resolve
    from client.errors import APIError
    from client.stream import open_stream, stream_query
    from kubectl import terminal
    meta = pod.get("metadata") or {}
    path = resolve("pods").path(meta.get("namespace"), meta.get("name"), subresource)
    query = stream_query(command, container, stdin, True, True, tty)
    try:
        session = await open_stream(ctx.config, path, query)
    except APIError as e:   # the upgrade was refused (403 without `create` on pods/exec, ...)
        raise UpgradeRefused(f"unable to upgrade connection: {e.message or e}") from None
    sizes = terminal.terminal_sizes(ctx.stdout) if tty else None
    with terminal.raw_terminal(ctx.stdin if tty else None):
        return await session.run(terminal.stdin_reader(ctx.stdin) if stdin else None,
                                 terminal.writer(ctx.stdout), terminal.writer(ctx.stderr), sizes)


async def run(ctx: Context, args: argparse.Namespace) -> int:
    from kubectl import terminal
    from kubectl.cmd_logs import pick_containers
    from kubectl.podfor import pod_for
    word, command = split_target(args)
    pod, _ = await pod_for(ctx, word)
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise CmdError(f"cannot exec into a container in a completed pod; current phase is {phase}")
    containers, note = pick_containers(pod, check_container(pod, args.container), False)
    if note and not args.quiet:
        ctx.err(note + "\n")
    tty = terminal.setup_tty(ctx.stderr, ctx.stdin, args.stdin, args.tty, args.quiet)
    code, message = await stream_to_pod(ctx, pod, "exec", command, containers[0], args.stdin, tty)
    if code:
        if message.startswith("command terminated with exit code"):
            if not args.quiet:
                ctx.err(message + "\n")
            return code
        raise CmdError(message)      # the runtime could not run it: kubectl's `error: ...`
    return 0


COMMANDS = {"exec": (configure, run)}
