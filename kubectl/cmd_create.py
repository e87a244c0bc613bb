"""`pykubectl create`: `-f FILE` (every object POSTed; an existing one is an error), and
the generators `create namespace NAME`, `create deployment NAME --image=...` and
`create configmap NAME --from-literal=...`, with `--dry-run=client -o yaml` printing the
generated object as kubectl does.
"""
from __future__ import annotations

import argparse
import random
from typing import Any

from kubectl import objects, printers
from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError, is_bug, wrap

Obj = dict[str, Any]


def _common(p: Parser) -> None:
    p.add_argument("--dry-run", nargs="?", const="client", default="none",
                   choices=["none", "client", "server"], help="only print the object that would be sent")
    p.add_argument("-o", "--output", default="", help="yaml|json|name: print the object")
    p.add_bool("--save-config", help="store the configuration in the last-applied annotation")


def configure_file(p: Parser) -> None:
    """Create a resource from a file or from stdin."""
    p.add_argument("-f", "--filename", action="append", default=[], help="files, directories or - for stdin")
    p.add_bool("-R", "--recursive", help="process the directory used in -f recursively")
    p.add_argument("--validate", nargs="?", const="strict", default="strict", help="accepted for compatibility")
    _common(p)


def configure_namespace(p: Parser) -> None:
    """Create a namespace with the specified name."""
    p.add_argument("name", nargs="*")
    _common(p)


def configure_deployment(p: Parser) -> None:
    """Create a deployment with the specified name."""
    p.add_argument("name", nargs="*")
    p.add_argument("--image", action="append", default=[], help="image(s) to run")
    p.add_argument("-r", "--replicas", type=int, default=1, help="number of replicas")
    p.add_argument("--port", type=int, default=-1, help="the containerPort to expose")
    _common(p)


def configure_configmap(p: Parser) -> None:
    """Create a config map from literal values or files."""
    p.add_argument("name", nargs="*")
    p.add_argument("--from-literal", action="append", default=[], help="key=value")
    p.add_argument("--from-file", action="append", default=[], help="[key=]path")
    _common(p)


# ---------------------------------------------------------------- generators (pure)
def namespace_object(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name},
            "spec": {}, "status": {}}


def container_name(image: str, rand: random.Random | None = None) -> str:
    """kubectl's name for a container running `image` (last path part, no tag or digest)."""
    name = image.split("/")[-1].split(":")[0].split("@")[0]
    if "_" in name or "." in name:
        r = rand or random.Random()
        suffix = "".join(r.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        name = f"{name.replace('_', '-').replace('.', '-')}-{suffix}"
    return name


def deployment_object(name: str, images: list[str], replicas: int = 1, port: int = -1,
                      command: list[str] | None = None) -> Obj:
    containers: list[Obj] = []
    for image in images:
        c: Obj = {"image": image, "name": container_name(image)}
        if port >= 0 and not containers:
            c["ports"] = [{"containerPort": port}]
        c["resources"] = {}
        containers.append(c)
    if command and containers:
        containers[0] = {"command": list(command), **containers[0]}
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"labels": dict(labels), "name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                     "strategy": {},
                     "template": {"metadata": {"labels": dict(labels)},
                                  "spec": {"containers": containers}}},
            "status": {}}


def configmap_object(name: str, literals: list[str], files: list[str]) -> Obj:
    data: dict[str, str] = {}
    for lit in literals:
        key, sep, value = lit.partition("=")
        if not sep or not key:
            raise CmdError(f'invalid literal source {lit}, expected key=value')
        data[key] = value
    for spec in files:
        key, sep, path = spec.partition("=")
        if not sep:
            key, path = spec.rstrip("/").split("/")[-1], spec
        try:
            with open(path, encoding="utf-8") as f:
                data[key] = f.read()
        except OSError as e:
            raise CmdError(f"error reading {path}: {e.strerror}") from None
    obj: Obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    if data:
        obj["data"] = data
    return obj


