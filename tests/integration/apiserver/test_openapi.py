"""OpenAPI over HTTP as kube-apiserver serves it, read by the real kubectl and by pykubectl.

- `/openapi/v3` names each group-version with `?hash=<ETag>`; with that hash a document is
  cacheable for ever, with a stale one it redirects (301); `If-None-Match` gets 304; an
  Accept that allows no form gets 406; `/openapi/v2` answers JSON and kube's protobuf;
- a CRD shows up in the documents (new hash) as soon as it is established, and leaves;
- `kubectl explain` prints nested fields, `--recursive`, a CRD's spec, and the v2 form;
  pykubectl explain prints the same bytes and exit codes for each command.
"""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.integration.apiserver.test_real_clients import kubectl

PB_V2 = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"


async def test_root_hash_etag_redirect_and_not_modified(http: httpx.AsyncClient) -> None:
    root = await http.get("/openapi/v3")
    assert root.status_code == 200 and root.headers["content-type"] == "application/json"
    url = root.json()["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    digest = url.split("hash=")[1]
    assert len(digest) == 128 and digest == digest.upper()             # SHA-512, as kube-openapi

    doc = await http.get(url)
    assert doc.status_code == 200 and doc.headers["etag"] == f'"{digest}"'
    assert doc.headers["cache-control"] == "public, immutable" and "expires" in doc.headers
    plain = await http.get("/openapi/v3/apis/apps/v1")
    assert plain.content == doc.content and "cache-control" not in plain.headers

    stale = await http.get("/openapi/v3/apis/apps/v1?hash=0123", follow_redirects=False)
    assert stale.status_code == 301 and stale.headers["location"] == url
    again = await http.get("/openapi/v3/apis/apps/v1", headers={"If-None-Match": f'"{digest}"'})
    assert again.status_code == 304 and again.content == b""

    assert (await http.get("/openapi/v3/apis/nothing/v1")).status_code == 404
    refused = await http.get("/openapi/v3/api/v1", headers={"Accept": "application/xml"})
    assert refused.status_code == 406


async def test_documents_name_kubernetes_definitions(http: httpx.AsyncClient) -> None:
    root = (await http.get("/openapi/v3")).json()
    doc = (await http.get(root["paths"]["apis/apps/v1"]["serverRelativeURL"])).json()
    schemas = doc["components"]["schemas"]
    dep = schemas["io.k8s.api.apps.v1.Deployment"]
    assert dep["x-kubernetes-group-version-kind"] == [{"group": "apps", "version": "v1", "kind": "Deployment"}]
    assert dep["description"] == "Deployment enables declarative updates for Pods and ReplicaSets."
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name" and containers["x-kubernetes-list-type"] == "map"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    ports = schemas["io.k8s.api.core.v1.Container"]["properties"]["ports"]
    assert ports["x-kubernetes-list-map-keys"] == ["containerPort", "protocol"]
    assert schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"][
        "x-kubernetes-patch-strategy"] == "retainKeys"
    surge = schemas["io.k8s.api.apps.v1.RollingUpdateDeployment"]["properties"]["maxSurge"]
    assert surge["allOf"] == [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString"}]
    limits = schemas["io.k8s.api.core.v1.ResourceRequirements"]["properties"]["limits"]
    assert limits["additionalProperties"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"}]
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["operationId"] == "patchAppsV1NamespacedDeployment"
    assert {"fieldValidation", "fieldManager", "dryRun", "force"} <= {p["name"] for p in patch["parameters"]}

    v2 = await http.get("/openapi/v2", headers={"Accept": "application/json"})
    assert v2.json()["swagger"] == "2.0" and "io.k8s.api.core.v1.Pod" in v2.json()["definitions"]
    pb = await http.get("/openapi/v2", headers={"Accept": PB_V2})
    assert pb.status_code == 200 and pb.content[:1] == b"\x0a"          # field 1 (swagger), a string
    assert pb.headers["content-type"] == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    assert (await http.get("/openapi/v2", headers={"Accept": "text/html"})).status_code == 406


async def test_a_crd_appears_and_leaves(apiserver: Any, http: httpx.AsyncClient, tmp_path: Path) -> None:
    from tests.integration.kubectl.test_kubectl_crd import CRD
    kc = apiserver.kubeconfig_path
    before = (await http.get("/openapi/v3")).json()["paths"]
    assert "apis/stable.example.com/v1" not in before
    (tmp_path / "crd.yaml").write_text(CRD)
    assert (await kubectl(kc, "apply", "-f", str(tmp_path / "crd.yaml")))[0] == 0
    code, out, err = await kubectl(kc, "wait", "--for=condition=established", "crd/crontabs.stable.example.com")
    assert code == 0, err
    after = (await http.get("/openapi/v3")).json()["paths"]
    doc = (await http.get(after["apis/stable.example.com/v1"]["serverRelativeURL"])).json()
    cron = doc["components"]["schemas"]["com.example.stable.v1.CronTab"]
    assert cron["x-kubernetes-group-version-kind"] == [{"group": "stable.example.com", "version": "v1",
                                                         "kind": "CronTab"}]
    assert cron["properties"]["metadata"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]
    assert "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/scale" in doc["paths"]

    code, out, err = await kubectl(kc, "explain", "crontab.spec")
    assert code == 0, err
    assert "KIND:       CronTab" in out and "cronSpec\t<string> -required-" in out and "replicas\t<integer>" in out
    assert await pykubectl(kc, "explain", "crontab.spec") == (code, out, err)

    assert (await kubectl(kc, "delete", "-f", str(tmp_path / "crd.yaml")))[0] == 0
    for _ in range(100):
        if "apis/stable.example.com/v1" not in (await http.get("/openapi/v3")).json()["paths"]:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the CRD's group-version stayed in /openapi/v3")


async def pykubectl(kubeconfig: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kubectl.main", "--kubeconfig", str(kubeconfig), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


EXPLAIN = [
    ["deployment"], ["deployment.spec.strategy"], ["pod.spec.containers", "--recursive"],
    ["deployment", "--recursive", "--max-depth=2"], ["pod.spec.containers.resources.limits"],
    ["rs.spec.template.spec.volumes"], ["svc.spec.ports"], ["deploy.spec.replica"],
]

async def test_pykubectl_explain_prints_what_kubectl_prints(apiserver: Any) -> None:
    kc = apiserver.kubeconfig_path
    for args in EXPLAIN:
        want = await kubectl(kc, "explain", *args)
        assert await pykubectl(kc, "explain", *args) == want, args
    code, out, err = await kubectl(kc, "explain", "deployment.spec.strategy")
    assert code == 0 and "FIELD: strategy <DeploymentStrategy>" in out
    assert "DeploymentStrategy describes how to replace existing pods with new ones." in out
    assert "  rollingUpdate\t<RollingUpdateDeployment>" in out
    code, out, err = await kubectl(kc, "explain", "pod.spec.containers", "--recursive")
    assert "      port\t<IntOrString> -required-" in out.splitlines()           # livenessProbe.httpGet.port
    code, out, err = await kubectl(kc, "explain", "deployment.spec.replica")
    assert code == 1 and err.strip() == 'error: field "replica" does not exist'


async def test_kubectl_explain_openapi_v2(apiserver: Any) -> None:
    code, out, err = await kubectl(apiserver.kubeconfig_path, "explain", "deployment.spec.strategy",
                                   "--output=plaintext-openapiv2")
    assert code == 0, err
    assert "KIND:     Deployment" in out and "RESOURCE: strategy <Object>" in out
    assert "rollingUpdate\t<Object>" in out and "Type of deployment." in out
