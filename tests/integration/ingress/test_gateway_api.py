"""The Gateway API served by the ingress controller's nginx (process data plane, real nginx,
loopback backends as in test_ingress_nginx.py): the CRDs and GatewayClass it installs, an
HTTPRoute splitting 90/10 between two versions measured over 200 requests, a header match
sending a tester to the canary, the statuses it writes, an unresolved backend reported, and
`kubectl get gateway,httproute` with the real kubectl."""
from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from client import kubeconfig
from client.errors import NotFound
from client.rest import Client
from ingress.cli import run_ingress
from ingress.gateway_crds import GATEWAY, GATEWAY_CLASS, HTTP_ROUTE
from tests.integration.ingress.test_ingress_nginx import Env, backend, endpoint_slice, env_503, free_port, service
from tests.integration.kubectl.test_kubectl_batch import real
from tests.support.apps_cluster import eventually

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (nginx-light)")
GW = "gateway.networking.k8s.io/v1"


@pytest.fixture
async def env(apiserver: Any, tmp_path: Path) -> AsyncIterator[Env]:
    api = Client(kubeconfig.load(str(apiserver.kubeconfig_path)), component="test")
    servers = []
    for name in ("shop-v1", "shop-v2"):
        srv, port = await backend(name)
        servers.append(srv)
        await api.create(service(name))
        await api.create(endpoint_slice(name, port))
    http_port, https_port = free_port(), free_port()
    task = asyncio.create_task(run_ingress(api, "node", tmp_path / "conf", "process",
                                           f"127.0.0.1:{http_port}", f"127.0.0.1:{https_port}"))
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            yield Env(api, http, http_port, https_port)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for srv in servers:
            srv.close()
        await api.close()


def gateway() -> dict[str, Any]:
    return {"apiVersion": GW, "kind": "Gateway", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"gatewayClassName": "nginx", "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]}}


def route(rules: list[dict[str, Any]], name: str = "shop") -> dict[str, Any]:
    return {"apiVersion": GW, "kind": "HTTPRoute", "metadata": {"name": name, "namespace": "default"},
            "spec": {"parentRefs": [{"name": "web"}], "hostnames": ["shop.local"], "rules": rules}}


def ref(name: str, weight: int | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"name": name, "port": 80}
    if weight is not None:
        r["weight"] = weight
    return r


async def status_of(api: Client, info: Any, name: str, ns: str | None = "default") -> dict[str, Any]:
    return (await api.get(info, name, ns)).get("status") or {}


def cond(status: dict[str, Any], type_: str) -> str | None:
    return next((c["status"] for c in status.get("conditions") or [] if c["type"] == type_), None)


async def test_canary_split_header_match_and_status(env: Env, apiserver: Any) -> None:
    api = env.api
    async def installed() -> Any:
        with contextlib.suppress(NotFound):
            return await api.get(GATEWAY_CLASS, "nginx")
        return None
    gc = await eventually(installed, what="the GatewayClass nginx")
    assert gc["spec"]["controllerName"] == "pykube.io/gateway-controller"
    await api.create(gateway())
    await api.create(route([
        {"matches": [{"path": {"type": "PathPrefix", "value": "/"}, "headers": [{"name": "X-Canary", "value": "yes"}]}],
         "backendRefs": [ref("shop-v2")]},
        {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
         "backendRefs": [ref("shop-v1", 90), ref("shop-v2", 10)]},
    ]))
    await eventually(lambda: env.answers("shop.local", "/x", (200, "shop-v1 /x")), what="the route served")
    seen = Counter([(await env.get("shop.local", f"/r{i}"))[1].split()[0] for i in range(200)])
    print("90/10 split over 200 requests:", dict(seen))
    # each nginx worker's weighted round robin is exact; connections spread over the workers
    assert set(seen) == {"shop-v1", "shop-v2"} and 14 <= seen["shop-v2"] <= 26
    r = await env.http.get(f"http://127.0.0.1:{env.http_port}/c", headers={"Host": "shop.local", "X-Canary": "yes"})
    assert r.text == "shop-v2 /c"
    assert (await env.get("other.local", "/"))[0] == 404       # not a hostname of the route

    async def programmed() -> bool:
        gc_st = await status_of(api, GATEWAY_CLASS, "nginx", None)
        rt = await status_of(api, HTTP_ROUTE, "shop")
        parents = rt.get("parents") or [{}]
        return (cond(gc_st, "Accepted") == "True" and cond(parents[0], "Accepted") == "True"
                and cond(parents[0], "ResolvedRefs") == "True"
                and parents[0].get("controllerName") == "pykube.io/gateway-controller")
    await eventually(programmed, what="GatewayClass and HTTPRoute status")
    gw = await status_of(api, GATEWAY, "web")
    assert cond(gw, "Accepted") == "True" and cond(gw, "Programmed") == "False"   # no LB address here
    assert gw["listeners"][0]["attachedRoutes"] == 1

    kc = str(apiserver.kubeconfig_path)
    out = (await real(kc, "get", "gatewayclass,gateway,httproute", "--no-headers")).out.split("\n")
    assert out[0].split()[:3] == ["gatewayclass.gateway.networking.k8s.io/nginx", "pykube.io/gateway-controller",
                                  "True"]
    assert out[1].split()[:2] == ["gateway.gateway.networking.k8s.io/web", "nginx"]
    assert out[2].split()[:2] == ["httproute.gateway.networking.k8s.io/shop", '["shop.local"]']

    await api.create(route([{"backendRefs": [ref("nope")]}], name="broken") | {
        "spec": {"parentRefs": [{"name": "web"}], "hostnames": ["broken.local"],
                 "rules": [{"backendRefs": [ref("nope")]}]}})

    async def unresolved() -> bool:
        parents = (await status_of(api, HTTP_ROUTE, "broken")).get("parents") or [{}]
        return cond(parents[0], "ResolvedRefs") == "False"
    await eventually(unresolved, what="ResolvedRefs False for a missing Service")
    await eventually(lambda: env.answers("broken.local", "/", (503, env_503)),
                     what="503 for the route without a backend")
    assert (await env.get("shop.local", "/y"))[0] == 200