# ---------------------------------------------------------------- running
def _one_name(args: argparse.Namespace, what: str) -> str:
    if len(args.name) != 1:
        raise CmdError(f"exactly one NAME is required, got {len(args.name)}",
                       f"See 'pykubectl create {what} -h' for help and examples")
    return str(args.name[0])


async def _send(ctx: Context, args: argparse.Namespace, obj: Obj, source: str = "") -> None:
    from api.resources import by_kind
    info = by_kind(obj["apiVersion"], obj["kind"])
    meta = obj.setdefault("metadata", {})
    ns = (meta.get("namespace") or ctx.namespace) if info.namespaced else None
    if ns and (args.dry_run == "none" or ctx.namespace_explicit):
        meta["namespace"] = ns
    if args.save_config:
        obj = objects.with_last_applied(obj)
    suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(args.dry_run, "")
    if args.dry_run == "none":
        try:
            obj = await (await ctx.client()).create(obj, namespace=ns)
        except Exception as e:  # report and go on, as kubectl
            if source:
                raise wrap(e, f'error when creating "{source}": ') from None
            raise
    if args.output in ("yaml", "json"):
        ctx.out(printers.render([obj], printers.PrintOptions(output=args.output), single=True))
    elif args.output == "name":
        ctx.out(printers.qualified_name(obj) + "\n")
    else:
        ctx.out(f"{printers.qualified_name(obj)} created{suffix}\n")


def _check_output(args: argparse.Namespace) -> None:
    if args.output not in ("", "yaml", "json", "name"):
        raise CmdError(f'unable to match a printer suitable for the output format "{args.output}", '
                       "allowed formats are: json,name,yaml")


async def run_file(ctx: Context, args: argparse.Namespace) -> int:
    _check_output(args)
    from kubectl import manifests
    if not args.filename:
        raise CmdError("must specify one of -f and -k", "See 'pykubectl create -h' for help and examples")
    loaded = manifests.load(args.filename, args.recursive, ctx.stdin)
    if not loaded:
        raise CmdError("no objects passed to create")
    for m in loaded:
        try:
            _, obj = objects.prepared(ctx, m)
            await _send(ctx, args, obj, m.source)
        except Exception as e:
            if is_bug(e):
                raise
            ctx.error(e)
    return 0


async def run_namespace(ctx: Context, args: argparse.Namespace) -> int:
    _check_output(args)
    obj = namespace_object(_one_name(args, "namespace"))
    if args.dry_run != "none":
        await _send(ctx, args, obj)
        return 0
    obj.pop("spec")
    obj.pop("status")
    await _send(ctx, args, obj)
    return 0


async def run_deployment(ctx: Context, args: argparse.Namespace) -> int:
    _check_output(args)
    if not args.image:
        raise CmdError('required flag(s) "image" not set')
    name = _one_name(args, "deployment")
    if args.passthrough and len(args.image) > 1:
        raise CmdError("cannot specify multiple --image options and command")
    obj = deployment_object(name, args.image, args.replicas, args.port, args.passthrough)
    await _send(ctx, args, obj)
    return 0


async def run_configmap(ctx: Context, args: argparse.Namespace) -> int:
    _check_output(args)
    obj = configmap_object(_one_name(args, "configmap"), args.from_literal, args.from_file)
    await _send(ctx, args, obj)
    return 0


COMMANDS = {
    "create": (configure_file, run_file),
    "create namespace": (configure_namespace, run_namespace),
    "create deployment": (configure_deployment, run_deployment),
    "create configmap": (configure_configmap, run_configmap),
}


from kubectl import cmd_create_batch  # noqa: E402  (create job / create cronjob)

COMMANDS.update(cmd_create_batch.COMMANDS)
from kubectl import cmd_create_pdb  # noqa: E402  (create poddisruptionbudget)
from kubectl import cmd_create_ingress  # noqa: E402  (create ingress)

COMMANDS.update(cmd_create_pdb.COMMANDS)
COMMANDS.update(cmd_create_ingress.COMMANDS)
from kubectl import cmd_create_secret  # noqa: E402  (create secret docker-registry)

COMMANDS.update(cmd_create_secret.COMMANDS)
