"""describe, wait, edit, config, cluster-info, version and api-resources against the
in-process apiserver."""
from __future__ import annotations

import asyncio
import io
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from api.resources import resolve
from client.rest import Client
from kubectl_support import nginx

DEPLOY = resolve("deployments")


def squeezed(lines: list[str]) -> list[str]:
    """Lines with runs of blanks collapsed (exact layout is checked against kubectl's
    bytes in tests/unit/kubectl/test_kubectl_describers.py)."""
    return [" ".join(line.split()) for line in lines]


def event(obj: dict[str, Any], reason: str, message: str) -> dict[str, Any]:
    meta = obj["metadata"]
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{meta['name']}.{reason.lower()}", "namespace": meta.get("namespace") or "default"},
            "involvedObject": {"kind": obj["kind"], "name": meta["name"], "namespace": meta.get("namespace"),
                               "uid": meta["uid"], "apiVersion": obj["apiVersion"]},
            "reason": reason, "message": message, "type": "Normal",
            "source": {"component": "deployment-controller"}, "count": 1,
            "firstTimestamp": meta["creationTimestamp"], "lastTimestamp": meta["creationTimestamp"]}


# ---------------------------------------------------------------- describe
async def test_describe_deployment_with_events(kubectl: Any, manifest: Callable[..., str], api: Client) -> None:
    await kubectl("apply", "-f", manifest("nginx.yaml", nginx()))
    d = await api.get(DEPLOY, "nginx-deployment", "default")
    await api.create(event(d, "ScalingReplicaSet", "Scaled up replica set nginx-deployment-abc to 2"))
    r = await kubectl("describe", "deployment", "nginx-deployment")
    assert r.code == 0
    lines = squeezed(r.lines)
    assert lines[:2] == ["Name: nginx-deployment", "Namespace: default"]
    assert "Selector: app=nginx" in lines
    assert "Replicas: 2 desired | 0 updated | 0 total | 0 available | 0 unavailable" in lines
    assert "Image: nginx:1.14.2" in lines
    events = r.lines[r.lines.index("Events:"):]
    assert events[1].split() == ["Type", "Reason", "Age", "From", "Message"]
    assert events[3].split()[:2] == ["Normal", "ScalingReplicaSet"]
    assert events[3].endswith("deployment-controller  Scaled up replica set nginx-deployment-abc to 2")


async def test_describe_pod_service_namespace_node(kubectl: Any, manifest: Callable[..., str], api: Client) -> None:
    await kubectl("apply", "-f", manifest("nginx.yaml", nginx()))
    await api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "default",
                                                                    "labels": {"app": "nginx"}},
                      "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]}})
    r = await kubectl("describe", "pod", "web-1")
    lines = squeezed(r.lines)
    assert "Node: <none>" in lines and "Status: Pending" in lines
    assert "Port: 80/TCP" in lines and lines[-1] == "Events: <none>"
    lines = squeezed((await kubectl("describe", "svc", "my-nginx-svc")).lines)
    assert "Type: LoadBalancer" in lines and "Selector: app=nginx" in lines
    lines = squeezed((await kubectl("describe", "ns", "default")).lines)
    assert lines[0] == "Name: default" and "Status: Active" in lines
    await api.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    lines = squeezed((await kubectl("describe", "node", "n1")).lines)
    assert lines[0] == "Name: n1"
    assert "Non-terminated Pods: (0 in total)" in lines


async def test_describe_prefix_and_errors(kubectl: Any, manifest: Callable[..., str]) -> None:
    await kubectl("apply", "-f", manifest("nginx.yaml", nginx()))
    r = await kubectl("describe", "deploy", "nginx")          # no exact match: by prefix
    assert r.code == 0 and squeezed(r.lines)[0] == "Name: nginx-deployment"
    r = await kubectl("describe", "deploy", "nope")
    assert (r.code, r.out, r.err) == (1, "", 'Error from server (NotFound): deployments.apps "nope" not found\n')
    r = await kubectl("describe", "pods")
    assert (r.code, r.err) == (0, "No resources found in default namespace.\n")


