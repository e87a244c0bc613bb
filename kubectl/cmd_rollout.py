"""`pykubectl rollout status|history|undo|restart|pause|resume` for Deployments, DaemonSets
and StatefulSets.

`status` prints kubectl's progress line for the object as it is now and again on every
change the watch reports, until the rollout is complete (or `--timeout`). `history` and
`undo` read the ReplicaSets a Deployment controls, or the ControllerRevisions of a
DaemonSet or StatefulSet; `undo` sends the JSON patch that puts the chosen ReplicaSet's
template back, or the revision's own strategic merge patch. `restart` stamps the template
with `kubectl.kubernetes.io/restartedAt`; `pause`/`resume` flip a Deployment's spec.paused.
"""
from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from typing import Any

from kubectl import printers, rollout_logic, rollout_sets, targets
from kubectl.cli import Parser, parse_duration
from kubectl.context import Context
from kubectl.errors import CmdError, is_bug

Obj = dict[str, Any]


def _targets_args(p: Parser) -> None:
    p.add_argument("args", nargs="*", metavar="(TYPE NAME | TYPE/NAME)")
    p.add_argument("-f", "--filename", action="append", default=[], help="files identifying the resources")
    p.add_bool("-R", "--recursive", help="process the directory used in -f recursively")
    p.add_argument("-l", "--selector", default="", help="label selector")


def configure_status(p: Parser) -> None:
    """Show the status of the rollout."""
    _targets_args(p)
    p.add_bool("-w", "--watch", default=True, help="watch the status of the rollout until it's done")
    p.add_argument("--revision", type=int, default=0, help="pin to a specific revision")
    p.add_argument("--timeout", default="0s", help="how long to wait (0: forever)")


def configure_history(p: Parser) -> None:
    """View rollout history."""
    _targets_args(p)
    p.add_argument("--revision", type=int, default=0, help="see the details of this revision")


def configure_undo(p: Parser) -> None:
    """Undo a previous rollout."""
    _targets_args(p)
    p.add_argument("--to-revision", type=int, default=0, help="the revision to roll back to (0: the previous one)")
    p.add_argument("--dry-run", nargs="?", const="client", default="none", choices=["none", "client", "server"])


def configure_restart(p: Parser) -> None:
    """Restart a resource."""
    _targets_args(p)


def configure_pause(p: Parser) -> None:
    """Mark the provided resource as paused."""
    _targets_args(p)


def configure_resume(p: Parser) -> None:
    """Resume a paused resource."""
    _targets_args(p)


SET_KINDS = ("DaemonSet", "StatefulSet")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_ROLLOUT_KINDS = {"status": ("Deployment", *SET_KINDS), "history": ("Deployment", *SET_KINDS),
                  "undo": ("Deployment", *SET_KINDS), "restart": ("Deployment", *SET_KINDS)}


async def _deployments(ctx: Context, args: argparse.Namespace, verb: str) -> list[Obj]:
    if args.filename:
        from kubectl import manifests
        tgts = targets.from_manifests(manifests.load(args.filename, args.recursive, ctx.stdin))
    elif args.args:
        tgts = targets.parse_args(args.args)
    else:
        raise CmdError("required resource not specified",
                       f"See 'pykubectl rollout {verb} -h' for help and examples")
    for t in tgts:
        if t.info.kind not in _ROLLOUT_KINDS.get(verb, ("Deployment",)):
            what = {"status": "status viewer", "history": "history viewer", "undo": "rollbacker"}.get(verb)
            group = f"{t.info.kind}.{t.info.group}" if t.info.group else t.info.kind
            if what == "status viewer":
                raise CmdError(f"no status viewer has been implemented for {group}")
            if what:
                raise CmdError(f'no {what} has been implemented for "{group}"')
            doing = {"pause": "pausing", "resume": "resuming", "restart": "restarting"}.get(verb, verb)
            names = ", ".join(f'"{n}"' for n in t.names)
            raise CmdError(f"{t.info.group_resource} {names} {doing} is not supported")
    got = await targets.fetch(ctx, tgts, label_selector=args.selector)
    for e in got.errors:
        ctx.error(e)
    return got.objects


async def _owned_replicasets(ctx: Context, d: Obj) -> list[Obj]:
    from api.resources import resolve
    from kubectl.describers import selector_text
    client = await ctx.client()
    sel = selector_text((d.get("spec") or {}).get("selector"))
    lst = await client.list_all(resolve("replicasets"), (d.get("metadata") or {}).get("namespace"),
                                label_selector=sel or None)
    return rollout_logic.controlled_by(d, list(lst.items))


