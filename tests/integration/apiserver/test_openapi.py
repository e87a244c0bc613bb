"""OpenAPI with real schemas: `kubectl explain` prints fields (nested, --recursive), the
documents name Kubernetes' definitions, and `fieldValidation` answers as kube-apiserver."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.integration.apiserver.test_real_clients import kubectl

DEPLOYMENT_TYPO = """apiVersion: apps/v1
kind: Deployment
metadata: {name: typo}
spec:
  replica: 2
  selector: {matchLabels: {app: t}}
  template:
    metadata: {labels: {app: t}}
    spec: {containers: [{name: c, image: busybox:1}]}
"""


async def test_kubectl_explain_nested_and_recursive(apiserver: Any) -> None:
    code, out, err = await kubectl(apiserver.kubeconfig_path, "explain", "deployment.spec.strategy")
    assert code == 0, err
    assert "KIND:       Deployment" in out and "FIELD: strategy <DeploymentStrategy>" in out
    assert "rollingUpdate\t<RollingUpdateDeployment>" in out and "type\t<string>" in out
    code, out, err = await kubectl(apiserver.kubeconfig_path, "explain", "pod.spec.containers", "--recursive")
    assert code == 0, err
    assert "FIELD: containers <[]Container>" in out
    lines = [ln.strip() for ln in out.splitlines()]
    assert "image\t<string>" in lines and "name\t<string> -required-" in lines
    assert "port\t<IntOrString> -required-" in lines      # nested: livenessProbe.httpGet.port
    code, out, err = await kubectl(apiserver.kubeconfig_path, "explain", "deployment.spec.replica")
    assert code == 1 and 'field "replica" does not exist' in err


async def test_documents_carry_kubernetes_names_and_patch_annotations(http: httpx.AsyncClient) -> None:
    root = (await http.get("/openapi/v3")).json()
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    doc = (await http.get(url)).json()
    schemas = doc["components"]["schemas"]
    dep = schemas["io.k8s.api.apps.v1.Deployment"]
    assert dep["x-kubernetes-group-version-kind"] == [{"group": "apps", "version": "v1", "kind": "Deployment"}]
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name" and containers["x-kubernetes-list-type"] == "map"
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in schemas
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert {"fieldValidation", "fieldManager", "dryRun"} <= {p["name"] for p in patch["parameters"]}
    v2 = (await http.get("/openapi/v2", headers={"Accept": "application/json"})).json()
    assert v2["swagger"] == "2.0" and "io.k8s.api.core.v1.Pod" in v2["definitions"]


async def test_field_validation_strict_warn_ignore(apiserver: Any, http: httpx.AsyncClient, tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(DEPLOYMENT_TYPO)
    code, out, err = await kubectl(apiserver.kubeconfig_path, "apply", "-f", str(path))
    assert code == 1
    assert ('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
            'unknown field "spec.replica"') in err
    code, out, err = await kubectl(apiserver.kubeconfig_path, "apply", "-f", str(path), "--validate=false")
    assert code == 0, err
    cm = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d"},"data":{"a":"1"},"data":{"a":"2"},"bogus":1}'
    url = "/api/v1/namespaces/default/configmaps"
    r = await http.post(url, content=cm, params={"fieldValidation": "Strict"},
                        headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["message"] == ('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding '
                                   'error: duplicate field "data", unknown field "bogus"')
    r = await http.post(url, content=cm, params={"fieldValidation": "Warn"}, headers={"Content-Type": "application/json"})
    assert r.status_code == 201
    assert 'unknown field \\"bogus\\"' in r.headers["warning"]
    assert "duplicate field" in r.headers["warning"]
    r = await http.post(url, content=cm.replace(b'"d"', b'"e"'), params={"fieldValidation": "Ignore"},
                        headers={"Content-Type": "application/json"})
    assert r.status_code == 201 and "warning" not in r.headers
    assert json.loads(r.content)["data"] == {"a": "2"}


async def test_pykubectl_explain_prints_what_kubectl_prints(apiserver: Any) -> None:
    import asyncio
    import sys
    for args in (["explain", "deployment.spec.strategy"], ["explain", "pod.spec.containers", "--recursive"]):
        code, want, _ = await kubectl(apiserver.kubeconfig_path, *args)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kubectl.main", "--kubeconfig", str(apiserver.kubeconfig_path), *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert [ln.rstrip() for ln in out.decode().splitlines() if ln.strip()] == \
            [ln.rstrip() for ln in want.splitlines() if ln.strip()]


async def test_kubectl_explain_a_custom_resource(apiserver: Any, tmp_path: Path) -> None:
    from tests.integration.kubectl.test_kubectl_crd import CRD
    kc = apiserver.kubeconfig_path
    (tmp_path / "crd.yaml").write_text(CRD)
    assert (await kubectl(kc, "apply", "-f", str(tmp_path / "crd.yaml")))[0] == 0
    code, out, err = await kubectl(kc, "wait", "--for=condition=established", "crd/crontabs.stable.example.com")
    assert code == 0, err
    code, out, err = await kubectl(kc, "explain", "crontab.spec")
    assert code == 0, err
    assert "KIND:       CronTab" in out and "cronSpec\t<string> -required-" in out and "replicas\t<integer>" in out
