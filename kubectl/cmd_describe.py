"""`pykubectl describe`: fetch objects (`TYPE [NAME_PREFIX]`, `TYPE/NAME`, `-l`, `-f`,
`-A`) and the objects their pages mention (events, owned ReplicaSets, pods, endpoints,
the node lease), then print each kind's page from `kubectl.describers`. A name with no
exact match describes every object whose name starts with it, as kubectl does.
"""
from __future__ import annotations

import argparse
from typing import Any

from kubectl import describers, targets
from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError

Obj = dict[str, Any]


def configure(p: Parser) -> None:
    """Show details of a specific resource or group of resources."""
    p.add_argument("args", nargs="*", metavar="(TYPE [NAME_PREFIX] | TYPE/NAME)")
    p.add_argument("-l", "--selector", default="", help="label selector")
    p.add_bool("-A", "--all-namespaces", help="across all namespaces")
    p.add_argument("-f", "--filename", action="append", default=[], help="files identifying the resources")
    p.add_bool("-R", "--recursive", help="process the directory used in -f recursively")
    p.add_bool("--show-events", default=True, help="show events related to the described object")


async def run(ctx: Context, args: argparse.Namespace) -> int:
    from client.errors import NotFound
    if args.filename:
        from kubectl import manifests
        tgts = targets.from_manifests(manifests.load(args.filename, args.recursive, ctx.stdin))
    elif args.args:
        tgts = targets.parse_args(args.args)
    else:
        raise CmdError("You must specify the type of resource to describe. Use \"pykubectl "
                       "api-resources\" for a complete list of supported resources.")
    got = await targets.fetch(ctx, tgts, all_namespaces=args.all_namespaces,
                              label_selector=args.selector)
    objs, errors = got.objects, list(got.errors)
    prefix_matched = False
    if errors and len(args.args) == 2 and "/" not in args.args[0] and len(tgts) == 1:
        prefix = args.args[1]
        lst = await targets.fetch(ctx, [targets.Target(tgts[0].info)],
                                  all_namespaces=args.all_namespaces)
        matching = [o for o in lst.objects if targets.obj_name(o).startswith(prefix)]
        if matching:
            objs, errors = matching, [e for e in errors if not isinstance(e, NotFound)]
            prefix_matched = True
    if not objs and not errors:
        ctx.err(targets.no_resources_message(ctx, args.all_namespaces, tgts))
        return 0
    # kubectl 1.3x lists events only when it describes exactly one named object
    show_events = args.show_events and len(objs) == 1 and not prefix_matched
    pages = []
    for obj in objs:
        pages.append(await page(ctx, obj, show_events))
    if pages and prefix_matched:
        ctx.out("".join(p + "\n" for p in pages))
    elif pages:
        ctx.out("\n\n".join(pages))
    for e in errors:
        ctx.error(e)
    return 0


async def _events(ctx: Context, obj: Obj) -> list[Obj]:
    from api.resources import resolve
    client = await ctx.client()
    meta = obj.get("metadata") or {}
    sel = [f"involvedObject.name={meta.get('name')}",
           f"involvedObject.namespace={meta.get('namespace') or ''}",
           f"involvedObject.kind={obj.get('kind')}"]
    if obj.get("kind") == "Node":
        sel.append(f"involvedObject.uid={meta.get('name')}")   # as kubectl: the kubelet's uid for its Node
    elif meta.get("uid"):
        sel.append(f"involvedObject.uid={meta['uid']}")
    lst = await client.list_all(resolve("events"), meta.get("namespace") or None,
                                field_selector=",".join(sel))
    return list(lst.items)


async def _owned(ctx: Context, owner: Obj, plural: str) -> list[Obj]:
    """Objects of `plural` in the owner's namespace matching its selector and controlled by it."""
    from api.resources import resolve
    client = await ctx.client()
    meta = owner.get("metadata") or {}
    selector = describers.selector_text((owner.get("spec") or {}).get("selector"))
    lst = await client.list_all(resolve(plural), meta.get("namespace"),
                                label_selector=selector or None)
    out = []
    for o in lst.items:
        for ref in (o.get("metadata") or {}).get("ownerReferences") or []:
            if ref.get("controller") and ref.get("uid") == meta.get("uid"):
                out.append(o)
    return out


async def page(ctx: Context, obj: Obj, show_events: bool = True) -> str:
    from api.resources import resolve
    from client.errors import APIError
    client = await ctx.client()
    kind = obj.get("kind", "")
    meta = obj.get("metadata") or {}
    events = await _events(ctx, obj) if show_events and kind != "Namespace" else None
    if kind == "Pod":
        return describers.describe_pod(obj, events)
    if kind == "Deployment":
        return describers.describe_deployment(obj, await _owned(ctx, obj, "replicasets"), events)
    if kind == "ReplicaSet":
        return describers.describe_replicaset(obj, await _owned(ctx, obj, "pods"), events)
    if kind == "ReplicationController":
        from kubectl.describe_batch import describe_replication_controller
        return describe_replication_controller(obj, await _owned(ctx, obj, "pods"), events)
    if kind == "Service":
        try:
            ep = await client.get(resolve("endpoints"), meta.get("name", ""), namespace=meta.get("namespace"))
        except APIError:
            ep = None
        slices = await client.list_all(resolve("endpointslices"), meta.get("namespace"),
                                       label_selector=f"kubernetes.io/service-name={meta.get('name')}")
        return describers.describe_service(obj, ep, events, slices=list(slices.items))
    if kind == "Ingress":
        from kubectl.describe_ingress import describe_ingress, service_names
        backends: dict[str, Any] = {}
        for name in service_names(obj):
            try:
                svc = await client.get(resolve("services"), name, namespace=meta.get("namespace"))
                slices = await client.list_all(resolve("endpointslices"), meta.get("namespace"),
                                               label_selector=f"kubernetes.io/service-name={name}")
                backends[name] = (svc, list(slices.items))
            except APIError as e:
                backends[name] = str(e)
        return describe_ingress(obj, backends, events)
    if kind == "Node":
        pods = await client.list_all(resolve("pods"), None,
                                     field_selector=f"spec.nodeName={meta.get('name')},"
                                                    "status.phase!=Succeeded,status.phase!=Failed")
        try:
            lease = await client.get(resolve("leases"), meta.get("name", ""), namespace="kube-node-lease")
        except APIError as e:
            lease = e.status      # the page says why there is no lease
        return describers.describe_node(obj, list(pods.items), lease, events)
    fn = describers.DESCRIBERS.get(kind)
    if fn is not None:
        return fn(obj, events)
    return describers.describe_generic(obj, events)


COMMANDS = {"describe": (configure, run)}
