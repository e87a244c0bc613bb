"""`pods/{name}/ephemeralcontainers` as `kubectl debug` and the official Python client use it:
a debugging container is added to an existing pod, nothing else of the pod changes, and
what Kubernetes refuses is refused in its words (with nothing stored)."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from tests.integration.apiserver.test_rbac_kubectl import user_kubeconfig, wait_allowed
from tests.integration.apiserver.test_real_clients import kubectl

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
       "spec": {"containers": [{"name": "app", "image": "nginx"}]}}
SUB = "/api/v1/namespaces/default/pods/web/ephemeralcontainers"


async def test_kubectl_debug_adds_an_ephemeral_container(apiserver: Any, http: httpx.AsyncClient) -> None:
    assert (await http.post("/api/v1/namespaces/default/pods", json=POD)).status_code == 201
    before = (await http.get("/api/v1/namespaces/default/pods/web")).json()
    code, out, err = await kubectl(apiserver.kubeconfig_path, "debug", "web", "--image=busybox", "--target=app",
                                   "-c", "dbg", "--", "sh")
    assert (code, err) == (0, "")
    assert out == ('Targeting container "app". If you don\'t see processes from this container it may be because '
                   "the container runtime doesn't support this feature.\n")
    pod = (await http.get(SUB)).json()
    assert pod["kind"] == "Pod"
    (dbg,) = pod["spec"]["ephemeralContainers"]
    assert (dbg["name"], dbg["image"], dbg["targetContainerName"], dbg["command"]) == ("dbg", "busybox", "app", ["sh"])
    assert dbg["securityContext"] == {"capabilities": {"add": ["SYS_PTRACE"]}}   # kubectl's "general" profile
    assert dbg["terminationMessagePath"] == "/dev/termination-log"                # defaulted as any container
    assert {k: v for k, v in pod["spec"].items() if k != "ephemeralContainers"} == before["spec"]
    code, out, err = await kubectl(apiserver.kubeconfig_path, "debug", "web", "--image=busybox")
    assert code == 0 and out.startswith("Defaulting debug container name to debugger-"), err
    names = [c["name"] for c in (await http.get(SUB)).json()["spec"]["ephemeralContainers"]]
    assert names[0] == "dbg" and names[1].startswith("debugger-") and len(names) == 2


async def test_what_kubernetes_refuses(apiserver: Any, http: httpx.AsyncClient) -> None:
    r = await http.post("/api/v1/namespaces/default/pods", json={
        **POD, "spec": {**POD["spec"], "ephemeralContainers": [{"name": "dbg", "image": "busybox"}]}})
    assert r.status_code == 422
    assert r.json()["message"] == 'Pod "web" is invalid: spec.ephemeralContainers: Forbidden: cannot be set on create'
    assert (await http.post("/api/v1/namespaces/default/pods", json=POD)).status_code == 201
    code, _, err = await kubectl(apiserver.kubeconfig_path, "debug", "web", "--image=busybox", "-c", "dbg",
                                 "--target=nope")
    assert code == 1
    assert err == 'The Pod "web" is invalid: spec.ephemeralContainers[0].targetContainerName: Not found: "nope"\n'
    code, _, err = await kubectl(apiserver.kubeconfig_path, "debug", "web", "--image=busybox", "-c", "app")
    assert (code, err) == (1, 'The Pod "web" is invalid: spec.ephemeralContainers[0].name: Duplicate value: "app"\n')
    ports = {"spec": {"ephemeralContainers": [{"name": "dbg", "image": "busybox", "ports": [{"containerPort": 80}]}]}}
    r = await http.patch(SUB, content=json.dumps(ports), headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 422 and r.json()["details"]["causes"] == [
        {"reason": "FieldValueForbidden", "message": "Forbidden: cannot be set for an Ephemeral Container",
         "field": "spec.ephemeralContainers[0].ports"}]
    assert "ephemeralContainers" not in (await http.get(SUB)).json()["spec"]    # nothing stored

    code, _, err = await kubectl(apiserver.kubeconfig_path, "debug", "web", "--image=busybox", "-c", "dbg")
    assert code == 0, err
    stored = (await http.get(SUB)).json()
    # the subresource only adds: removing or changing one is refused
    r = await http.patch(SUB, content=json.dumps([{"op": "remove", "path": "/spec/ephemeralContainers/0"}]),
                         headers={"Content-Type": "application/json-patch+json"})
    assert (r.status_code, r.json()["message"]) == (
        422, 'Pod "web" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not '
             "be removed\n")
    changed = json.loads(json.dumps(stored))
    changed["spec"]["ephemeralContainers"][0]["image"] = "alpine"
    r = await http.put(SUB, json=changed)
    assert r.status_code == 422 and 'existing ephemeral containers "dbg" may not be changed' in r.json()["message"]
    # and the subresource changes nothing but ephemeral containers
    relabelled = json.loads(json.dumps(stored))
    relabelled["metadata"]["labels"] = {"sneaky": "yes"}
    relabelled["spec"]["containers"][0]["image"] = "httpd"
    relabelled["spec"]["ephemeralContainers"].append({"name": "dbg2", "image": "busybox"})
    r = await http.put(SUB, json=relabelled)
    assert r.status_code == 200, r.text
    now = r.json()
    assert "labels" not in now["metadata"] and now["spec"]["containers"][0]["image"] == "nginx"
    assert [c["name"] for c in now["spec"]["ephemeralContainers"]] == ["dbg", "dbg2"]
    # the main resource may not change them either
    r = await http.patch("/api/v1/namespaces/default/pods/web", content=json.dumps(
        {"spec": {"ephemeralContainers": None}}), headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 422 and "pod updates may not change fields" in r.json()["message"]


async def test_discovery_rbac_and_the_python_client(apiserver: Any, http: httpx.AsyncClient, tmp_path: Path) -> None:
    resources = (await http.get("/api/v1")).json()["resources"]
    sub = next(r for r in resources if r["name"] == "pods/ephemeralcontainers")
    assert (sub["kind"], sorted(sub["verbs"])) == ("Pod", ["get", "patch", "update"])
    assert (await http.post("/api/v1/namespaces/default/pods", json=POD)).status_code == 201

    seen = await asyncio.to_thread(_python_client_adds, str(apiserver.kubeconfig_path))
    assert seen == ["py-debugger"]

    # `edit` lets alice exec, not add ephemeral containers (as in Kubernetes' bootstrap roles)
    rb = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
          "metadata": {"name": "alice-edit", "namespace": "default"},
          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
          "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]}
    assert (await http.post("/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
                            json=rb)).status_code == 201
    await wait_allowed(http, "alice", "create", "pods", "default")
    kc = user_kubeconfig(apiserver, tmp_path, "alice", [])
    code, _, err = await kubectl(kc, "debug", "web", "--image=busybox", "-c", "dbg")
    assert code == 1
    assert err == ('Error from server (Forbidden): pods "web" is forbidden: User "alice" cannot patch resource '
                   '"pods/ephemeralcontainers" in API group "" in the namespace "default"\n')


def _python_client_adds(kubeconfig: str) -> list[str]:
    from kubernetes import client, config
    api = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
    body = {"spec": {"ephemeralContainers": [{"name": "py-debugger", "image": "busybox", "stdin": True,
                                              "tty": True}]}}
    pod = api.patch_namespaced_pod_ephemeralcontainers("web", "default", body)
    return [c.name for c in pod.spec.ephemeral_containers]
