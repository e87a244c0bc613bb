"""`pykubectl auth can-i VERB TYPE[/NAME] | --list` and `auth whoami`, through the access and
identity reviews (SelfSubjectAccessReview, SelfSubjectRulesReview, SelfSubjectReview), with
kubectl's answers: `yes` (exit 0) or `no` (exit 1), the rules table, the ATTRIBUTE table;
and `pykubectl certificate approve|deny NAME...` (the CSR `approval` subresource)."""
from __future__ import annotations

import argparse
from typing import Any

from kubectl import targets
from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError, Silent
from kubectl.tabwriter import tabulate as _tabulate


def tabulate(rows: list[list[str]]) -> str:
    return _tabulate("".join("\t".join(r) + "\n" for r in rows))


def configure(p: Parser) -> None:
    """Inspect authorization."""
    p.add_argument("subcommand", metavar="can-i|whoami")
    p.add_argument("args", nargs="*")
    p.add_bool("-A", "--all-namespaces", help="in every namespace")
    p.add_bool("--list", help="every action the user may do in the namespace")
    p.add_bool("-q", "--quiet", help="exit code only")
    p.add_argument("--subresource", default="")
    p.add_argument("-o", "--output", default="")


def _group_resource(r: dict[str, Any]) -> list[str]:
    groups = r.get("apiGroups") or [""]
    return [f"{res}.{g}" if g else res for res in r.get("resources") or [] for g in groups]


async def can_i(ctx: Context, args: argparse.Namespace) -> int:
    client = await ctx.client()
    ns = "" if args.all_namespaces else ctx.namespace
    if args.list:
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {"namespace": ns}}
        status = (await client.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                                       json=body)).json()["status"]
        rows = []
        for r in status.get("resourceRules") or []:
            for gr in _group_resource(r):
                rows.append([gr, "[]", f"[{' '.join(r.get('resourceNames') or [])}]", f"[{' '.join(r['verbs'])}]"])
        for r in status.get("nonResourceRules") or []:
            rows.append(["", f"[{' '.join(r.get('nonResourceURLs') or [])}]", "[]", f"[{' '.join(r['verbs'])}]"])
        rows.sort(key=lambda row: (row[0] == "", row[0], row[1]))
        ctx.out(tabulate([["Resources", "Non-Resource URLs", "Resource Names", "Verbs"], *rows]))
        return 0
    if len(args.args) < 2:
        raise CmdError("you must specify two arguments: verb resource or verb resource/resourceName.")
    verb, what = args.args[0], args.args[1]
    if what.startswith("/"):
        attrs: dict[str, Any] = {"nonResourceAttributes": {"verb": verb, "path": what}}
    else:
        word, _, name = what.partition("/")
        info = targets.resolve_type(word)
        attrs = {"resourceAttributes": {"namespace": ns if info.namespaced else "", "verb": verb,
                                        "group": info.group, "version": "", "resource": info.plural,
                                        "subresource": args.subresource, "name": name}}
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": attrs}
    status = (await client.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                   json=body)).json()["status"]
    allowed = bool(status.get("allowed"))
    if not args.quiet:
        ctx.out("yes\n" if allowed else "no\n")
    if not allowed:
        raise Silent()
    return 0


async def whoami(ctx: Context, args: argparse.Namespace) -> int:
    client = await ctx.client()
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    user = (await client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                 json=body)).json()["status"]["userInfo"]
    rows = [["ATTRIBUTE", "VALUE"], ["Username", user.get("username", "")]]
    if user.get("uid"):
        rows.append(["UID", user["uid"]])
    rows.append(["Groups", f"[{' '.join(user.get('groups') or [])}]"])
    for k, v in sorted((user.get("extra") or {}).items()):
        rows.append([f"Extra: {k}", f"[{' '.join(v)}]"])
    ctx.out(tabulate(rows))
    return 0


async def run(ctx: Context, args: argparse.Namespace) -> int:
    if args.subcommand == "can-i":
        return await can_i(ctx, args)
    if args.subcommand == "whoami":
        return await whoami(ctx, args)
    raise CmdError(f'unknown command "{args.subcommand}" for "pykubectl auth"')


def configure_certificate(p: Parser) -> None:
    """Modify certificate resources."""
    p.add_argument("subcommand", metavar="approve|deny")
    p.add_argument("names", nargs="*")
    p.add_bool("--force", help="update the CSR even if it is already approved or denied")


async def run_certificate(ctx: Context, args: argparse.Namespace) -> int:
    if args.subcommand not in ("approve", "deny"):
        raise CmdError(f'unknown command "{args.subcommand}" for "pykubectl certificate"')
    if not args.names:
        raise CmdError("one or more CSRs must be specified as <name> or -f <filename>")
    from api.meta import now_rfc3339
    client = await ctx.client()
    base = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
    kind = "Approved" if args.subcommand == "approve" else "Denied"
    for name in args.names:
        csr = (await client.request("GET", f"{base}/{name}")).json()
        conds = (csr.get("status") or {}).get("conditions") or []
        if any(c.get("type") == kind for c in conds) and not args.force:
            ctx.out(f"certificatesigningrequest.certificates.k8s.io/{name} {args.subcommand}d\n")
            continue
        conds = [c for c in conds if c.get("type") not in ("Approved", "Denied")]
        conds.append({"type": kind, "status": "True", "reason": f"Kubectl{args.subcommand.capitalize()}",
                      "message": f"This CSR was {args.subcommand}d by kubectl certificate {args.subcommand}.",
                      "lastUpdateTime": now_rfc3339()})
        csr.setdefault("status", {})["conditions"] = conds
        await client.request("PUT", f"{base}/{name}/approval", json=csr)
        ctx.out(f"certificatesigningrequest.certificates.k8s.io/{name} {args.subcommand}d\n")
    return 0


COMMANDS = {"auth": (configure, run), "certificate": (configure_certificate, run_certificate)}
