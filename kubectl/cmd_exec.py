"""`pykubectl exec POD|TYPE/NAME [-c C] [-i] [-t] -- COMMAND [ARG...]`.

Opens the pod's `exec` subresource as a WebSocket with the Kubernetes channel protocol
(`v5.channel.k8s.io`, falling back to `v4.channel.k8s.io`): each binary frame starts with a
channel byte (0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 resize; v5's 255 closes
stdin). The remote command's exit code becomes ours (`command terminated with exit code
N`). This is the one place outside `client/` that opens a connection to the apiserver: a
WebSocket upgrade cannot go through `Client.request`; it reuses the client's TLS settings
and token from the kubeconfig.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")


def configure(p: Parser) -> None:
    """Execute a command in a container."""
    p.add_argument("args", nargs="*", metavar="(POD | TYPE/NAME)")
    p.add_argument("-c", "--container", default="", help="the container to run the command in")
    p.add_bool("-i", "--stdin", help="pass stdin to the container")
    p.add_bool("-t", "--tty", help="stdin is a TTY")
    p.add_bool("-q", "--quiet", help="only print output from the remote session")


# ---------------------------------------------------------------- pure parts
def exec_query(command: list[str], container: str, stdin: bool, tty: bool) -> str:
    params: list[tuple[str, str]] = [("command", c) for c in command]
    if container:
        params.append(("container", container))
    params += [("stdin", "true" if stdin else "false"), ("stdout", "true"),
               ("stderr", "false" if tty else "true"), ("tty", "true" if tty else "false")]
    return urlencode(params)


def frame(channel: int, data: bytes) -> bytes:
    return bytes([channel]) + data


def split_frame(message: bytes | str) -> tuple[int, bytes]:
    raw = message.encode() if isinstance(message, str) else message
    if not raw:
        return -1, b""
    return raw[0], raw[1:]


def exit_code(status: dict[str, Any]) -> tuple[int, str]:
    """(exit code, message) from the error channel's Status."""
    if status.get("status") == "Success":
        return 0, ""
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            try:
                code = int(cause.get("message"))
            except (TypeError, ValueError):
                code = 1
            return code, f"command terminated with exit code {code}"
    return 1, str(status.get("message") or "error executing command")


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


# ---------------------------------------------------------------- running
async def _pod(ctx: Context, word: str) -> dict[str, Any]:
    from api.resources import resolve
    from kubectl import targets
    from kubectl.describers import selector_text
    client = await ctx.client()
    if "/" not in word:
        return await client.get(resolve("pods"), word, namespace=ctx.namespace)
    kind, _, name = word.partition("/")
    info = targets.resolve_type(kind)
    if info.kind == "Pod":
        return await client.get(info, name, namespace=ctx.namespace)
    owner = await client.get(info, name, namespace=ctx.namespace)
    sel = selector_text((owner.get("spec") or {}).get("selector"))
    lst = await client.list_all(resolve("pods"), ctx.namespace, label_selector=sel or None)
    if not lst.items:
        raise CmdError(f"no pods found for {word}")
    return lst.items[0]


async def run(ctx: Context, args: argparse.Namespace) -> int:
    from api.resources import resolve
    from kubectl.cmd_logs import pick_containers
    word, command = split_target(args)
    pod = await _pod(ctx, word)
    meta = pod.get("metadata") or {}
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise CmdError(f"cannot exec into a container in a completed pod; current phase is {phase}")
    containers, note = pick_containers(pod, args.container, False)
    if note and not args.quiet:
        ctx.err(note + "\n")
    path = resolve("pods").path(meta.get("namespace"), meta.get("name"), "exec")
    query = exec_query(command, containers[0], args.stdin, args.tty)
    with raw_terminal(ctx.stdin if args.tty and args.stdin else None):
        code, message = await session(ctx, f"{path}?{query}", args.stdin, args.tty)
    if code:
        if message and not args.quiet:
            ctx.err(message + "\n")
        return code
    return 0


@contextlib.contextmanager
def raw_terminal(stream: Any) -> Iterator[None]:
    """Put a real terminal in raw mode for `-it` (keys go to the container), and back."""
    fd = _tty_fd(stream)
    if fd is None:
        yield
        return
    import termios
    import tty as ttymod
    saved = termios.tcgetattr(fd)
    ttymod.setraw(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _tty_fd(stream: Any) -> int | None:
    try:
        fd = stream.fileno() if stream is not None else None
    except (AttributeError, OSError, ValueError):
        return None
    return fd if fd is not None and os.isatty(fd) else None


def resize_frame(columns: int, lines: int) -> bytes:
    return frame(RESIZE, json.dumps({"Width": columns, "Height": lines}).encode())


async def session(ctx: Context, path_and_query: str, want_stdin: bool, tty: bool) -> tuple[int, str]:
    """Run one exec stream to its end; returns (exit code, message)."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus, WebSocketException
    cfg = ctx.config
    url = cfg.server.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + path_and_query
    headers = {"Authorization": f"Bearer {cfg.token}"} if cfg.token else {}
    ssl_ctx = cfg.ssl_context() if url.startswith("wss://") else None
    try:
        ws = await connect(url, subprotocols=list(PROTOCOLS), additional_headers=headers,  # type: ignore[arg-type]
                           ssl=ssl_ctx, proxy=None, compression=None, max_size=None)
    except InvalidStatus as e:
        resp = e.response
        from client.errors import ApiError
        raise ApiError.from_response(resp.status_code, bytes(resp.body or b"")) from None
    except (OSError, WebSocketException) as e:
        from client.errors import ConnectionFailed
        raise ConnectionFailed(f"exec: {e}") from None
    result: tuple[int, str] = (0, "")
    async with ws:
        if tty and _tty_fd(ctx.stdout) is not None:
            size = os.get_terminal_size(_tty_fd(ctx.stdout))  # type: ignore[arg-type]
            await ws.send(resize_frame(size.columns, size.lines))
        feeder = asyncio.create_task(_feed_stdin(ctx, ws, want_stdin))
        try:
            async for message in ws:
                channel, data = split_frame(message)
                if channel == STDOUT:
                    _write(ctx.stdout, data)
                elif channel == STDERR:
                    _write(ctx.stderr, data)
                elif channel == ERROR and data:
                    result = exit_code(json.loads(data))
        except WebSocketException:
            pass
        finally:
            feeder.cancel()
            try:
                await feeder
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - stdin is best effort
                pass
    return result


def _write(stream: Any, data: bytes) -> None:
    buf = getattr(stream, "buffer", None)
    if buf is not None:
        buf.write(data)
        buf.flush()
    else:
        stream.write(data.decode(errors="replace"))
        stream.flush()


async def _feed_stdin(ctx: Context, ws: Any, want: bool) -> None:
    if not want:
        return
    v5 = ws.subprotocol == PROTOCOLS[0]
    stream = ctx.stdin
    buf = getattr(stream, "buffer", None)
    while True:
        if buf is not None:
            data = await asyncio.to_thread(_read_some, buf)
        else:
            text = await asyncio.to_thread(stream.read, 4096)
            data = text.encode()
        if not data:
            break
        await ws.send(frame(STDIN, data))
    if v5:
        await ws.send(frame(CLOSE, bytes([STDIN])))


def _read_some(buf: Any) -> bytes:
    fileno = getattr(buf, "fileno", None)
    if fileno is not None:
        try:
            return os.read(fileno(), 4096)
        except (OSError, ValueError):
            pass
    return bytes(buf.read1(4096) if hasattr(buf, "read1") else buf.read(4096))


COMMANDS = {"exec": (configure, run)}
