"""Who may exec, attach and port-forward: RBAC on `pods/exec`, `pods/attach`,
`pods/portforward`, as kube-apiserver 1.35+ decides it.

A WebSocket upgrade is a GET, authorized as `get`; kube-apiserver also asks for `create`
(AuthorizePodWebsocketUpgradeCreatePermission), so a role that only reads `pods/exec`
cannot run commands. Real kubectl (which then retries over SPDY, a POST, refused again)
and pykubectl print the same refusal; the same user with `create` runs the command on the
stand-in kubelet (fake_kubelet.py). The proxy subresources (`pods/proxy`, `services/proxy`,
`nodes/proxy`) are authorized by their HTTP verb, as any request."""
from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from api.resources import resolve
from client.rest import Client
from fake_kubelet import fake_kubelet
from tests.integration.apiserver.test_rbac_kubectl import user_kubeconfig, wait_allowed
from tests.integration.apiserver.test_real_clients import kubectl as real_kubectl
from test_kubectl_logs_exec import make_pod

SUBRESOURCES = ["pods/exec", "pods/attach", "pods/portforward"]


async def grant(api: Client, user: str, verbs: list[str]) -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": f"{user}-connect", "namespace": "default"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
                      {"apiGroups": [""], "resources": SUBRESOURCES, "verbs": verbs}]}
    await api.create(role)
    await api.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                      "metadata": {"name": f"{user}-connect", "namespace": "default"},
                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": f"{user}-connect"},
                      "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})


@pytest.fixture
async def kubelet(apiserver: Any, api: Client) -> AsyncIterator[int]:
    """The stand-in kubelet on a Node named fake-node (as in test_kubectl_logs_exec)."""
    tls = apiserver.config.data_dir / "server" / "tls"
    async with fake_kubelet(tls / "serving-kube-apiserver.crt", tls / "serving-kube-apiserver.key") as port:
        node = await api.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "fake-node"}})
        node["status"] = {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                          "daemonEndpoints": {"kubeletEndpoint": {"Port": port}}}
        await api.update_status(node)
        yield port


@pytest.fixture
async def admin_http(apiserver: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=apiserver.url, verify=ssl.create_default_context(
            cafile=str(apiserver.ca_path)), headers={"Authorization": f"Bearer {apiserver.token}"}) as c:
        yield c


def refusal(verb: str, sub: str) -> str:
    return (f'pods "web" is forbidden: User "carol" cannot {verb} resource "pods/{sub}" in API group "" '
            'in the namespace "default"')


async def test_reading_pods_exec_is_not_enough_to_run_commands(apiserver: Any, api: Client, kubectl: Any,
                                                               kubelet: int, admin_http: Any,
                                                               tmp_path: Path) -> None:
    await make_pod(api, "web", ["main"])
    pod = await api.get(resolve("pods"), "web", "default")
    pod["status"] = {"phase": "Running"}     # port-forward wants a running pod
    await api.update_status(pod)
    await grant(api, "carol", ["get"])
    await wait_allowed(admin_http, "carol", "get", "pods", "default")
    kc = user_kubeconfig(apiserver, tmp_path, "carol", [])

    code, out, err = await real_kubectl(kc, "exec", "web", "--", "echo", "hello")
    assert (code, out, err) == (1, "", f"error: unable to upgrade connection: {refusal('create', 'exec')}\n")
    r = await kubectl("exec", "web", "--", "echo", "hello", kubeconfig=str(kc))
    assert (r.code, r.out, r.err) == (1, "", f"error: unable to upgrade connection: {refusal('create', 'exec')}\n")

    code, out, err = await real_kubectl(kc, "port-forward", "pod/web", "0:80")
    assert (code, out) == (1, "")
    assert err == f"error: error upgrading connection: unable to upgrade connection: " \
                  f"{refusal('create', 'portforward')}\n"
    r = await kubectl("port-forward", "pod/web", "0:80", kubeconfig=str(kc))
    assert (r.code, r.out, r.err) == (1, "", f"error: error upgrading connection: unable to upgrade connection: "
                                             f"{refusal('create', 'portforward')}\n")

    # the WebSocket itself: 403 with the Status, before anything reaches the kubelet
    ctx = ssl.create_default_context(cafile=str(apiserver.ca_path))
    ctx.load_cert_chain(*_cert_and_key(kc, tmp_path))
    url = apiserver.url.replace("https://", "wss://") + "/api/v1/namespaces/default/pods/web/attach?stdout=true"
    with pytest.raises(InvalidStatus) as refused:
        await connect(url, ssl=ctx, subprotocols=["v5.channel.k8s.io"], proxy=None)  # type: ignore[list-item]
    assert refused.value.response.status_code == 403
    status = json.loads(bytes(refused.value.response.body or b"{}"))
    assert (status["reason"], status["message"]) == ("Forbidden", refusal("create", "attach"))


async def test_create_on_pods_exec_runs_the_command(apiserver: Any, api: Client, kubectl: Any,
                                                    kubelet: int, admin_http: Any,
                                                    tmp_path: Path) -> None:
    await make_pod(api, "web", ["main"])
    await grant(api, "carol", ["get", "create"])
    await wait_allowed(admin_http, "carol", "create", "pods/exec", "default")
    kc = user_kubeconfig(apiserver, tmp_path, "carol", [])
    code, out, err = await real_kubectl(kc, "exec", "web", "--", "echo", "hello")
    assert (code, out, err) == (0, "hello\n", "")
    r = await kubectl("exec", "web", "--", "echo", "hello", kubeconfig=str(kc))
    assert (r.code, r.out, r.err) == (0, "hello\n", "")
    # another namespace stays closed: the Role is in default only
    code, out, err = await real_kubectl(kc, "exec", "web", "-n", "kube-system", "--", "echo")
    assert code == 1 and "Forbidden" in err and 'cannot get resource "pods"' in err


def _cert_and_key(kc: Path, tmp_path: Path) -> tuple[str, str]:
    """The client certificate and key of a kubeconfig written by user_kubeconfig, as files."""
    import base64

    import yaml
    user = yaml.safe_load(kc.read_text())["users"][0]["user"]
    cert, key = tmp_path / "client.crt", tmp_path / "client.key"
    cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
    key.write_bytes(base64.b64decode(user["client-key-data"]))
    return str(cert), str(key)


async def test_proxy_subresources_are_authorized_by_their_verb(apiserver: Any, api: Client, kubectl: Any,
                                                               kubelet: int, admin_http: Any,
                                                               tmp_path: Path) -> None:
    await make_pod(api, "web", ["main"])
    await grant(api, "carol", ["get", "create"])
    await wait_allowed(admin_http, "carol", "create", "pods/exec", "default")
    kc = user_kubeconfig(apiserver, tmp_path, "carol", [])
    for path, message in [
        ("/api/v1/namespaces/default/services/web:80/proxy/",
         'services "web:80" is forbidden: User "carol" cannot get resource "services/proxy" in API group "" '
         'in the namespace "default"'),
        ("/api/v1/namespaces/default/pods/web:8080/proxy/index.html",
         'pods "web:8080" is forbidden: User "carol" cannot get resource "pods/proxy" in API group "" '
         'in the namespace "default"'),
        ("/api/v1/nodes/fake-node/proxy/pods",
         'nodes "fake-node" is forbidden: User "carol" cannot get resource "nodes/proxy" in API group "" '
         'at the cluster scope'),
    ]:
        code, out, err = await real_kubectl(kc, "get", "--raw", path)
        assert (code, out, err) == (1, "", f"Error from server (Forbidden): {message}\n"), path
