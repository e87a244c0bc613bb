"""The apiserver's connect and proxy subresources: `pods/{log,exec,attach,portforward,proxy}`,
`services/proxy`, `nodes/proxy`.

Owns `KubeletProxy`, the `Handlers.kubelet_proxy` hook:
- it finds the pod's node and the kubelet there (the Node's InternalIP and
  status.daemonEndpoints.kubeletEndpoint.Port, which a kubelet on port 0 publishes),
  picks the container (the only one, or 400 naming the choices), and forwards;
- `log`: `GET /containerLogs/{ns}/{pod}/{container}` with follow, tailLines, previous,
  timestamps, sinceSeconds, limitBytes; the kubelet's text is streamed back unchanged;
- `exec`, `attach`, `portforward`: `Upgrade:` requests only (else 400 "Upgrade request
  required", as from kube-apiserver); a WebSocket upgrade is a GET, which the gateway
  authorizes as `get`, so `create` on the subresource is checked here too, as
  kube-apiserver does since 1.35 (AuthorizePodWebsocketUpgradeCreatePermission): SPDY's
  POST and WebSocket's GET both need `create`. Then they are relayed to the kubelet's `/exec/..`, `/attach/..`,
  `/portForward/..` (httpstream/forward.py): the WebSocket or SPDY session is between the
  client and the kubelet; the Python client's `ports=` becomes the kubelet's `port=`;
- `proxy`: pods and services to their IP and port (proxylocation.py), nodes to their
  kubelet (`nodes/NAME/proxy/pods`, `/healthz`, ...), any method, upgrades included.

Security, documented: the proxy authenticates to kubelets with the apiserver's own
(admin) bearer token, and does not verify the kubelets' self-signed serving
certificates, as kube-apiserver does by default (no `--kubelet-certificate-authority`).
Requests to pods and services carry no credentials of the client's.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from api.resources import by_kind
from apiserver import errors, proxylocation
from apiserver.auth.rbac import Attributes
from apiserver.request import Target
from httpstream.forward import BackendProxy, streamed
from httpstream.hijack import upgrade_of

LOG_PARAMS = ("follow", "tailLines", "previous", "timestamps", "sinceSeconds", "sinceTime", "limitBytes")


def pick_container(pod: dict[str, Any], wanted: str | None) -> str:
    spec = pod.get("spec") or {}
    names = [c["name"] for c in spec.get("containers") or []]
    debuggable = names + [c["name"] for c in spec.get("ephemeralContainers") or []]
    name = pod["metadata"]["name"]
    if wanted:
        if wanted not in debuggable:
            raise errors.bad_request(f"container {wanted} is not valid for pod {name}")
        return wanted
    if len(names) == 1:
        return names[0]
    raise errors.bad_request(f"a container name must be specified for pod {name}, "
                             f"choose one of: [{' '.join(names)}]")


def kubelet_endpoint(node: dict[str, Any]) -> tuple[str, int]:
    status = node.get("status") or {}
    addrs = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    host = addrs.get("InternalIP") or addrs.get("ExternalIP") or addrs.get("Hostname")
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") or 10250
    if not host:
        raise errors.APIError(503, "ServiceUnavailable", f"node {node['metadata']['name']} has no address")
    return host, int(port)


class KubeletProxy:
    def __init__(self, get: Callable[[Any, str | None, str], Awaitable[dict[str, Any]]], token: str,
                 timeout: float = 30.0, authorize: Callable[[Attributes], None] | None = None) -> None:
        """`get(resource, namespace, name)` reads an object (the registry's `get`);
        `authorize(attributes)` raises 403 when RBAC refuses (the authorizer's `authorize`)."""
        self._get, self.token, self.timeout, self.authorize = get, token, timeout, authorize
        self.backend = BackendProxy(timeout)
        self._http = httpx.AsyncClient(verify=self.backend.tls, trust_env=False,
                                       timeout=httpx.Timeout(timeout, read=None))

    async def close(self) -> None:
        await self._http.aclose()
        await self.backend.close()

    async def _kubelet_of(self, pod: dict[str, Any]) -> tuple[str, int]:
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            raise errors.bad_request(f"pod {pod['metadata']['name']} does not have a host assigned")
        return kubelet_endpoint(await self._get(by_kind("v1", "Node"), None, node_name))

    async def locate(self, namespace: str, name: str, container: str | None) -> tuple[str, int, str]:
        """(kubelet host, port, container) for a pod, or the APIError explaining why not."""
        pod = await self._get(by_kind("v1", "Pod"), namespace, name)
        c = pick_container(pod, container)
        host, port = await self._kubelet_of(pod)
        return host, port, c

    async def __call__(self, request: Request, t: Target) -> Response:
        assert t.name is not None
        if t.subresource == "proxy":
            return await self.proxy(request, t)
        assert t.namespace is not None
        if t.subresource in ("exec", "attach", "portforward"):
            return await self.connect(request, t)
        if t.subresource != "log" or request.method != "GET":
            raise errors.method_not_allowed()
        return await self.log(request, t)

    async def connect(self, request: Request, t: Target) -> Response:
        """exec, attach, portforward: the client's upgraded session, joined to the kubelet's."""
        assert t.name is not None and t.namespace is not None
        if not upgrade_of(request.scope["headers"]):
            raise errors.bad_request("Upgrade request required")
        self._authorize_create(request, t)
        q = request.query_params
        if t.subresource == "portforward":
            pod = await self._get(by_kind("v1", "Pod"), t.namespace, t.name)
            host, port = await self._kubelet_of(pod)
            ports = [("port", p.strip()) for v in q.getlist("ports") + q.getlist("port")
                     for p in v.split(",") if p.strip()]
            target = f"/portForward/{t.namespace}/{t.name}" + (f"?{urlencode(ports)}" if ports else "")
        else:
            host, port, c = await self.locate(t.namespace, t.name, q.get("container"))
            params = [(k, v) for k, v in q.multi_items() if k != "container"]
            target = f"/{t.subresource}/{t.namespace}/{t.name}/{c}?{urlencode(params)}"
        return await self.backend.forward(request, "https", host, port, target, self.token)

    def _authorize_create(self, request: Request, t: Target) -> None:
        """The synthetic `create` check for an upgrade that came as a GET (WebSocket)."""
        user = (request.scope.get("state") or {}).get("userinfo")
        if self.authorize is None or user is None or request.method == "POST":
            return   # POST was authorized as create already
        self.authorize(Attributes(user, "create", t.namespace or "", "", "pods", t.subresource or "", t.name or ""))

    async def proxy(self, request: Request, t: Target) -> Response:
        """pods/proxy, services/proxy, nodes/proxy."""
        assert t.name is not None
        scheme, name, port = proxylocation.split_scheme_name_port(t.name)
        plural = t.resource.plural
        rest = proxylocation.backend_path(request.scope.get("raw_path", b"").decode("latin-1"), plural, t.name)
        if rest is None:
            rest = proxylocation.backend_path(request.url.path, plural, t.name) or ""
        if not rest and request.method == "GET" and not upgrade_of(request.scope["headers"]):
            query = request.url.query
            return RedirectResponse(request.url.path + "/" + (f"?{query}" if query else ""), status_code=301)
        target = (rest or "/") + (f"?{request.url.query}" if request.url.query else "")
        token = None
        if plural == "nodes":
            host, kport = kubelet_endpoint(await self._get(by_kind("v1", "Node"), None, name))
            scheme, port_no, token = scheme or "https", int(port) if port.isdigit() else kport, self.token
        elif plural == "pods":
            pod = await self._get(by_kind("v1", "Pod"), t.namespace, name)
            scheme, host, port_no = proxylocation.pod_location(pod, scheme, port)
        elif plural == "services":
            svc = await self._get(by_kind("v1", "Service"), t.namespace, name)
            try:
                eps: dict[str, Any] | None = await self._get(by_kind("v1", "Endpoints"), t.namespace, name)
            except errors.APIError as e:
                if e.code != 404:
                    raise
                eps = None
            scheme, host, port_no = proxylocation.service_location(svc, eps, scheme, port)
        else:
            raise errors.method_not_allowed()
        return await self.backend.forward(request, scheme, host, port_no, target, token)

    async def log(self, request: Request, t: Target) -> Response:
        assert t.name is not None and t.namespace is not None
        q = request.query_params
        host, port, c = await self.locate(t.namespace, t.name, q.get("container"))
        params = {k: q[k] for k in LOG_PARAMS if q.get(k) not in (None, "")}
        url = f"https://{_host(host)}:{port}/containerLogs/{t.namespace}/{t.name}/{c}"
        req = self._http.build_request("GET", url, params=params,
                                       headers={"Authorization": f"Bearer {self.token}"})
        try:
            resp = await self._http.send(req, stream=True)
        except httpx.HTTPError as e:
            raise errors.APIError(502, "InternalError", f"error dialing kubelet {host}:{port}: {e}") from None
        if resp.status_code >= 400:
            body = await resp.aread()
            await resp.aclose()
            return Response(body, status_code=resp.status_code,
                            media_type=resp.headers.get("content-type", "application/json"))
        return StreamingResponse(streamed(resp), media_type="text/plain")


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