# ---------------------------------------------------------------- status
async def run_status(ctx: Context, args: argparse.Namespace) -> int:
    deployments = await _deployments(ctx, args, "status")
    timeout = parse_duration(args.timeout, "--timeout")
    for d in deployments:
        try:
            if timeout > 0:
                await asyncio.wait_for(_follow(ctx, d, args.watch, args.revision), timeout)
            else:
                await _follow(ctx, d, args.watch, args.revision)
        except asyncio.TimeoutError:
            raise CmdError("timed out waiting for the condition") from None
    return 0


def _check_revision(d: Obj, want: int) -> None:
    if want <= 0:
        return
    have = ((d.get("metadata") or {}).get("annotations") or {}).get(rollout_logic.REVISION)
    if have is None:
        raise CmdError(f"{rollout_logic.REVISION} annotation not found in deployment "
                       f'"{(d.get("metadata") or {}).get("name")}"')
    if str(want) != have:
        raise CmdError(f"desired revision ({want}) is different from the running revision ({have})")


def _status_of(obj: Obj) -> tuple[str, bool]:
    kind = obj.get("kind")
    if kind == "DaemonSet":
        return rollout_sets.daemon_set_status(obj)
    if kind == "StatefulSet":
        return rollout_sets.stateful_set_status(obj)
    return rollout_logic.deployment_status(obj)


async def _follow(ctx: Context, d: Obj, watch: bool, want_revision: int) -> None:
    from api.resources import by_kind
    client = await ctx.client()
    info = by_kind(d.get("apiVersion") or "apps/v1", d.get("kind") or "Deployment")
    meta = d.get("metadata") or {}
    name, ns = meta.get("name", ""), meta.get("namespace")
    if d.get("kind") == "Deployment":
        _check_revision(d, want_revision)
    msg, done = _status_of(d)
    ctx.out(msg)
    if done or not watch:
        return
    from client.errors import Gone
    rv = meta.get("resourceVersion")
    while True:
        stream = client.watch(info, ns, resource_version=rv, field_selector=f"metadata.name={name}",
                              timeout_seconds=300)
        try:
            async with stream:
                async for ev in stream:
                    rv = ev.resource_version or rv
                    if ev.type == "BOOKMARK":
                        continue
                    if ev.type == "DELETED":
                        raise CmdError("object has been deleted")
                    if _report(ctx, ev.object, want_revision):
                        return
        except Gone:       # too far behind: read it afresh and watch on from there
            current = await client.get(info, name, namespace=ns)
            rv = (current.get("metadata") or {}).get("resourceVersion")
            if _report(ctx, current, want_revision):
                return


def _report(ctx: Context, d: Obj, want_revision: int) -> bool:
    """Print the object's status line; True once the rollout is complete."""
    if d.get("kind") == "Deployment":
        _check_revision(d, want_revision)
    msg, done = _status_of(d)
    ctx.out(msg)
    return done


# ---------------------------------------------------------------- history / undo
async def _owned_revisions(ctx: Context, owner: Obj) -> list[Obj]:
    from api.resources import resolve
    from kubectl.describers import selector_text
    client = await ctx.client()
    sel = selector_text((owner.get("spec") or {}).get("selector"))
    lst = await client.list_all(resolve("controllerrevisions.apps"), (owner.get("metadata") or {}).get("namespace"),
                                label_selector=sel or None)
    return rollout_sets.controlled(owner, list(lst.items))


async def run_history(ctx: Context, args: argparse.Namespace) -> int:
    for d in await _deployments(ctx, args, "history"):
        if d.get("kind") in SET_KINDS:
            hist = rollout_sets.history(await _owned_revisions(ctx, d))
        else:
            hist = rollout_logic.history(await _owned_replicasets(ctx, d))
        text = rollout_logic.history_text(hist, args.revision)
        head = f"with revision #{args.revision}" if args.revision > 0 else ""
        ctx.out(f"{printers.qualified_name(d)} {head}\n{text}\n")
    return 0


async def run_undo(ctx: Context, args: argparse.Namespace) -> int:
    from api.resources import by_kind, resolve
    client = await ctx.client()
    for d in await _deployments(ctx, args, "undo"):
        meta = d.get("metadata") or {}
        name = printers.qualified_name(d)
        if LAST_APPLIED in (meta.get("annotations") or {}):
            plural = by_kind(d.get("apiVersion") or "apps/v1", d.get("kind") or "Deployment").plural
            ctx.warn(f"resource {plural}/{meta.get('name')} was previously managed with 'kubectl apply'. "
                     f"Rolling back will not update the {LAST_APPLIED} annotation, which may cause "
                     "unexpected behavior on future 'kubectl apply' operations. Consider using "
                     "'kubectl apply' with your previous configuration file instead.")
        if d.get("kind") in SET_KINDS:
            await _undo_set(ctx, d, args)
            continue
        try:
            if (d.get("spec") or {}).get("paused"):
                raise CmdError("you cannot rollback a paused deployment; resume it first with "
                               "'pykubectl rollout resume' and try again")
            rs = rollout_logic.rollback_target(d, await _owned_replicasets(ctx, d), args.to_revision)
            patch = rollout_logic.undo_patch(d, rs)
            if patch is None:
                ctx.out(f"{name} skipped rollback (current template already matches revision "
                        f"{args.to_revision if args.to_revision else rollout_logic.revision(rs)})\n")
                continue
            if args.dry_run != "none":
                from kubectl import describe_util as du
                w = du.PrefixWriter(tabbed=False)
                du.pod_template(w, patch[0]["value"])
                ctx.out(f"{name} {w.text()} (dry run)\n")
                continue
            try:
                await client.patch(resolve("deployments"), meta.get("name", ""), patch,
                                   namespace=meta.get("namespace"), patch_type="json")
            except Exception as e:
                from client.errors import APIError
                if isinstance(e, APIError):
                    raise CmdError(f"failed restoring revision {args.to_revision}: {e.message}") from None
                raise
        except CmdError as e:
            ctx.error(e)
            continue
        ctx.out(f"{name} rolled back\n")
    return 0


