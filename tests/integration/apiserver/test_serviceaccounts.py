"""In-cluster identity: ServiceAccount tokens (TokenRequest, TokenReview, bound tokens), the
ServiceAccount admission plugin, and the controllers that give every namespace its
`default` ServiceAccount and `kube-root-ca.crt`."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import pytest

from client import kubeconfig
from client.events import EventRecorder
from client.rest import Client
from controllers.base import SharedInformers
from controllers.serviceaccounts import RootCACertPublisher, ServiceAccountsController
from tests.integration.apiserver.test_rbac_kubectl import wait_allowed
from tests.integration.apiserver.test_real_clients import kubectl

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
       "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}


async def _sa(http: httpx.AsyncClient, ns: str, name: str, **extra: Any) -> dict[str, Any]:
    r = await http.post(f"/api/v1/namespaces/{ns}/serviceaccounts",
                        json={"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}, **extra})
    assert r.status_code == 201, r.text
    return r.json()


async def _token(http: httpx.AsyncClient, ns: str, sa: str, **spec: Any) -> str:
    r = await http.post(f"/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token",
                        json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec})
    assert r.status_code == 201, r.text
    assert r.json()["status"]["expirationTimestamp"]
    return str(r.json()["status"]["token"])


async def test_a_serviceaccount_token_reads_only_what_its_role_allows(apiserver: Any, http: httpx.AsyncClient) -> None:
    await _sa(http, "default", "reader")
    code, token, err = await kubectl(apiserver.kubeconfig_path, "create", "token", "reader")
    assert code == 0, err
    token = token.strip()
    review = await http.post("/apis/authentication.k8s.io/v1/tokenreviews", json={
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}})
    status = review.json()["status"]
    assert status["authenticated"] is True
    assert status["user"]["username"] == "system:serviceaccount:default:reader"
    assert "system:serviceaccounts:default" in status["user"]["groups"]
    as_sa = {"Authorization": f"Bearer {token}"}
    r = await http.get("/api/v1/namespaces/default/pods", headers=as_sa)
    assert r.status_code == 403
    assert r.json()["message"] == ('pods is forbidden: User "system:serviceaccount:default:reader" cannot list '
                                   'resource "pods" in API group "" in the namespace "default"')
    for body in ({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "pod-reader"},
                  "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]},
                 {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "r"},
                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
                  "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "default"}]}):
        plural = "roles" if body["kind"] == "Role" else "rolebindings"
        assert (await http.post(f"/apis/rbac.authorization.k8s.io/v1/namespaces/default/{plural}",
                                json=body)).status_code == 201
    await wait_allowed(http, "system:serviceaccount:default:reader", "list", "pods", "default")
    assert (await http.get("/api/v1/namespaces/default/pods", headers=as_sa)).status_code == 200
    assert (await http.get("/api/v1/namespaces/default/secrets", headers=as_sa)).status_code == 403
    # deleting the ServiceAccount revokes its tokens
    assert (await http.delete("/api/v1/namespaces/default/serviceaccounts/reader")).status_code == 200
    for _ in range(100):
        r = await http.get("/api/v1/namespaces/default/pods", headers=as_sa)
        if r.status_code == 401:
            break
        await asyncio.sleep(0.02)
    assert r.status_code == 401


async def test_a_token_bound_to_a_pod_dies_with_the_pod(http: httpx.AsyncClient) -> None:
    await _sa(http, "default", "default")
    pod = (await http.post("/api/v1/namespaces/default/pods", json=POD)).json()
    token = await _token(http, "default", "default", boundObjectRef={
        "kind": "Pod", "apiVersion": "v1", "name": "p", "uid": pod["metadata"]["uid"]}, audiences=[
        "https://kubernetes.default.svc.cluster.local"])
    who = await http.post("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                          json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
                          headers={"Authorization": f"Bearer {token}"})
    assert who.status_code == 201 and who.json()["status"]["userInfo"]["extra"][
        "authentication.kubernetes.io/pod-name"] == ["p"]
    await http.delete("/api/v1/namespaces/default/pods/p")
    for _ in range(100):
        r = await http.get("/api/v1/namespaces/default/pods", headers={"Authorization": f"Bearer {token}"})
        if r.status_code == 401:
            break
        await asyncio.sleep(0.02)
    assert r.status_code == 401
    r = await http.post("/api/v1/namespaces/default/serviceaccounts/default/token", json={
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 10}})
    assert r.status_code == 422 and "may not specify a duration less than 10 minutes" in r.json()["message"]


async def test_admission_mounts_the_token_unless_told_not_to(http: httpx.AsyncClient) -> None:
    await _sa(http, "default", "default")
    await _sa(http, "default", "quiet", automountServiceAccountToken=False)
    pod = (await http.post("/api/v1/namespaces/default/pods", json=POD)).json()
    spec = pod["spec"]
    assert spec["serviceAccountName"] == "default"
    vol = next(v for v in spec["volumes"] if v["name"].startswith("kube-api-access-"))
    sources = vol["projected"]["sources"]
    assert sources[0] == {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}
    assert spec["containers"][0]["volumeMounts"] == [{"name": vol["name"], "readOnly": True,
                                                      "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]
    quiet = {**POD, "metadata": {"name": "q"}, "spec": {**POD["spec"], "serviceAccountName": "quiet"}}
    q = (await http.post("/api/v1/namespaces/default/pods", json=quiet)).json()
    assert not q["spec"].get("volumes")
    missing = {**POD, "metadata": {"name": "m"}, "spec": {**POD["spec"], "serviceAccountName": "ghost"}}
    r = await http.post("/api/v1/namespaces/default/pods", json=missing)
    assert r.status_code == 403
    assert 'error looking up service account default/ghost: serviceaccount "ghost" not found' in r.json()["message"]


@pytest.fixture
async def identity_controllers(apiserver: Any) -> AsyncIterator[None]:
    async with Client(kubeconfig.load(apiserver.kubeconfig_path), component="test") as c:
        informers = SharedInformers(c)
        rec = EventRecorder(c, "test")
        ctls = [ServiceAccountsController(c, informers, rec),
                RootCACertPublisher(c, informers, rec, ca_file=Path(apiserver.ca_path))]
        await informers.start_all()
        tasks = [asyncio.create_task(x.run(1)) for x in ctls]
        yield
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await informers.stop_all()


async def test_every_namespace_gets_default_serviceaccount_and_root_ca(
        apiserver: Any, http: httpx.AsyncClient, identity_controllers: None) -> None:
    assert (await http.post("/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace",
                                                        "metadata": {"name": "fresh"}})).status_code == 201
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2.0   # the issue's bound
    while True:
        sa = await http.get("/api/v1/namespaces/fresh/serviceaccounts/default")
        cm = await http.get("/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt")
        if sa.status_code == 200 and cm.status_code == 200:
            break
        assert loop.time() < deadline, "no default ServiceAccount / kube-root-ca.crt within 2 s"
        await asyncio.sleep(0.02)
    assert cm.json()["data"]["ca.crt"] == apiserver.ca_path.read_text()
    # deleted: put back
    await http.delete("/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt")
    for _ in range(200):
        if (await http.get("/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt")).status_code == 200:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("kube-root-ca.crt not put back")
