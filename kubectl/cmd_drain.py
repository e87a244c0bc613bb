"""`pykubectl cordon|uncordon|drain NODE...` (or `-l SELECTOR`), as kubectl does them.

`cordon`/`uncordon` set or clear the node's spec.unschedulable (a strategic merge patch)
and print `node/x cordoned` or `node/x already cordoned`. `drain` cordons, sorts the node's
pods (kubectl.drain_logic: DaemonSet pods, local storage, pods without a controller), then
evicts the rest concurrently through `pods/eviction`: a 429 (a PodDisruptionBudget would be
broken) prints kubectl's "will retry after 5s" line and tries again until `--timeout`;
each evicted pod is awaited until it is gone (`pod/x evicted`), and the node is
`drained`. `--disable-eviction` deletes instead. Output and errors are kubectl's.
"""
from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from kubectl import drain_logic as logic
from kubectl.cli import Parser, parse_duration
from kubectl.context import Context
from kubectl.errors import CmdError, Silent

Obj = dict[str, Any]
RETRY_SECONDS = 5.0
POLL_SECONDS = 1.0


def _node_args(p: Parser) -> None:
    p.add_argument("args", nargs="*", metavar="NODE")
    p.add_argument("-l", "--selector", default="", help="selector (label query) to filter on")
    p.add_argument("--dry-run", nargs="?", const="client", default="none", choices=["none", "client", "server"])


def configure_cordon(p: Parser) -> None:
    """Mark node as unschedulable."""
    _node_args(p)


def configure_uncordon(p: Parser) -> None:
    """Mark node as schedulable."""
    _node_args(p)


def configure_drain(p: Parser) -> None:
    """Drain node in preparation for maintenance."""
    _node_args(p)
    p.add_bool("--force", help="continue even if there are pods that do not declare a controller")
    p.add_bool("--ignore-daemonsets", help="ignore DaemonSet-managed pods")
    p.add_bool("--delete-emptydir-data", help="continue even if there are pods using emptyDir")
    p.add_bool("--delete-local-data", help="deprecated: use --delete-emptydir-data")
    p.add_bool("--disable-eviction", help="delete instead of evicting (bypasses PodDisruptionBudgets)")
    p.add_argument("--grace-period", type=int, default=-1, help="seconds for each pod to terminate gracefully")
    p.add_argument("--timeout", default="0s", help="how long to wait before giving up (0: forever)")
    p.add_argument("--pod-selector", default="", help="label selector to filter pods on the node")
    p.add_argument("--skip-wait-for-delete-timeout", type=int, default=0,
                   help="skip waiting for pods deleted more than N seconds ago")
    p.add_bool("--ignore-errors", help="ignore errors between nodes in a group")
    p.add_argument("--chunk-size", type=int, default=500, help="list in chunks of this size")


async def _nodes(ctx: Context, args: argparse.Namespace, verb: str) -> list[Obj]:
    from api.resources import resolve
    if not args.args and not args.selector:
        raise CmdError(f"USAGE: {verb} NODE [flags]\nSee 'pykubectl {verb} -h' for help and examples")
    if args.args and args.selector:
        raise CmdError("error: cannot specify both a node name and a --selector option")
    client = await ctx.client()
    nodes = resolve("nodes")
    if args.selector:
        return list((await client.list_all(nodes, label_selector=args.selector)).items)
    return [await client.get(nodes, name) for name in args.args]


async def _cordon_each(ctx: Context, nodes: list[Obj], desired: bool, dry_run: str) -> None:
    from api.resources import resolve
    client = await ctx.client()
    verb = "cordon" if desired else "uncordon"
    suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(dry_run, "")
    for node in nodes:
        name = (node.get("metadata") or {}).get("name")
        if bool((node.get("spec") or {}).get("unschedulable")) == desired:
            ctx.out(f"node/{name} already {verb}ed{suffix}\n")
            continue
        if dry_run != "client":
            try:
                await client.patch(resolve("nodes"), name, {"spec": {"unschedulable": True if desired else None}},
                                   patch_type="strategic")
            except Exception as e:  # noqa: BLE001 - kubectl reports and goes on
                from kubectl.errors import format_error
                ctx.err(f"error: unable to {verb} node {name!r}: {format_error(e).removeprefix('error: ')}\n")
                continue
        ctx.out(f"node/{name} {verb}ed{suffix}\n")


async def run_cordon(ctx: Context, args: argparse.Namespace) -> int:
    await _cordon_each(ctx, await _nodes(ctx, args, "cordon"), True, args.dry_run)
    return 0


async def run_uncordon(ctx: Context, args: argparse.Namespace) -> int:
    await _cordon_each(ctx, await _nodes(ctx, args, "uncordon"), False, args.dry_run)
    return 0


