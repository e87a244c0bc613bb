"""`pykubectl cp SRC DEST [-c CONTAINER] [--no-preserve]`: files to and from a container.

As kubectl does it, with `tar` in the container over the pod's `exec` subresource:
- to a pod (`cp ./f pod:/tmp/f`): a tar of the local file or directory, named after the
  destination, is the stdin of `tar -xmf - -C <dest dir>` (a destination that is a
  directory in the container gets the source's name inside it, found with `test -d`);
- from a pod (`cp pod:/tmp/f ./f`): the stdout of `tar cf - <path>` is unpacked locally
  with the remote path's prefix taken off; members that would land outside the
  destination, and links, are skipped with a warning; the remote tar's complaints go to
  stdout, where kubectl 1.37 writes them.
A file spec is `[namespace/]pod:path`; exactly one side must be local. `parse_spec`,
`make_tar` and `extract` are pure (files and bytes in, files out).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import posixpath
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError


def configure(p: Parser) -> None:
    """Copy files and directories to and from containers."""
    p.add_argument("args", nargs="*", metavar="SRC DEST")
    p.add_argument("-c", "--container", default="", help="the container (default: the pod's first)")
    p.add_bool("--no-preserve", help="do not keep ownership and permissions in the container")
    p.add_argument("--retries", type=int, default=0, help="retries on errors (ignored)")


@dataclass(frozen=True)
class FileSpec:
    path: str
    pod: str = ""
    namespace: str = ""


def parse_spec(arg: str) -> FileSpec:
    if ":" not in arg or arg.startswith(("/", "./", "../")):
        return FileSpec(arg)
    who, _, path = arg.partition(":")
    if "/" in who:
        ns, _, pod = who.partition("/")
        if not ns or not pod or "/" in pod:
            raise CmdError(f"invalid file spec: {arg}")
        return FileSpec(path, pod, ns)
    return FileSpec(path, who)


def make_tar(src: Path, name: str, out: IO[bytes]) -> None:
    """A tar of `src` (file or directory) whose top entry is called `name`."""
    with tarfile.open(fileobj=out, mode="w|") as tar:
        tar.add(str(src), arcname=name, recursive=True)


def _strip(prefix: str, name: str) -> str | None:
    name = name.lstrip("/")
    if prefix and name != prefix and not name.startswith(prefix.rstrip("/") + "/"):
        return None
    return name[len(prefix):].lstrip("/") if prefix else name


def extract(archive: IO[bytes], prefix: str, dest: Path, warn: Any) -> None:
    """Unpack members under `prefix` into `dest` (which is what `prefix` itself becomes)."""
    root = dest.resolve()
    with tarfile.open(fileobj=archive, mode="r|") as tar:
        for member in tar:
            rest = _strip(prefix, member.name)
            if rest is None:
                raise CmdError("tar contents corrupted")
            target = (dest / rest) if rest else dest
            if os.path.commonpath([root, target.resolve()]) != str(root):
                warn(f"warning: file {target} is outside target destination, skipping\n")
                continue
            if member.issym() or member.islnk():
                warn(f'warning: skipping symlink: "{target}" -> "{member.linkname}"\n')
                continue
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if not member.isfile():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            data = tar.extractfile(member)
            with open(target, "wb") as f:
                while data is not None and (chunk := data.read(65536)):
                    f.write(chunk)
            os.chmod(target, member.mode & 0o777)


async def _exec(ctx: Context, spec: FileSpec, container: str, command: list[str], stdin: IO[bytes] | None,
                stdout: Any, stderr: Any) -> tuple[int, str]:
    from api.resources import resolve
    from client.stream import open_stream, stream_query
    path = resolve("pods").path(spec.namespace or ctx.namespace, spec.pod, "exec")
    session = await open_stream(ctx.config, path, stream_query(command, container, stdin is not None,
                                                               True, True, False))

    async def read() -> bytes:
        assert stdin is not None
        return await asyncio.to_thread(stdin.read, 65536)
    return await session.run(read if stdin is not None else None, stdout, stderr)


async def _container(ctx: Context, spec: FileSpec, wanted: str) -> str:
    from api.resources import resolve
    from kubectl.cmd_logs import pick_containers
    client = await ctx.client()
    pod = await client.get(resolve("pods"), spec.pod, namespace=spec.namespace or ctx.namespace)
    containers, note = pick_containers(pod, wanted, False)
    if note:
        ctx.err(note + "\n")
    return containers[0]


async def copy_to_pod(ctx: Context, src: FileSpec, dest: FileSpec, container: str, no_preserve: bool) -> int:
    from kubectl import terminal
    local = Path(src.path)
    if not local.exists():
        raise CmdError(f"{src.path} doesn't exist in local filesystem")
    if not dest.path:
        raise CmdError("remote path cannot be empty")
    target = dest.path
    if target.endswith("/"):
        target += local.name
    else:
        code, _ = await _exec(ctx, dest, container, ["test", "-d", target], None, lambda b: None, lambda b: None)
        if code == 0:
            target = posixpath.join(target, local.name)
    command = ["tar", "--no-same-permissions", "--no-same-owner", "-xmf", "-"] if no_preserve else \
        ["tar", "-xmf", "-"]
    directory = posixpath.dirname(target)
    if directory:
        command += ["-C", directory]
    with tempfile.TemporaryFile() as spool:
        make_tar(local, posixpath.basename(target), spool)
        spool.seek(0)
        code, message = await _exec(ctx, dest, container, command, spool, terminal.writer(ctx.stdout),
                                    terminal.writer(ctx.stderr))
    if code:
        raise CmdError(message or f"command terminated with exit code {code}")
    return 0


async def copy_from_pod(ctx: Context, src: FileSpec, dest: FileSpec, container: str) -> int:
    from kubectl import terminal
    if not src.path:
        raise CmdError("remote path cannot be empty")
    prefix = posixpath.normpath(src.path.lstrip("/")) if src.path.strip("/") else ""
    prefix = "/".join(p for p in prefix.split("/") if p not in ("..", "."))
    with tempfile.TemporaryFile() as spool:
        code, message = await _exec(ctx, src, container, ["tar", "cf", "-", src.path], None, spool.write,
                                    terminal.writer(ctx.stdout))
        if code and not message.startswith("command terminated with exit code"):
            raise CmdError(message or f"command terminated with exit code {code}")
        # as kubectl: a remote tar that fails (a missing path) has said why; what it sent is unpacked
        spool.seek(0)
        if not spool.read(1):
            return 0
        spool.seek(0)
        try:
            extract(spool, prefix, Path(dest.path), ctx.err)
        except tarfile.TarError as e:
            raise CmdError(f"tar contents corrupted: {e}") from None
    return 0


async def run(ctx: Context, args: argparse.Namespace) -> int:
    words = list(args.args)
    if len(words) != 2:
        raise CmdError("source and destination are required")
    src, dest = parse_spec(words[0]), parse_spec(words[1])
    if src.pod and dest.pod:
        raise CmdError("one of src or dest must be a local file specification")
    if not src.pod and not dest.pod:
        raise CmdError("one of src or dest must be a remote file specification")
    remote = src if src.pod else dest
    container = await _container(ctx, remote, args.container)
    if dest.pod:
        return await copy_to_pod(ctx, src, dest, container, args.no_preserve)
    return await copy_from_pod(ctx, src, dest, container)


COMMANDS = {"cp": (configure, run)}
