"""`pykube team create|list|add-member|delete`: the I/O around team/objects.py."""
from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
from pathlib import Path
from typing import Any

from api.meta import now_rfc3339
from client import kubeconfig
from client.errors import AlreadyExists, APIError, NotFound
from client.rest import Client
from pykube.team import objects

CSR_PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests"


async def _serves(c: Client, group_version: str, plural: str) -> bool:
    path = f"/api/{group_version}" if "/" not in group_version else f"/apis/{group_version}"
    try:
        doc = (await c.request("GET", path)).json()
    except NotFound:
        return False
    return any(r.get("name") == plural for r in doc.get("resources") or [])


async def _apply(c: Client, path: str, obj: dict[str, Any]) -> str:
    """Create `obj` at `path`, or replace it when it exists; "created" or "configured"."""
    try:
        await c.request("POST", path, json=obj)
        return "created"
    except AlreadyExists:
        name = obj["metadata"]["name"]
        cur = (await c.request("GET", f"{path}/{name}")).json()
        obj = {**obj, "metadata": {**obj["metadata"], "resourceVersion": cur["metadata"]["resourceVersion"]}}
        await c.request("PUT", f"{path}/{name}", json=obj)
        return "configured"


async def issue_kubeconfig(c: Client, team: str, member: str, out_dir: Path, seconds: int,
                           timeout: float = 60.0) -> Path:
    """A member's certificate through the CSR API, and their kubeconfig file."""
    key, key_pem = objects.member_key()
    req = objects.csr(team, member, key, seconds)
    name = req["metadata"]["name"]
    try:
        await c.request("DELETE", f"{CSR_PATH}/{name}")
    except NotFound:
        pass
    created = (await c.request("POST", CSR_PATH, json=req)).json()
    await c.request("PUT", f"{CSR_PATH}/{name}/approval", json=objects.approved(created, now_rfc3339()))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        cur = (await c.request("GET", f"{CSR_PATH}/{name}")).json()
        status = cur.get("status") or {}
        if status.get("certificate"):
            break
        failed = [x for x in status.get("conditions") or [] if x.get("type") in ("Failed", "Denied")]
        if failed:
            raise RuntimeError(f"certificate for {member} refused: {failed[0].get('message')}")
        if loop.time() > deadline:
            raise RuntimeError(f"no certificate for {member} after {timeout:.0f}s: is the controller-manager "
                               "running with --cluster-signing-cert-file?")
        await asyncio.sleep(0.2)
    cfg = c.config
    ca = cfg.ca_data or (Path(cfg.ca_file).read_bytes() if cfg.ca_file else b"")
    doc = objects.kubeconfig(cfg.server, ca, team, member, base64.b64decode(status["certificate"]), key_pem)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{team}-{member}.kubeconfig"
    import yaml
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    return path


async def create(c: Client, args: argparse.Namespace) -> int:
    team = args.name
    print(f"namespace/{team} {await _apply(c, '/api/v1/namespaces', objects.namespace(team))}")
    ns = f"/api/v1/namespaces/{team}"
    if await _serves(c, "v1", "resourcequotas"):
        q = objects.quota(team, args.cpu, args.memory, args.pods)
        print(f"resourcequota/team-quota {await _apply(c, f'{ns}/resourcequotas', q)}")
    else:
        print("resourcequota: not served by this cluster, skipped", file=sys.stderr)
    if await _serves(c, "v1", "limitranges"):
        print(f"limitrange/team-limits {await _apply(c, f'{ns}/limitranges', objects.limits(team))}")
    if await _serves(c, "networking.k8s.io/v1", "networkpolicies"):
        path = f"/apis/networking.k8s.io/v1/namespaces/{team}/networkpolicies"
        print(f"networkpolicy.networking.k8s.io/team-isolation {await _apply(c, path, objects.isolation(team))}")
    rb_path = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{team}/rolebindings"
    members = sorted(set(args.member))
    print(f"rolebinding.rbac.authorization.k8s.io/team-admins "
          f"{await _apply(c, rb_path, objects.admins(team, members))}")
    for m in members:
        path = await issue_kubeconfig(c, team, m, Path(args.output_dir), args.cert_seconds)
        print(f"kubeconfig for {m}: {path}")
    return 0


async def add_member(c: Client, args: argparse.Namespace) -> int:
    rb_path = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{args.name}/rolebindings/team-admins"
    rb = (await c.request("GET", rb_path)).json()
    members = sorted({s["name"] for s in rb.get("subjects") or []} | set(args.member))
    rb["subjects"] = objects.admins(args.name, members)["subjects"]
    await c.request("PUT", rb_path, json=rb)
    for m in args.member:
        path = await issue_kubeconfig(c, args.name, m, Path(args.output_dir), args.cert_seconds)
        print(f"kubeconfig for {m}: {path}")
    return 0


async def list_teams(c: Client, args: argparse.Namespace) -> int:
    nss = (await c.request("GET", "/api/v1/namespaces",
                           params={"labelSelector": objects.TEAM_LABEL})).json()["items"]
    print(f"{'TEAM':<20} MEMBERS")
    for n in nss:
        name = n["metadata"]["name"]
        try:
            rb = (await c.request("GET", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{name}/rolebindings/team-admins")).json()
            members = ",".join(s["name"] for s in rb.get("subjects") or [])
        except NotFound:
            members = "<none>"
        print(f"{name:<20} {members}")
    return 0


async def delete(c: Client, args: argparse.Namespace) -> int:
    try:
        await c.request("DELETE", f"/api/v1/namespaces/{args.name}")
    except NotFound:
        print(f'Error: team "{args.name}" not found', file=sys.stderr)
        return 1
    csrs = (await c.request("GET", CSR_PATH, params={"labelSelector": f"{objects.TEAM_LABEL}={args.name}"})).json()
    for csr in csrs["items"]:
        await c.request("DELETE", f"{CSR_PATH}/{csr['metadata']['name']}")
    print(f'namespace "{args.name}" deleted')
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("team", help="team projects: namespace, quota, isolation, members' kubeconfigs")
    p.add_argument("--kubeconfig", default=None, help="whose rights make the team (default: $KUBECONFIG, ...)")
    tsub = p.add_subparsers(dest="team_command", required=True)
    for name, fn, with_members in (("create", create, True), ("add-member", add_member, True),
                                   ("delete", delete, False), ("list", list_teams, False)):
        tp = tsub.add_parser(name)
        if name != "list":
            tp.add_argument("name")
        if with_members:
            tp.add_argument("--member", action="append", default=[], required=name == "add-member")
            tp.add_argument("--output-dir", default=".")
            tp.add_argument("--cert-seconds", type=int, default=365 * 86400)
        if name == "create":
            tp.add_argument("--cpu", default="4")
            tp.add_argument("--memory", default="8Gi")
            tp.add_argument("--pods", type=int, default=20)
        tp.set_defaults(team_fn=fn)

    def run(args: argparse.Namespace) -> int:
        async def main() -> int:
            cfg = kubeconfig.load(args.kubeconfig)
            async with Client(cfg, component="pykube-team") as c:
                try:
                    return int(await args.team_fn(c, args))
                except APIError as e:
                    print(f"Error from server ({e.reason}): {e}", file=sys.stderr)
                    return 1
                except RuntimeError as e:
                    print(f"error: {e}", file=sys.stderr)
                    return 1
        return asyncio.run(main())
    p.set_defaults(func=run)
