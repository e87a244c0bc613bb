"""`pykubectl create secret docker-registry NAME`: an image pull Secret, as kubectl makes it.

Owns the generator, pure: `--docker-username`, `--docker-password` (and `--docker-email`)
for `--docker-server` (default `https://index.docker.io/v1/`) become
`{"auths": {SERVER: {"username", "password", "email", "auth": base64(user:pass)}}}`, JSON
byte for byte as kubectl writes it (Go's encoding: compact, fields in that order, empty ones
left out), in `.dockerconfigjson` of a `kubernetes.io/dockerconfigjson` Secret; or
`--from-file=[key=]path` (a docker config.json; key `.dockerconfigjson` by default).
"""
from __future__ import annotations

import argparse
import base64
import json
from typing import Any

from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError

Obj = dict[str, Any]
DEFAULT_SERVER = "https://index.docker.io/v1/"


def configure_docker_registry(p: Parser) -> None:
    """Create a secret for use with a Docker registry."""
    from kubectl.cmd_create import _common  # cmd_create imports this module for its table
    p.add_argument("name", nargs="*")
    p.add_argument("--docker-server", default=DEFAULT_SERVER, help="server location for Docker registry")
    p.add_argument("--docker-username", default="", help="username for Docker registry authentication")
    p.add_argument("--docker-password", default="", help="password for Docker registry authentication")
    p.add_argument("--docker-email", default="", help="email for Docker registry")
    p.add_argument("--from-file", action="append", default=[], help="[key=]path of a docker config.json")
    _common(p)


def docker_config_json(server: str, username: str, password: str, email: str = "") -> str:
    entry = {"username": username, "password": password, "email": email,
             "auth": base64.b64encode(f"{username}:{password}".encode()).decode()}
    return json.dumps({"auths": {server: {k: v for k, v in entry.items() if v}}}, separators=(",", ":"))


def docker_registry_secret(name: str, server: str, username: str, password: str, email: str = "",
                           files: list[str] | None = None) -> Obj:
    data: dict[str, str] = {}
    for spec in files or []:
        key, sep, path = spec.partition("=")
        if not sep:
            key, path = ".dockerconfigjson", spec
        try:
            with open(path, "rb") as f:
                data[key] = base64.b64encode(f.read()).decode()
        except OSError as e:
            raise CmdError(f"error reading {path}: {e.strerror}") from None
    if not files:
        if not (username and password and server):
            raise CmdError("either --from-file or the combination of --docker-username, --docker-password "
                           "and --docker-server is required")
        data[".dockerconfigjson"] = base64.b64encode(
            docker_config_json(server, username, password, email).encode()).decode()
    return {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": name}, "data": data,
            "type": "kubernetes.io/dockerconfigjson"}


async def run_docker_registry(ctx: Context, args: argparse.Namespace) -> int:
    from kubectl.cmd_create import _check_output, _one_name, _send
    _check_output(args)
    name = _one_name(args, "secret docker-registry")
    obj = docker_registry_secret(name, args.docker_server, args.docker_username, args.docker_password,
                                 args.docker_email, args.from_file)
    await _send(ctx, args, obj)
    return 0


COMMANDS = {"create secret docker-registry": (configure_docker_registry, run_docker_registry)}
