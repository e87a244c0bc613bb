"""Server-side apply as clients nobody here wrote use it: real kubectl (`apply
--server-side`: create, change, field removal, a conflict between two managers,
`--force-conflicts`, and the migration from client-side apply), lightkube's `apply`, and
the official Python client; managedFields kept on every write."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from tests.integration.apiserver.test_real_clients import kubectl

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {LABELS}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: IMAGE}]}
"""


def manifest(tmp_path: Path, replicas: int = 2, image: str = "nginx:1", labels: str = "{app: web, tier: front}") -> str:
    p = tmp_path / "web.yaml"
    p.write_text(DEPLOY.replace("REPLICAS", str(replicas)).replace("IMAGE", image).replace("{LABELS}", labels))
    return str(p)


async def _get(http: httpx.AsyncClient) -> dict[str, Any]:
    return (await http.get("/apis/apps/v1/namespaces/default/deployments/web")).json()


def _managers(obj: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["manager"], e["operation"]): e["fieldsV1"] for e in obj["metadata"].get("managedFields") or []}


async def test_kubectl_apply_server_side_lifecycle(apiserver: Any, http: httpx.AsyncClient, tmp_path: Path) -> None:
    kc = apiserver.kubeconfig_path
    code, out, err = await kubectl(kc, "apply", "--server-side", "-f", manifest(tmp_path))
    assert (code, out) == (0, "deployment.apps/web serverside-applied\n"), err
    obj = await _get(http)
    owned = _managers(obj)[("kubectl", "Apply")]
    assert "f:replicas" in owned["f:spec"] and 'k:{"name":"c"}' in owned["f:spec"]["f:template"]["f:spec"]["f:containers"]
    # change
    code, out, err = await kubectl(kc, "apply", "--server-side", "-f", manifest(tmp_path, 3, "nginx:2"))
    assert code == 0, err
    obj = await _get(http)
    assert obj["spec"]["replicas"] == 3 and obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"
    # a field the manager stops applying is removed (nobody else owns it)
    code, out, err = await kubectl(kc, "apply", "--server-side", "-f", manifest(tmp_path, 3, "nginx:2", "{app: web}"))
    assert code == 0, err
    assert (await _get(http))["metadata"]["labels"] == {"app": "web"}
    # another manager takes spec.replicas: the next apply conflicts, as kubectl prints it
    code, out, err = await kubectl(kc, "scale", "deploy/web", "--replicas=5")
    assert code == 0, err
    code, out, err = await kubectl(kc, "apply", "--server-side", "-f", manifest(tmp_path, 3, "nginx:2", "{app: web}"))
    assert code == 1
    assert err.startswith('error: Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas\n')
    assert "--force-conflicts" in err
    assert (await _get(http))["spec"]["replicas"] == 5        # nothing changed
    code, out, err = await kubectl(kc, "apply", "--server-side", "--force-conflicts", "-f",
                                   manifest(tmp_path, 3, "nginx:2", "{app: web}"))
    assert code == 0, err
    obj = await _get(http)
    assert obj["spec"]["replicas"] == 3
    assert ("kubectl", "Update") not in _managers(obj)          # its only field was taken
    code, out, err = await kubectl(kc, "get", "deploy", "web", "-o", "yaml", "--show-managed-fields")
    assert "manager: kubectl" in out and "operation: Apply" in out and "fieldsType: FieldsV1" in out


async def test_migration_from_client_side_apply(apiserver: Any, http: httpx.AsyncClient, tmp_path: Path) -> None:
    kc = apiserver.kubeconfig_path
    code, out, err = await kubectl(kc, "apply", "-f", manifest(tmp_path))
    assert (code, out) == (0, "deployment.apps/web created\n"), err
    assert ("kubectl-client-side-apply", "Update") in _managers(await _get(http))
    code, out, err = await kubectl(kc, "apply", "--server-side", "-f", manifest(tmp_path, 4))
    assert code == 0, err                                    # kubectl moved the ownership first: no conflict
    obj = await _get(http)
    assert obj["spec"]["replicas"] == 4
    managers = _managers(obj)
    assert ("kubectl", "Apply") in managers
    assert "f:replicas" not in (managers.get(("kubectl-client-side-apply", "Update")) or {}).get("f:spec", {})


