"""`pykubectl config view|get-contexts|get-clusters|get-users|current-context|use-context|
set-context|delete-context`: read and edit the kubeconfig file in use (`--kubeconfig`,
`$KUBECONFIG`, `~/.kube/config`, the data dir's admin.kubeconfig) without contacting the
server. `view` redacts secrets (`DATA+OMITTED`, `REDACTED`) unless `--raw`.
"""
from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

from kubectl import printers
from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError
from kubectl.tabwriter import TabWriter

Obj = dict[str, Any]
_DATA_FIELDS = ("certificate-authority-data", "client-certificate-data", "client-key-data")
_SECRET_FIELDS = ("token", "password")


def _path(ctx: Context) -> Path:
    from client import kubeconfig
    return kubeconfig.find(ctx.kubeconfig_path)


def _load(ctx: Context) -> tuple[Path, Obj]:
    from client import kubeconfig
    path = _path(ctx)
    return path, kubeconfig.read(path)


def redact(doc: Obj) -> Obj:
    out = copy.deepcopy(doc)
    for c in out.get("clusters") or []:
        cl = c.get("cluster") or {}
        for f in _DATA_FIELDS:
            if cl.get(f):
                cl[f] = "DATA+OMITTED"
    for u in out.get("users") or []:
        us = u.get("user") or {}
        for f in _DATA_FIELDS:
            if us.get(f):
                us[f] = "DATA+OMITTED"
        for f in _SECRET_FIELDS:
            if us.get(f):
                us[f] = "REDACTED"
    return out


def minify(doc: Obj, context: str | None = None) -> Obj:
    name = context or doc.get("current-context")
    if not name:
        raise CmdError("current-context must exist in order to minify")
    ctx = next((c for c in doc.get("contexts") or [] if c.get("name") == name), None)
    if ctx is None:
        raise CmdError(f'cannot locate context {name}')
    inner = ctx.get("context") or {}
    out = {k: v for k, v in doc.items() if k not in ("clusters", "contexts", "users")}
    out["clusters"] = [c for c in doc.get("clusters") or [] if c.get("name") == inner.get("cluster")]
    out["contexts"] = [ctx]
    out["users"] = [u for u in doc.get("users") or [] if u.get("name") == inner.get("user")]
    out["current-context"] = name
    return out


def _clean(doc: Obj) -> Obj:
    out = {k: v for k, v in doc.items() if v not in ({}, None) or k in ("clusters", "contexts", "users")}
    out.setdefault("apiVersion", "v1")
    out.setdefault("kind", "Config")
    for k in ("clusters", "contexts", "users"):
        out[k] = out.get(k) or None
    if out.get("current-context") is None:
        out["current-context"] = ""
    return out


# ---------------------------------------------------------------- configure
def configure_view(p: Parser) -> None:
    """Display merged kubeconfig settings or a specified kubeconfig file."""
    p.add_bool("--raw", help="show secrets")
    p.add_bool("--minify", help="only the current context's entries")
    p.add_bool("--flatten", help="accepted for compatibility")
    p.add_argument("-o", "--output", default="yaml", help="yaml|json|jsonpath=...")


def configure_get_contexts(p: Parser) -> None:
    """Describe one or many contexts."""
    p.add_argument("names", nargs="*")
    p.add_argument("-o", "--output", default="", help="name: print context names only")
    p.add_bool("--no-headers", help="do not print headers")


def configure_plain(p: Parser) -> None:
    """Display the current-context."""


def configure_get_clusters(p: Parser) -> None:
    """Display clusters defined in the kubeconfig."""


def configure_get_users(p: Parser) -> None:
    """Display users defined in the kubeconfig."""


def configure_use_context(p: Parser) -> None:
    """Set the current-context in a kubeconfig file."""
    p.add_argument("name", nargs="*")


def configure_delete_context(p: Parser) -> None:
    """Delete the specified context from the kubeconfig."""
    p.add_argument("name", nargs="*")


def configure_set_context(p: Parser) -> None:
    """Set a context entry in kubeconfig."""
    p.add_argument("name", nargs="*")
    p.add_bool("--current", help="modify the current context")
    p.add_argument("--cluster", default=None)
    p.add_argument("--user", default=None)


# ---------------------------------------------------------------- run
async def run_view(ctx: Context, args: argparse.Namespace) -> int:
    _, doc = _load(ctx)
    if args.minify:
        doc = minify(doc, getattr(args, "context", None))
    if not args.raw:
        doc = redact(doc)
    doc = _clean(doc)
    fmt = args.output.split("=", 1)[0]
    if fmt == "yaml":
        ctx.out(printers.to_yaml(doc))
    elif fmt == "json":
        ctx.out(printers.to_json(doc))
    elif fmt == "jsonpath":
        from api import jsonpath
        try:
            ctx.out(jsonpath.render(args.output.split("=", 1)[1], doc))
        except jsonpath.JSONPathError as e:
            raise CmdError(f"error parsing jsonpath {args.output.split('=', 1)[1]}, {e}") from None
    else:
        raise CmdError(f'unable to match a printer suitable for the output format "{args.output}", '
                       "allowed formats are: json,jsonpath,yaml")
    return 0