# ---------------------------------------------------------------- wait
def _gets(apiserver: Any, plural: str) -> float:
    """How many GETs (get, list or watch) of `plural` the apiserver has answered 200 (its own
    request counter)."""
    total = 0.0
    for metric in apiserver._server.config.app.metrics.requests.collect():
        for s in metric.samples:
            if s.name.endswith("_total") and s.labels["resource"] == plural and s.labels["code"] == "200" \
                    and s.labels["verb"] in ("GET", "LIST", "WATCH"):
                total += s.value
    return total


async def _until_more_gets(apiserver: Any, plural: str, than: float) -> None:
    for _ in range(1000):
        if _gets(apiserver, plural) > than:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no GET of {plural} arrived")


async def test_wait_for_condition_and_delete(kubectl: Any, manifest: Callable[..., str], api: Client,
                                             apiserver: Any) -> None:
    await kubectl("apply", "-f", manifest("nginx.yaml", nginx()))
    r = await kubectl("wait", "--for=condition=Available", "deploy/nginx-deployment", "--timeout=300ms")
    assert (r.code, r.err) == (1, "error: timed out waiting for the condition on deployments/nginx-deployment\n")
    before = _gets(apiserver, "deployments")
    task = asyncio.create_task(kubectl("wait", "--for=condition=Available", "deploy/nginx-deployment",
                                       "--timeout=10s"))
    await _until_more_gets(apiserver, "deployments", before)   # the wait has read the deployment
    d = await api.get(DEPLOY, "nginx-deployment", "default")
    d["status"] = {"conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]}
    await api.update_status(d)
    r = await asyncio.wait_for(task, 10)
    assert (r.code, r.lines) == (0, ["deployment.apps/nginx-deployment condition met"])
    r = await kubectl("wait", "--for=jsonpath={.spec.replicas}=2", "deployment", "nginx-deployment")
    assert r.lines == ["deployment.apps/nginx-deployment condition met"]
    out = io.StringIO()
    before = _gets(apiserver, "services")
    task = asyncio.create_task(kubectl("wait", "--for=delete", "svc/my-nginx-svc", "--timeout=10s", stdout=out))
    await _until_more_gets(apiserver, "services", before)   # the wait has seen the service: delete it now
    await api.delete(resolve("svc"), "my-nginx-svc", "default")
    r = await asyncio.wait_for(task, 10)
    assert (r.code, r.lines) == (0, ["service/my-nginx-svc condition met"])


# ---------------------------------------------------------------- edit
EDITOR = """\
import sys
path = sys.argv[1]
text = open(path).read()
open(path, "w").write(text.replace("replicas: 2", "replicas: 4"))
"""


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def use(script: str) -> None:
        p = tmp_path / "editor.py"
        p.write_text(script)
        monkeypatch.setenv("KUBE_EDITOR", f"{sys.executable} {p}")
    return use


async def test_edit(kubectl: Any, manifest: Callable[..., str], api: Client, editor: Callable[[str], None]) -> None:
    await kubectl("apply", "-f", manifest("nginx.yaml", nginx()))
    editor(EDITOR)
    r = await kubectl("edit", "deploy/nginx-deployment")
    assert (r.code, r.lines, r.err) == (0, ["deployment.apps/nginx-deployment edited"], "")
    assert (await api.get(DEPLOY, "nginx-deployment", "default"))["spec"]["replicas"] == 4
    r = await kubectl("edit", "deploy/nginx-deployment")      # nothing to replace any more
    assert (r.code, r.out, r.err) == (0, "", "Edit cancelled, no changes made.\n")
    editor("import sys; open(sys.argv[1], 'w').write('')\n")
    r = await kubectl("edit", "deploy", "nginx-deployment")
    assert r.err == "Edit cancelled, no changes made.\n"


async def test_edit_with_an_invalid_change_reopens_then_gives_up(kubectl: Any, manifest: Callable[..., str],
                                                                  editor: Callable[[str], None]) -> None:
    await kubectl("apply", "-f", manifest("nginx.yaml", nginx()))
    editor("import sys\np = sys.argv[1]\nt = open(p).read()\n"
           "open(p, 'w').write(t.replace('replicas: 2', 'replicas: -3'))\n")
    r = await kubectl("edit", "deploy/nginx-deployment")
    assert (r.code, r.err) == (1, "error: Edit cancelled, no valid changes were saved.\n")


# ---------------------------------------------------------------- config, info
@pytest.fixture
def kubeconfig_copy(tmp_path: Path, kubeconfig_path: str) -> str:
    dst = tmp_path / "config"
    shutil.copy(kubeconfig_path, dst)
    return str(dst)


async def test_config_commands(kubectl: Any, kubeconfig_copy: str) -> None:
    kc = kubeconfig_copy
    r = await kubectl("config", "get-contexts", kubeconfig=kc)
    assert r.lines == ["CURRENT   NAME      CLUSTER   AUTHINFO   NAMESPACE", "*         default   pykube    admin      "]
    assert (await kubectl("config", "current-context", kubeconfig=kc)).lines == ["default"]
    r = await kubectl("config", "set-context", "--current", "--namespace=team", kubeconfig=kc)
    assert r.lines == ['Context "default" modified.']
    assert (await kubectl("config", "get-contexts", kubeconfig=kc)).lines[1].split() == \
        ["*", "default", "pykube", "admin", "team"]
    await kubectl("create", "namespace", "team", kubeconfig=kc)
    assert (await kubectl("create", "configmap", "in-team", kubeconfig=kc)).lines == ["configmap/in-team created"]
    assert (await kubectl("get", "cm", "in-team", "-o", "jsonpath={.metadata.namespace}", kubeconfig=kc)).out == "team"
    r = await kubectl("config", "set-context", "other", "--cluster=pykube", "--user=admin", kubeconfig=kc)
    assert r.lines == ['Context "other" created.']
    assert (await kubectl("config", "use-context", "other", kubeconfig=kc)).lines == ['Switched to context "other".']
    r = await kubectl("config", "use-context", "nope", kubeconfig=kc)
    assert (r.code, r.err) == (1, 'error: no context exists with the name: "nope"\n')
    view = (await kubectl("config", "view", kubeconfig=kc)).out
    assert "certificate-authority-data: DATA+OMITTED" in view and "token: REDACTED" in view
    assert "current-context: other" in view
    assert "REDACTED" not in (await kubectl("config", "view", "--raw", kubeconfig=kc)).out


async def test_cluster_info_version_api_resources(kubectl: Any, apiserver: Any) -> None:
    r = await kubectl("cluster-info")
    assert r.lines == [f"Kubernetes control plane is running at {apiserver.url}", "",
                       "To further debug and diagnose cluster problems, use 'pykubectl cluster-info dump'."]
    r = await kubectl("version")
    assert r.lines[0] == "Client Version: v1.31.0-pykube" and r.lines[1].startswith("Server Version: v")
    r = await kubectl("api-resources")
    assert r.lines[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert ["deployments", "deploy", "apps/v1", "true", "Deployment"] in [ln.split() for ln in r.lines]
    assert ["jobs", "batch/v1", "true", "Job"] in [ln.split() for ln in r.lines]
    r = await kubectl("api-resources", "--namespaced=false", "-o", "name")
    assert {"namespaces", "nodes", "clusterroles.rbac.authorization.k8s.io",
            "customresourcedefinitions.apiextensions.k8s.io",
            "nodes.metrics.k8s.io"}   # the metrics API, as with metrics-server <= set(r.lines)
    assert "pods" not in r.lines


async def test_unreachable_server(kubectl: Any, tmp_path: Path) -> None:
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    kc = tmp_path / "dead"
    kc.write_text(f"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:{port}\n"
                  "contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n"
                  "current-context: x\n")
    r = await kubectl("get", "pods", kubeconfig=str(kc))
    assert (r.code, r.out, r.err) == (1, "", f"The connection to the server 127.0.0.1:{port} was refused - "
                                             "did you specify the right host or port?\n")


async def test_bad_token(kubectl: Any, kubeconfig_copy: str) -> None:
    text = Path(kubeconfig_copy).read_text()
    import re
    Path(kubeconfig_copy).write_text(re.sub(r"token: \S+", "token: wrong", text))
    r = await kubectl("get", "pods", kubeconfig=kubeconfig_copy)
    assert (r.code, r.err) == (1, "error: You must be logged in to the server (Unauthorized)\n")