async def test_every_write_path_keeps_managed_fields(http: httpx.AsyncClient) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    r = await http.post("/api/v1/namespaces/default/configmaps", json=cm, params={"fieldManager": "creator"})
    entry = r.json()["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"], entry["fieldsV1"]) == ("creator", "Update", {"f:data": {".": {}, "f:a": {}}})
    r = await http.patch("/api/v1/namespaces/default/configmaps/c", json={"data": {"b": "2"}},
                         headers={"Content-Type": "application/merge-patch+json", "User-Agent": "patcher/1.0"})
    managers = {e["manager"]: e["fieldsV1"] for e in r.json()["metadata"]["managedFields"]}
    assert managers == {"creator": {"f:data": {".": {}, "f:a": {}}}, "patcher": {"f:data": {"f:b": {}}}}
    # an empty list is ignored (a client unaware of the field keeps them); [{}] strips them
    body = r.json()
    body["metadata"]["managedFields"] = []
    r = await http.put("/api/v1/namespaces/default/configmaps/c", json=body, params={"fieldManager": "x"})
    assert {e["manager"] for e in r.json()["metadata"]["managedFields"]} == {"creator", "patcher"}
    body = r.json()
    body["metadata"]["managedFields"] = [{}]
    r = await http.put("/api/v1/namespaces/default/configmaps/c", json=body, params={"fieldManager": "x"})
    assert "managedFields" not in r.json()["metadata"]
    # apply needs a field manager
    r = await http.patch("/api/v1/namespaces/default/configmaps/c", content=b"apiVersion: v1\nkind: ConfigMap\n",
                         headers={"Content-Type": "application/apply-patch+yaml"})
    assert r.status_code == 400 and "fieldManager is required for apply requests" in r.json()["message"]


async def test_lightkube_and_the_official_client_apply(apiserver: Any, http: httpx.AsyncClient) -> None:
    from lightkube import AsyncClient, KubeConfig
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.core_v1 import ConfigMap

    lk = AsyncClient(KubeConfig.from_file(str(apiserver.kubeconfig_path)), namespace="default")
    try:
        cm = ConfigMap(metadata=ObjectMeta(name="lk"), data={"colour": "blue"})
        out = await lk.apply(cm, field_manager="lightkube-test")
        assert out.data == {"colour": "blue"}
        out = await lk.apply(ConfigMap(metadata=ObjectMeta(name="lk"), data={"colour": "green"}),
                             field_manager="lightkube-test")
        assert out.data == {"colour": "green"}
    finally:
        await lk.close()

    from kubernetes import client as k8s, dynamic
    cfg = k8s.Configuration()
    cfg.host, cfg.ssl_ca_cert = apiserver.url, str(apiserver.ca_path)
    cfg.api_key = {"authorization": f"Bearer {apiserver.token}"}

    def official() -> dict[str, Any]:
        dyn = dynamic.DynamicClient(k8s.ApiClient(cfg))
        api = dyn.resources.get(api_version="v1", kind="ConfigMap")
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "py"}, "data": {"k": "v"}}
        res = api.server_side_apply(body=body, namespace="default", field_manager="python-client")
        return res.to_dict()

    out = await asyncio.to_thread(official)
    assert out["data"] == {"k": "v"}
    assert [e["manager"] for e in out["metadata"]["managedFields"]] == ["python-client"]
    stored = (await http.get("/api/v1/namespaces/default/configmaps/py")).json()
    assert json.dumps(stored["metadata"]["managedFields"][0]["fieldsV1"]) == '{"f:data": {".": {}, "f:k": {}}}'


async def test_pykubectl_apply_server_side_prints_what_kubectl_prints(apiserver: Any, tmp_path: Path) -> None:
    import sys

    async def pykubectl(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kubectl.main", "--kubeconfig", str(apiserver.kubeconfig_path), *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        return proc.returncode or 0, out.decode(), err.decode()

    kc = apiserver.kubeconfig_path
    assert await pykubectl("apply", "--server-side", "-f", manifest(tmp_path)) == \
        (0, "deployment.apps/web serverside-applied\n", "")
    assert (await kubectl(kc, "scale", "deploy/web", "--replicas=5"))[0] == 0
    want = await kubectl(kc, "apply", "--server-side", "-f", manifest(tmp_path, 3))
    got = await pykubectl("apply", "--server-side", "-f", manifest(tmp_path, 3))
    assert want[0] == got[0] == 1 and got[2] == want[2], (got, want)
    got = await pykubectl("apply", "--server-side", "--force-conflicts", "-f", manifest(tmp_path, 3))
    assert got == (0, "deployment.apps/web serverside-applied\n", "")