async def run_get_contexts(ctx: Context, args: argparse.Namespace) -> int:
    _, doc = _load(ctx)
    current = doc.get("current-context")
    contexts = doc.get("contexts") or []
    if args.names:
        known = {c.get("name") for c in contexts}
        for n in args.names:
            if n not in known:
                ctx.error(CmdError(f"context {n} not found"))
        contexts = [c for c in contexts if c.get("name") in args.names]
    if args.output == "name":
        ctx.out("".join(f"{c.get('name')}\n" for c in contexts))
        return 0
    if args.output:
        raise CmdError(f"output must be one of '' or 'name': {args.output}")
    tw = TabWriter(padding=3, minwidth=6)
    if not args.no_headers:
        tw.write("CURRENT\tNAME\tCLUSTER\tAUTHINFO\tNAMESPACE\n")
    for c in contexts:
        inner = c.get("context") or {}
        mark = "*" if c.get("name") == current else ""
        tw.write(f"{mark}\t{c.get('name')}\t{inner.get('cluster', '')}\t{inner.get('user', '')}\t"
                 f"{inner.get('namespace', '')}\n")
    ctx.out(tw.flush())
    return 0


async def run_current_context(ctx: Context, args: argparse.Namespace) -> int:
    _, doc = _load(ctx)
    if not doc.get("current-context"):
        raise CmdError("current-context is not set")
    ctx.out(f"{doc['current-context']}\n")
    return 0


async def run_get_clusters(ctx: Context, args: argparse.Namespace) -> int:
    _, doc = _load(ctx)
    ctx.out("NAME\n" + "".join(f"{c.get('name')}\n" for c in doc.get("clusters") or []))
    return 0


async def run_get_users(ctx: Context, args: argparse.Namespace) -> int:
    _, doc = _load(ctx)
    ctx.out("NAME\n" + "".join(f"{u.get('name')}\n" for u in doc.get("users") or []))
    return 0


def _single(args: argparse.Namespace, what: str) -> str:
    if len(args.name) != 1:
        raise CmdError(f"Unexpected args: {args.name}" if args.name else "empty context names are not allowed")
    return str(args.name[0])


async def run_use_context(ctx: Context, args: argparse.Namespace) -> int:
    from client import kubeconfig
    name = _single(args, "use-context")
    path, doc = _load(ctx)
    if not any(c.get("name") == name for c in doc.get("contexts") or []):
        raise CmdError(f'no context exists with the name: "{name}"')
    kubeconfig.use_context(doc, name)
    kubeconfig.save(path, doc)
    ctx.out(f'Switched to context "{name}".\n')
    return 0


async def run_delete_context(ctx: Context, args: argparse.Namespace) -> int:
    from client import kubeconfig
    name = _single(args, "delete-context")
    path, doc = _load(ctx)
    contexts = doc.get("contexts") or []
    if not any(c.get("name") == name for c in contexts):
        raise CmdError(f"cannot delete context {name}, not in {path}")
    if doc.get("current-context") == name:
        ctx.warn("this removed your active context, use \"pykubectl config use-context\" to select a different one")
    doc["contexts"] = [c for c in contexts if c.get("name") != name]
    kubeconfig.save(path, doc)
    ctx.out(f"deleted context {name} from {path}\n")
    return 0


async def run_set_context(ctx: Context, args: argparse.Namespace) -> int:
    from client import kubeconfig
    path, doc = _load(ctx)
    if args.current and args.name:
        raise CmdError("you cannot specify both a context name and --current")
    if args.current:
        name = doc.get("current-context")
        if not name:
            raise CmdError("no current context is set")
    else:
        name = _single(args, "set-context")
    existed = any(c.get("name") == name for c in doc.get("contexts") or [])
    kubeconfig.set_context(doc, name, namespace=ctx.args.namespace, cluster=args.cluster, user=args.user)
    kubeconfig.save(path, doc)
    ctx.out(f'Context "{name}" {"modified" if existed else "created"}.\n')
    return 0


COMMANDS = {
    "config view": (configure_view, run_view),
    "config get-contexts": (configure_get_contexts, run_get_contexts),
    "config get-clusters": (configure_get_clusters, run_get_clusters),
    "config get-users": (configure_get_users, run_get_users),
    "config current-context": (configure_plain, run_current_context),
    "config use-context": (configure_use_context, run_use_context),
    "config delete-context": (configure_delete_context, run_delete_context),
    "config set-context": (configure_set_context, run_set_context),
}
