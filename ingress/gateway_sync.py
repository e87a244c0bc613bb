"""The Gateway API's I/O: installing the CRDs (and the GatewayClass `nginx`), and writing the
status of GatewayClasses, Gateways and HTTPRoutes of ours (only when it changed; the
decisions are ingress/gateway.py's)."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from api.resources import ResourceInfo, by_kind
from client.errors import AlreadyExists, NotFound
from client.rest import Client
from ingress import gateway
from ingress.gateway_crds import CRDS, GATEWAY, GATEWAY_CLASS, HTTP_ROUTE

log = logging.getLogger(__name__)
Obj = dict[str, Any]
CRD = by_kind("apiextensions.k8s.io/v1", "CustomResourceDefinition")


async def install(client: Client, timeout: float = 30.0) -> None:
    """Create the CRDs that are missing, wait until all are Established, then the
    GatewayClass `nginx` of this controller (when missing)."""
    for crd in CRDS:
        try:
            await client.create(crd)
        except AlreadyExists:
            pass
    deadline = time.monotonic() + timeout
    for crd in CRDS:
        while True:
            got = await client.get(CRD, crd["metadata"]["name"])
            conds = (got.get("status") or {}).get("conditions") or []
            if any(c.get("type") == "Established" and c.get("status") == "True" for c in conds):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"CRD {crd['metadata']['name']} not established after {timeout} s")
            await asyncio.sleep(0.1)
    try:
        await client.create({"apiVersion": f"{GATEWAY_CLASS.group}/{GATEWAY_CLASS.version}", "kind": "GatewayClass",
                             "metadata": {"name": gateway.CLASS_NAME},
                             "spec": {"controllerName": gateway.CONTROLLER_NAME}})
    except AlreadyExists:
        pass


async def _patch_status(client: Client, info: ResourceInfo, obj: Obj, status: Obj) -> None:
    if (obj.get("status") or {}) == status:
        return
    meta = obj.get("metadata") or {}
    try:
        await client.patch(info, meta["name"], {"status": status}, meta.get("namespace"), subresource="status")
    except NotFound:
        pass


async def write_status(client: Client, classes: list[Obj], gateways: list[Obj], routes: list[Obj],
                       issues: dict[str, list[str]], addresses: list[str]) -> None:
    mine = gateway.our_classes(classes)
    for gc in classes:
        if (gc.get("metadata") or {}).get("name") in mine:
            await _patch_status(client, GATEWAY_CLASS, gc, gateway.class_status(gc))
    attached: dict[tuple[str, str], int] = {}
    for route in routes:
        for _ref, gw in gateway.attachments(route, gateways):
            m = gw.get("metadata") or {}
            attached[(m.get("namespace"), m.get("name"))] = attached.get((m.get("namespace"), m.get("name")), 0) + 1
    for gw in gateways:
        m = gw.get("metadata") or {}
        routes_of = attached.get((m.get("namespace"), m.get("name")), 0)
        await _patch_status(client, GATEWAY, gw, gateway.gateway_status(gw, addresses, routes_of))
    for route in routes:
        key = gateway.route_key(route)
        if key in issues:
            await _patch_status(client, HTTP_ROUTE, route, gateway.route_status(route, gateways, issues[key]))
