"""`pykubectl port-forward TYPE/NAME [LOCAL_PORT:]REMOTE_PORT [...] [--address localhost]`.

Listens locally (127.0.0.1 and ::1 for `localhost`, kubectl's default) and carries each
accepted connection to the pod over its `portforward` subresource (client/stream.py, one
WebSocket per connection). `svc/NAME` ports are service ports, forwarded to the target port
of a pod the service selects; named ports are looked up in the pod. Prints kubectl's
`Forwarding from 127.0.0.1:8080 -> 80` and `Handling connection for 8080`; runs until
interrupted. `parse_ports`, `service_target_port` and `pod_port` are pure.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from typing import Any

from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError

Obj = dict[str, Any]
# after the local client stops sending, how long its answer may still take (a WebSocket
# port-forward cannot tell the pod that one direction ended)
HALF_CLOSE_GRACE = 5.0


def configure(p: Parser) -> None:
    """Forward one or more local ports to a pod."""
    p.add_argument("args", nargs="*", metavar="TYPE/NAME PORT")
    p.add_argument("--address", default="localhost", help="addresses to listen on (comma separated)")
    p.add_argument("--pod-running-timeout", default="1m0s", help="how long to wait for a running pod")


def parse_ports(words: list[str]) -> list[tuple[int, str]]:
    """`8080:80`, `:80`, `80` → (local port, remote port as given); local 0 means any."""
    out = []
    for w in words:
        local, sep, remote = w.partition(":")
        if not sep:
            remote = local
        if not remote:
            raise CmdError(f"invalid port format '{w}'")
        if local and not local.isdigit():
            raise CmdError(f"Error parsing local port '{local}': should be a number")
        if remote.isdigit() and not 0 < int(remote) < 65536:
            raise CmdError(f"Error parsing remote port '{remote}': port must be between 1 and 65535")
        out.append((int(local) if local else 0, remote))
    return out


def pod_port(pod: Obj, word: str) -> int:
    if word.isdigit():
        return int(word)
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == word:
                return int(p["containerPort"])
    raise CmdError(f"Pod '{(pod.get('metadata') or {}).get('name')}' does not have a named port '{word}'")


def service_target_port(svc: Obj, pod: Obj, word: str) -> int:
    name = (svc.get("metadata") or {}).get("name")
    for p in (svc.get("spec") or {}).get("ports") or []:
        if (word.isdigit() and p.get("port") == int(word)) or p.get("name") == word:
            target = p.get("targetPort", p.get("port"))
            return int(target) if isinstance(target, int) or str(target).isdigit() else pod_port(pod, str(target))
    raise CmdError(f"Service {name} does not have a service port {word}")


async def run(ctx: Context, args: argparse.Namespace) -> int:
    from api.resources import resolve
    from kubectl.podfor import pod_for
    words = list(args.args)
    if len(words) < 2:
        raise CmdError("TYPE/NAME and list of ports are required for port-forward")
    pod, owner = await pod_for(ctx, words[0])
    phase = (pod.get("status") or {}).get("phase")
    if phase != "Running":
        raise CmdError(f"unable to forward port because pod is not running. Current status={phase}")
    specs = parse_ports(words[1:])
    if owner is not None and owner.get("kind") == "Service":
        ports = [(local, service_target_port(owner, pod, remote)) for local, remote in specs]
    else:
        ports = [(local, pod_port(pod, remote)) for local, remote in specs]
    meta = pod["metadata"]
    fw = Forwarder(ctx, resolve("pods").path(meta.get("namespace"), meta["name"], "portforward"))
    await fw.dial(ports[0][1])
    try:
        for local, remote in ports:
            await fw.listen(args.address, local, remote)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        stopping = asyncio.create_task(stop.wait())
        lost = asyncio.create_task(fw.lost.wait())
        await asyncio.wait([stopping, lost], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        lost.cancel()
    finally:
        await fw.close()
    if fw.lost.is_set():
        raise CmdError("lost connection to pod")
    return 0


def _addresses(address: str) -> list[str]:
    out = []
    for a in address.split(","):
        out += ["127.0.0.1", "::1"] if a == "localhost" else [a]
    return out


def _hostport(addr: str, port: int) -> str:
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def klog_error(message: str, err: str, **kv: int) -> str:
    """An error line as kubectl's logger writes it."""
    import datetime
    import os
    now = datetime.datetime.now()
    fields = "".join(f" {k}={v}" for k, v in kv.items())
    err = err.replace('"', '\\"')
    return (f"E{now:%m%d %H:%M:%S.%f} {os.getpid():>7} portforward.go:549] \"{message}\" err=\"{err}\"{fields}\n")


class Forwarder:
    """The listeners and the connections being forwarded."""

    def __init__(self, ctx: Context, path: str) -> None:
        self.ctx, self.path = ctx, path
        self.servers: list[asyncio.Server] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.lost = asyncio.Event()

    async def dial(self, remote: int) -> None:
        """Upgrade once before listening, as kubectl does, so a refusal (no `create` on
        pods/portforward, a pod gone) is reported at once, in kubectl's words."""
        from client.errors import APIError
        from client.stream import open_port_forward
        try:
            stream = await open_port_forward(self.ctx.config, self.path, remote)
        except APIError as e:
            raise CmdError(f"error upgrading connection: unable to upgrade connection: {e.message or e}") from None
        await stream.close()

    async def listen(self, address: str, local: int, remote: int) -> None:
        errors, port, made = [], local, 0

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self.tasks.add(task)
            try:
                self.ctx.out(f"Handling connection for {port}\n")
                await self.forward(port, remote, reader, writer)
            except asyncio.CancelledError:
                writer.close()    # the command is stopping
            finally:
                self.tasks.discard(task)

        for addr in _addresses(address):
            try:
                server = await asyncio.start_server(handle, addr, port)
            except OSError as e:
                errors.append(f"unable to create listener: Error listen tcp{'6' if ':' in addr else '4'} "
                              f"{_hostport(addr, port)}: bind: {(e.strerror or str(e)).lower()}")
                continue
            port = server.sockets[0].getsockname()[1]
            self.servers.append(server)
            made += 1
            self.ctx.out(f"Forwarding from {_hostport(addr, port)} -> {remote}\n")
        if not made:
            raise CmdError(f"unable to listen on any of the requested ports: [{{{local} {remote}}}]")

    async def forward(self, local: int, remote: int, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        from client.errors import ClientError
        from client.stream import open_port_forward
        try:
            stream = await open_port_forward(self.ctx.config, self.path, remote)
        except ClientError as e:
            self.ctx.err(klog_error("An error occurred forwarding", str(e), localPort=local, remotePort=remote))
            writer.close()
            self.lost.set()
            return

        async def up() -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await reader.read(65536):
                    await stream.send(data)

        async def down() -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await stream.receive():
                    writer.write(data)
                    await writer.drain()
        sending, receiving = asyncio.create_task(up()), asyncio.create_task(down())
        try:
            await asyncio.wait([sending, receiving], return_when=asyncio.FIRST_COMPLETED)
            if not receiving.done():   # the local side is done sending: let the answer come back
                await asyncio.wait([receiving], timeout=HALF_CLOSE_GRACE)
        finally:
            for t in (sending, receiving):
                t.cancel()
            await asyncio.gather(sending, receiving, return_exceptions=True)
            await stream.close()
            writer.close()
        if stream.error:
            self.ctx.err(klog_error("An error occurred forwarding", stream.error.strip(), localPort=local,
                                    remotePort=remote))
            self.lost.set()

    async def close(self) -> None:
        for s in self.servers:
            s.close()
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


COMMANDS = {"port-forward": (configure, run)}