async def _undo_set(ctx: Context, obj: Obj, args: argparse.Namespace) -> None:
    """DaemonSetRollbacker / StatefulSetRollbacker: patch the revision's data back."""
    from api.resources import by_kind
    client = await ctx.client()
    meta = obj.get("metadata") or {}
    name = printers.qualified_name(obj)
    try:
        rev = rollout_sets.find_revision(await _owned_revisions(ctx, obj), args.to_revision)
        if args.dry_run == "client":
            from kubectl import describe_util as du
            w = du.PrefixWriter(tabbed=False)
            du.pod_template(w, rollout_sets.template_of(rev))
            ctx.out(f"{name} will roll back to {w.text()} (dry run)\n")
            return
        if rollout_sets.matches(obj, rev):
            ctx.out(f"{name} skipped rollback (current template already matches revision {rev.get('revision')})\n")
            return
        info = by_kind(obj.get("apiVersion") or "apps/v1", obj.get("kind") or "")
        try:
            await client.patch(info, meta.get("name", ""), rollout_sets.undo_patch(rev),
                               namespace=meta.get("namespace"), patch_type="strategic")
        except Exception as e:
            from client.errors import APIError
            if isinstance(e, APIError):
                raise CmdError(f"failed restoring revision {args.to_revision}: {e.message}") from None
            raise
    except CmdError as e:
        ctx.error(e)
        return
    ctx.out(f"{name} rolled back\n")


# ---------------------------------------------------------------- restart / pause / resume
async def _patch_each(ctx: Context, args: argparse.Namespace, verb: str) -> int:
    from api.resources import by_kind
    client = await ctx.client()
    for d in await _deployments(ctx, args, verb):
        meta, spec = d.get("metadata") or {}, d.get("spec") or {}
        info = by_kind(d.get("apiVersion") or "apps/v1", d.get("kind") or "Deployment")
        label = f'{info.group_resource} "{meta.get("name")}"'
        paused = bool(spec.get("paused"))
        if verb == "pause" and paused:
            ctx.error(CmdError(f"{label} is already paused"))
            continue
        if verb == "resume" and not paused:
            ctx.error(CmdError(f"{label} is not paused"))
            continue
        if verb == "restart" and paused:
            ctx.error(CmdError(f"{label} can't restart paused deployment (run rollout resume first)"))
            continue
        if verb == "restart":
            stamp = datetime.now().astimezone().isoformat(timespec="seconds").replace("+00:00", "Z")
            patch: Obj = {"spec": {"template": {"metadata": {"annotations": {
                "kubectl.kubernetes.io/restartedAt": stamp}}}}}
        else:
            patch = {"spec": {"paused": verb == "pause"}}
        try:
            await client.patch(info, meta.get("name", ""), patch,
                               namespace=meta.get("namespace"), patch_type="strategic")
        except Exception as e:
            if is_bug(e):
                raise
            ctx.error(e)
            continue
        done = {"restart": "restarted", "pause": "paused", "resume": "resumed"}[verb]
        ctx.out(f"{printers.qualified_name(d)} {done}\n")
    return 0


async def run_restart(ctx: Context, args: argparse.Namespace) -> int:
    return await _patch_each(ctx, args, "restart")


async def run_pause(ctx: Context, args: argparse.Namespace) -> int:
    return await _patch_each(ctx, args, "pause")


async def run_resume(ctx: Context, args: argparse.Namespace) -> int:
    return await _patch_each(ctx, args, "resume")


COMMANDS = {
    "rollout status": (configure_status, run_status),
    "rollout history": (configure_history, run_history),
    "rollout undo": (configure_undo, run_undo),
    "rollout restart": (configure_restart, run_restart),
    "rollout pause": (configure_pause, run_pause),
    "rollout resume": (configure_resume, run_resume),
}
