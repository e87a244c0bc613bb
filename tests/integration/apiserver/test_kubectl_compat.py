"""The real kubectl against the apiserver: what a full control plane tour found missing.

Server-side dry run (`--dry-run=server`, `kubectl diff`), Table watch events (`get -w`),
protobuf bodies (`create namespace|deployment|configmap|secret|service|serviceaccount`,
`drain`'s deletes), `auth can-i|whoami`, and the kubelet proxy being wired by default.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from tests.integration.apiserver.test_real_clients import NGINX_APP, _kubectl, kubectl

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
DEPLOY = "/apis/apps/v1/namespaces/default/deployments"


async def _apply_app(kc: Path, tmp_path: Path, replicas: int = 2) -> Path:
    app = tmp_path / "nginx-app.yaml"
    app.write_text(NGINX_APP.format(replicas=replicas))
    code, _, err = await kubectl(kc, "apply", "-f", str(app))
    assert code == 0, err
    return app


async def _deployment(http: httpx.AsyncClient) -> dict[str, Any]:
    r = await http.get(f"{DEPLOY}/nginx-deployment")
    assert r.status_code == 200
    return r.json()


async def test_server_dry_run_changes_nothing(apiserver, http, tmp_path: Path) -> None:
    kc = apiserver.kubeconfig_path
    app = await _apply_app(kc, tmp_path)
    before = await _deployment(http)

    code, out, err = await kubectl(kc, "scale", "deploy/nginx-deployment", "--replicas=5", "--dry-run=server")
    assert code == 0 and "(server dry run)" in out, err
    code, out, err = await kubectl(kc, "set", "image", "deploy/nginx-deployment", "nginx=other:2",
                                   "--dry-run=server", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
    assert code == 0 and out == "other:2", err
    app.write_text(NGINX_APP.format(replicas=4))
    code, out, err = await kubectl(kc, "diff", "-f", str(app))
    assert code == 1 and "+  replicas: 4" in out, err      # diff exits 1 when there are differences
    code, out, err = await kubectl(kc, "delete", "deploy/nginx-deployment", "--dry-run=server")
    assert code == 0 and "(server dry run)" in out, err
    code, out, err = await kubectl(kc, "create", "configmap", "dry", "--from-literal=a=b", "--dry-run=server")
    assert code == 0, err

    after = await _deployment(http)
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert after["spec"] == before["spec"]
    assert (await http.get("/api/v1/namespaces/default/configmaps/dry")).status_code == 404


async def test_dry_run_create_releases_service_allocations(http) -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"},
           "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30999}]}}
    r = await http.post("/api/v1/namespaces/default/services", params={"dryRun": "All"}, json=svc)
    assert r.status_code == 201 and r.json()["spec"]["clusterIP"]
    assert "resourceVersion" not in r.json()["metadata"]
    assert (await http.get("/api/v1/namespaces/default/services/np")).status_code == 404
    r = await http.post("/api/v1/namespaces/default/services", json=svc)     # the port is still free
    assert r.status_code == 201, r.text
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    assert (await http.post("/api/v1/namespaces/default/configmaps", json=cm)).status_code == 201
    r = await http.post("/api/v1/namespaces/default/configmaps", params={"dryRun": "All"}, json=cm)
    assert r.status_code == 409                 # a dry run still says what the write would
    r = await http.post("/api/v1/namespaces/default/configmaps", params={"dryRun": "Some"}, json=cm)
    assert r.status_code == 400


async def test_get_watch_prints_table_rows(apiserver, http, tmp_path: Path) -> None:
    kc = apiserver.kubeconfig_path
    await _apply_app(kc, tmp_path)
    proc = await asyncio.create_subprocess_exec(
        _kubectl(), "--kubeconfig", str(kc), "get", "deploy", "-w", "-o", "wide",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        header = await asyncio.wait_for(proc.stdout.readline(), 20)
        first = await asyncio.wait_for(proc.stdout.readline(), 20)
        await http.patch(f"{DEPLOY}/nginx-deployment/scale", json={"spec": {"replicas": 3}},
                         headers={"Content-Type": "application/merge-patch+json"})
        update = await asyncio.wait_for(proc.stdout.readline(), 20)
    finally:
        proc.terminate()
        await proc.wait()
    assert header.split()[:4] == [b"NAME", b"READY", b"UP-TO-DATE", b"AVAILABLE"]
    assert first.split()[0] == b"nginx-deployment"
    # the update is a full row (not just NAME and AGE), under the same columns
    assert update.split()[0] == b"nginx-deployment" and b"nginx:1.14.2" in update


async def test_table_watch_events_carry_headers_once(http) -> None:
    pods = "/api/v1/namespaces/default/pods"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "t0"},
           "spec": {"containers": [{"name": "c", "image": "x"}]}}
    await http.post(pods, json=pod)
    async with http.stream("GET", pods, params={"watch": "true", "resourceVersion": "0"},
                           headers={"Accept": TABLE}, timeout=10) as resp:
        lines = resp.aiter_lines()
        first = json.loads(await asyncio.wait_for(anext(lines), 5))
        await http.post(pods, json={**pod, "metadata": {"name": "t1"}})
        second = json.loads(await asyncio.wait_for(anext(lines), 5))
    for ev, name in ((first, "t0"), (second, "t1")):
        assert ev["type"] == "ADDED" and ev["object"]["kind"] == "Table"
        assert ev["object"]["rows"][0]["cells"][0] == name
        assert ev["object"]["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert [c["name"] for c in first["object"]["columnDefinitions"]][:2] == ["Name", "Ready"]
    assert second["object"]["columnDefinitions"] == []


async def test_imperative_create_sends_protobuf(apiserver, tmp_path: Path) -> None:
    kc = apiserver.kubeconfig_path
    code, out, err = await kubectl(kc, "create", "namespace", "demo")
    assert code == 0 and out.strip() == "namespace/demo created", err
    cases = [["deployment", "web", "--image=nginx", "--replicas=3", "--port=8080"],
             ["configmap", "cm", "--from-literal=a=b"],
             ["secret", "generic", "s", "--from-literal=user=admin"],
             ["service", "nodeport", "svc", "--tcp=80:8080", "--node-port=30123"],
             ["serviceaccount", "sa"]]
    for args in cases:
        code, sent, err = await kubectl(kc, "create", *args, "-n", "demo", "--dry-run=client", "-o", "json")
        assert code == 0, err
        code, got, err = await kubectl(kc, "create", *args, "-n", "demo", "-o", "json")
        assert code == 0, f"{args}: {err}"
        want, have = json.loads(sent), json.loads(got)
        assert _subset(want.get("metadata"), have["metadata"]), (args, want, have)
        for key in ("data", "type"):
            assert key not in want or want[key] == have.get(key), (args, key)
        if "spec" in want:
            assert _subset(_drop_empty(want["spec"]), have["spec"]), (args, want["spec"], have["spec"])


async def test_drain_deletes_pods_with_protobuf_delete_options(apiserver, http) -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}
    assert (await http.post("/api/v1/nodes", json=node)).status_code == 201
    for i in range(2):
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}"},
               "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "x"}]}}
        assert (await http.post("/api/v1/namespaces/default/pods", json=pod)).status_code == 201
    code, out, err = await kubectl(apiserver.kubeconfig_path, "drain", "n1", "--force",
                                   "--grace-period=0", "--timeout=20s")
    assert code == 0, err
    assert "node/n1 drained" in out
    pods = (await http.get("/api/v1/namespaces/default/pods")).json()["items"]
    assert pods == []          # gracePeriodSeconds 0 (a pointer zero) arrived intact


async def test_auth_can_i_and_whoami(apiserver) -> None:
    kc = apiserver.kubeconfig_path
    code, out, err = await kubectl(kc, "auth", "can-i", "delete", "nodes")
    assert code == 0 and out.strip() == "yes", err
    code, out, err = await kubectl(kc, "auth", "can-i", "--list")
    assert code == 0 and "*.*" in out, err
    code, out, err = await kubectl(kc, "auth", "whoami")
    assert code == 0 and "admin" in out and "system:masters" in out, err


async def test_pod_logs_go_through_the_kubelet_proxy(http) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "unbound"},
           "spec": {"containers": [{"name": "c", "image": "x"}]}}
    await http.post("/api/v1/namespaces/default/pods", json=pod)
    r = await http.get("/api/v1/namespaces/default/pods/unbound/log")
    assert r.status_code == 400 and "does not have a host assigned" in r.json()["message"]


def _drop_empty(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _drop_empty(x) for k, x in v.items() if x not in ({}, [], None, "")}
    if isinstance(v, list):
        return [_drop_empty(x) for x in v]
    return v


def _subset(want: Any, have: Any) -> bool:
    """Everything in `want` is in `have` (the server adds defaults, never drops a field)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_subset(v, have.get(k)) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(want) == len(have) and all(map(_subset, want, have))
    return bool(want == have)