# ---------------------------------------------------------------- drain
class Drainer:
    def __init__(self, ctx: Context, args: argparse.Namespace) -> None:
        self.ctx = ctx
        self.args = args
        self.timeout = parse_duration(args.timeout)
        self.opts = logic.DrainOptions(args.ignore_daemonsets, args.delete_emptydir_data or args.delete_local_data,
                                       args.force, args.skip_wait_for_delete_timeout)

    async def pods_of(self, node: str) -> logic.PodList:
        from api.resources import resolve
        client = await self.ctx.client()
        pods = await client.list_all(resolve("pods"), None, field_selector=f"spec.nodeName={node}",
                                     label_selector=self.args.pod_selector or None)
        return logic.pods_for_deletion(list(pods.items), self.opts, datetime.now(UTC))

    async def drain(self, node: str) -> None:
        """deleteOrEvictPodsSimple; raises CmdError with kubectl's error text."""
        listed = await self.pods_of(node)
        if listed.errors:
            raise CmdError(logic.aggregate(listed.error_texts()))
        if listed.warnings:
            self.ctx.err(f"Warning: {listed.warning_text()}\n")
        if self.args.dry_run == "client":
            for pod in listed.delete:
                meta = pod["metadata"]
                self.ctx.out(f"evicting pod {meta['namespace']}/{meta['name']} (dry run)\n")
            return
        try:
            await self.evict_all(listed.delete)
        except CmdError as e:
            pending = await self.pods_of(node)
            if pending.delete:
                self.ctx.err(f'There are pending pods in node "{node}" when an error occurred: {e.message}\n')
                for pod in pending.delete:
                    self.ctx.err(f"pod/{pod['metadata']['name']}\n")
            raise

    async def evict_all(self, pods: list[Obj]) -> None:
        deadline = asyncio.get_running_loop().time() + self.timeout if self.timeout > 0 else None
        results = await asyncio.gather(*(self.evict_one(p, deadline) for p in pods), return_exceptions=True)
        errors = [str(r) if not isinstance(r, CmdError) else r.message for r in results if isinstance(r, BaseException)]
        if errors:
            raise CmdError(logic.aggregate(errors))

    def _expired(self, deadline: float | None) -> bool:
        return deadline is not None and asyncio.get_running_loop().time() >= deadline

    async def evict_one(self, pod: Obj, deadline: float | None) -> None:
        from api.resources import resolve
        from client.errors import APIError, NotFound, TooManyRequests
        client = await self.ctx.client()
        meta = pod["metadata"]
        ns, name = meta["namespace"], meta["name"]
        server_dry = self.args.dry_run == "server"
        while True:
            self.ctx.out(f"evicting pod {ns}/{name}{' (server dry run)' if server_dry else ''}\n")
            if self._expired(deadline):
                raise CmdError(f'error when evicting pods/"{name}" -n "{ns}": global timeout reached: {self.args.timeout}')
            try:
                if self.args.disable_eviction:
                    await client.delete(resolve("pods"), name, ns,
                                        grace_period_seconds=self.args.grace_period if self.args.grace_period >= 0 else None)
                else:
                    params = {"dryRun": "All"} if server_dry else None
                    await client.request("POST", resolve("pods").path(ns, name, "eviction"), params=params,
                                         json=logic.eviction(pod, self.args.grace_period))
                break
            except NotFound:
                return
            except TooManyRequests as e:
                self.ctx.err(f'error when evicting pods/"{name}" -n "{ns}" (will retry after 5s): {e.message}\n')
                await asyncio.sleep(RETRY_SECONDS)
            except APIError as e:
                raise CmdError(f'error when evicting pods/"{name}" -n "{ns}": {e.message}') from None
        if server_dry:
            return
        await self.wait_gone(ns, name, meta.get("uid"), deadline)

    async def wait_gone(self, ns: str, name: str, uid: str | None, deadline: float | None) -> None:
        from api.resources import resolve
        from client.errors import NotFound
        client = await self.ctx.client()
        while True:
            try:
                cur = await client.get(resolve("pods"), name, namespace=ns)
            except NotFound:
                break
            if (cur.get("metadata") or {}).get("uid") != uid:
                break
            if self._expired(deadline):
                raise CmdError(f'error when waiting for pod "{name}" in namespace "{ns}" to terminate: '
                               f"global timeout reached: {self.args.timeout}")
            await asyncio.sleep(POLL_SECONDS)
        self.ctx.out(f"pod/{name} {'deleted' if self.args.disable_eviction else 'evicted'}\n")


async def run_drain(ctx: Context, args: argparse.Namespace) -> int:
    nodes = await _nodes(ctx, args, "drain")
    await _cordon_each(ctx, nodes, True, args.dry_run)
    drainer = Drainer(ctx, args)
    failed: list[str] = []
    errors: list[str] = []
    for node in nodes:
        name = node["metadata"]["name"]
        try:
            await drainer.drain(name)
        except CmdError as e:
            ctx.err(f'error: unable to drain node "{name}" due to error: {e.message}, continuing command...\n')
            failed.append(name)
            errors.append(e.message)
            continue
        suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(args.dry_run, "")
        ctx.out(f"node/{name} drained{suffix}\n")
    if failed:
        ctx.err("There are pending nodes to be drained:\n" + "".join(f" {n}\n" for n in failed))
        ctx.err(logic.aggregate(errors) + "\n")
        raise Silent()
    return 0


COMMANDS = {"cordon": (configure_cordon, run_cordon), "uncordon": (configure_uncordon, run_uncordon),
            "drain": (configure_drain, run_drain)}
