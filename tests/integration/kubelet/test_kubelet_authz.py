"""Who may call a kubelet directly: a token the apiserver authenticates (TokenReview) and
RBAC on the node's subresources (SubjectAccessReview), as upstream's webhook modes.

A ServiceAccount that may read every pod still may not read logs or run commands at the
kubelet: that takes `nodes/proxy`, and running a command takes `create` on it even when
it arrives as a WebSocket GET."""
from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from client.rest import Client
from kubelet.auth import KubeletAuth, request_attributes
from tests.integration.apiserver.test_rbac_kubectl import wait_allowed
from tests.integration.kubelet.conftest import KubeletFactory, pod_body, ready, wait_pod

RBAC = "/apis/rbac.authorization.k8s.io/v1"
SA_USER = "system:serviceaccount:default:prober"


async def _grant(client: Client, name: str, rules: list[dict[str, Any]]) -> None:
    await client.request("POST", f"{RBAC}/clusterroles", json={
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
        "rules": rules})
    await client.request("POST", f"{RBAC}/clusterrolebindings", json={
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": "prober", "namespace": "default"}]})


async def _wait_node_proxy(client: Client, verb: str) -> None:
    """Until the authorizer's cache has the new binding: the kubelet's own question says yes."""
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": SA_USER, "groups": ["system:serviceaccounts", "system:serviceaccounts:default",
                                                 "system:authenticated"],
                     "resourceAttributes": {"verb": verb, "resource": "nodes", "subresource": "proxy",
                                            "name": "node-1"}}}
    for _ in range(200):
        r = await client.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", json=body)
        if r.json()["status"]["allowed"]:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{SA_USER} never allowed to {verb} nodes/proxy")


async def _exec(port: int, token: str) -> list[bytes]:
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    url = f"wss://127.0.0.1:{port}/exec/default/web/c?command=hostname&stdout=1"
    async with connect(url, ssl=tls, subprotocols=["v5.channel.k8s.io"], proxy=None,  # type: ignore[list-item]
                       additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        return [bytes(m) if isinstance(m, (bytes, bytearray)) else m.encode() async for m in ws]


def test_paths_name_node_subresources_and_verbs() -> None:
    assert request_attributes("GET", "/containerLogs/default/web/c") == ("get", "proxy")
    assert request_attributes("GET", "/pods") == ("get", "proxy")
    assert request_attributes("GET", "/exec/default/web/c") == ("create", "proxy")      # a WebSocket GET
    assert request_attributes("POST", "/attach/default/web/c") == ("create", "proxy")
    assert request_attributes("GET", "/portForward/default/web") == ("create", "proxy")
    assert request_attributes("GET", "/stats/summary") == ("get", "stats")
    assert request_attributes("GET", "/metrics/resource") == ("get", "metrics")
    assert request_attributes("GET", "/logs/syslog") == ("get", "log")
    assert request_attributes("GET", "/statsfoo") == ("get", "proxy")
    assert request_attributes("DELETE", "/pods") == ("delete", "proxy")


async def test_reading_pods_is_not_enough_to_use_the_kubelet(client: Client, kubelets: KubeletFactory,
                                                           apiserver: Any, http: httpx.AsyncClient) -> None:
    k = await kubelets("node-1")
    assert k.server is not None
    await client.create(pod_body("web"))
    await wait_pod(client, "web", ready)
    await client.request("POST", "/api/v1/namespaces/default/serviceaccounts", json={
        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "prober"}})
    r = await client.request("POST", "/api/v1/namespaces/default/serviceaccounts/prober/token",
                             json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})
    token = r.json()["status"]["token"]
    await _grant(client, "pod-reader", [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get"]}])
    await wait_allowed(http, SA_USER, "get", "pods", "default")

    base = f"https://127.0.0.1:{k.server.port}"
    as_sa = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(verify=False, trust_env=False) as h:
        r = await h.get(f"{base}/containerLogs/default/web/c", headers=as_sa)
        assert (r.status_code, r.text) == (
            403, f"Forbidden (user={SA_USER}, verb=get, resource=nodes, subresource=proxy)")
        r = await h.get(f"{base}/stats/summary", headers=as_sa)
        assert (r.status_code, r.text) == (
            403, f"Forbidden (user={SA_USER}, verb=get, resource=nodes, subresource=stats)")
    with pytest.raises(InvalidStatus) as refused:
        await _exec(k.server.port, token)
    assert refused.value.response.status_code == 403
    assert (refused.value.response.body or b"").decode() == (
        f"Forbidden (user={SA_USER}, verb=create, resource=nodes, subresource=proxy)")

    # nodes/proxy get: logs and the pod list, still no commands
    await _grant(client, "node-proxy-reader", [{"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}])
    await _wait_node_proxy(client, "get")
    k.server.auth = KubeletAuth(client, client.config.token, "node-1")   # without the cached denial (30 s)
    async with httpx.AsyncClient(verify=False, trust_env=False) as h:
        r = await h.get(f"{base}/pods", headers=as_sa)
        assert r.status_code == 200 and [p["metadata"]["name"] for p in r.json()["items"]] == ["web"]
        assert (await h.get(f"{base}/containerLogs/default/web/c", headers=as_sa)).status_code == 200
    with pytest.raises(InvalidStatus):
        await _exec(k.server.port, token)

    # create on nodes/proxy runs commands
    await _grant(client, "node-proxy-runner", [{"apiGroups": [""], "resources": ["nodes/proxy"],
                                                "verbs": ["create"]}])
    await _wait_node_proxy(client, "create")
    k.server.auth = KubeletAuth(client, client.config.token, "node-1")
    frames = await _exec(k.server.port, token)
    assert frames[0] == b"\x01web\n"


async def test_a_node_may_ask_who_calls_it_and_whether_they_may(apiserver: Any, tmp_path: Any) -> None:
    """What a kubelet asks with its own identity (system:nodes): TokenReview, in
    authentication.k8s.io, and SubjectAccessReview, both granted by the system:node role."""
    import base64

    import yaml

    from tests.integration.apiserver.test_rbac_kubectl import user_kubeconfig
    kc = user_kubeconfig(apiserver, tmp_path, "system:node:node-9", ["system:nodes"])
    user = yaml.safe_load(kc.read_text())["users"][0]["user"]
    (tmp_path / "c.crt").write_bytes(base64.b64decode(user["client-certificate-data"]))
    (tmp_path / "c.key").write_bytes(base64.b64decode(user["client-key-data"]))
    tls = ssl.create_default_context(cafile=str(apiserver.ca_path))
    tls.load_cert_chain(str(tmp_path / "c.crt"), str(tmp_path / "c.key"))
    async with httpx.AsyncClient(base_url=apiserver.url, verify=tls, trust_env=False) as node:
        r = await node.post("/apis/authentication.k8s.io/v1/tokenreviews", json={
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": apiserver.token}})
        assert r.status_code == 201, r.text
        assert "system:masters" in r.json()["status"]["user"]["groups"]
        r = await node.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", json={
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": "nobody", "resourceAttributes": {"verb": "create", "resource": "nodes",
                                                              "subresource": "proxy"}}})
        assert (r.status_code, r.json()["status"]["allowed"]) == (201, False), r.text
