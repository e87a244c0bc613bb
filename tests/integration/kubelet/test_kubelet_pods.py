"""Pod lifecycle on a hollow kubelet: running and ready, restarts, probes, deletion, restarts of the kubelet."""
from __future__ import annotations

import asyncio
import ipaddress

import pytest

from api.models import Pod
from client.errors import NotFound
from client.rest import Client
from kubelet.probes import READINESS
from kubelet.runtime.fake import FakeRuntime
from tests.integration.kubelet.conftest import KubeletFactory, pod_body, ready, wait_pod
from tests.support.waits import until


def _cs(p: Pod) -> dict:
    assert p.status is not None and p.status.container_statuses
    return p.status.container_statuses[0].to_dict()


async def test_bound_pod_runs_ready_with_ip_from_pod_cidr(client: Client, kubelets: KubeletFactory) -> None:
    await kubelets("node-1")
    await client.create(pod_body("web"))
    await client.create(pod_body("elsewhere", node="node-9"))
    p = await wait_pod(client, "web", lambda p: ready(p) and p.status.phase == "Running")  # type: ignore[union-attr]
    assert p.status is not None and p.status.pod_ip
    assert ipaddress.ip_address(p.status.pod_ip) in ipaddress.ip_network("10.250.1.0/24")
    assert p.status.host_ip and p.status.start_time
    cs = _cs(p)
    assert cs["ready"] is True and cs["restartCount"] == 0 and "running" in cs["state"]
    assert cs["containerID"].startswith("pykube-fake://") and cs["imageID"]
    other = await client.get(Pod, "elsewhere", namespace="default")
    assert other.status is not None and other.status.phase == "Pending" and not other.status.container_statuses


async def test_status_written_only_on_change(client: Client, kubelets: KubeletFactory) -> None:
    k = await kubelets("node-1", resync_period=0.2)
    await client.create(pod_body("web"))
    p = await wait_pod(client, "web", ready)
    writes, rv = k.status.writes, p.metadata.resource_version
    assert p.metadata.uid
    worker = k.workers.workers[p.metadata.uid]
    synced = worker.syncs
    await until(lambda: worker.syncs >= synced + 5, what="five resyncs of an unchanged pod")
    assert k.status.writes == writes
    assert (await client.get(Pod, "web", namespace="default")).metadata.resource_version == rv


async def test_graceful_delete_stops_then_removes(client: Client, kubelets: KubeletFactory) -> None:
    k = await kubelets("node-1")
    rt = k.runtime
    assert isinstance(rt, FakeRuntime)
    await client.create(pod_body("web", terminationGracePeriodSeconds=5))
    await wait_pod(client, "web", ready)
    assert rt.counts == {"sandboxes": 1, "containers": 1}
    await client.delete(Pod, "web", namespace="default")
    for _ in range(100):
        try:
            await client.get(Pod, "web", namespace="default")
        except NotFound:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the pod object was not removed after its containers stopped")
    assert rt.counts == {"sandboxes": 0, "containers": 0}
    assert not rt.ips.allocated


async def test_crash_loop_backs_off_and_reports(client: Client, kubelets: KubeletFactory) -> None:
    await kubelets("node-1")  # crash-loop backoff base 0.5 s in these tests
    await client.create(pod_body("crash", command=["sh", "-c", "echo boom; exit 1"]))
    p = await wait_pod(client, "crash", lambda p: _cs(p)["restartCount"] >= 3 if p.status and
                       p.status.container_statuses else False, timeout=15)
    cs = _cs(p)
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert cs["lastState"]["terminated"]["reason"] == "Error"
    p = await wait_pod(client, "crash", lambda p: "waiting" in _cs(p)["state"])
    assert _cs(p)["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert "back-off" in _cs(p)["state"]["waiting"]["message"]
    assert p.status is not None and p.status.phase == "Running" and not ready(p)


async def test_never_and_on_failure(client: Client, kubelets: KubeletFactory) -> None:
    k = await kubelets("node-1")
    await client.create(pod_body("fail", command=["sh", "-c", "exit 3"], restartPolicy="Never"))
    await client.create(pod_body("done", command=["true"], restartPolicy="OnFailure"))
    p = await wait_pod(client, "fail", lambda p: p.status is not None and p.status.phase == "Failed")
    assert _cs(p)["state"]["terminated"]["exitCode"] == 3 and _cs(p)["restartCount"] == 0
    p = await wait_pod(client, "done", lambda p: p.status is not None and p.status.phase == "Succeeded")
    assert _cs(p)["state"]["terminated"]["reason"] == "Completed"
    assert p.status is not None and p.status.pod_ip  # kept after the sandbox stopped
    rt = k.runtime
    assert isinstance(rt, FakeRuntime)
    await until(lambda: not rt.ips.allocated, what="terminal pods' sandboxes stopped")


async def test_failing_liveness_probe_restarts(client: Client, kubelets: KubeletFactory) -> None:
    await kubelets("node-1")
    probe = {"exec": {"command": ["false"]}, "periodSeconds": 1, "failureThreshold": 1}
    await client.create(pod_body("sick", container={"livenessProbe": probe}))
    p = await wait_pod(client, "sick", lambda p: bool(p.status and p.status.container_statuses and
                                                      _cs(p)["restartCount"] >= 1), timeout=10)
    assert _cs(p)["lastState"]["terminated"]["exitCode"] == 143  # SIGTERM with the grace period


async def test_unready_pod_is_not_ready(client: Client, kubelets: KubeletFactory) -> None:
    k = await kubelets("node-1")
    probe = {"exec": {"command": ["false"]}, "periodSeconds": 1}
    await client.create(pod_body("unready", container={"readinessProbe": probe}))
    p = await wait_pod(client, "unready", lambda p: p.status is not None and p.status.phase == "Running")
    assert p.metadata.uid
    prober = await until(lambda: k.probes.workers.get((p.metadata.uid, "c", READINESS)), what="readiness prober")
    await until(lambda: prober.state.runs >= 2, timeout=10, what="two failed readiness probes")
    worker = k.workers.workers[p.metadata.uid]
    synced = worker.syncs
    await until(lambda: worker.syncs > synced, what="a pod sync after them")
    p = await client.get(Pod, "unready", namespace="default")
    assert not ready(p) and _cs(p)["ready"] is False and _cs(p)["restartCount"] == 0


async def test_env_from_config_map_and_secret_volume(client: Client, kubelets: KubeletFactory) -> None:
    k = await kubelets("node-1")
    await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "default"},
                         "data": {"color": "blue"}})
    await client.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sec", "namespace": "default"},
                         "data": {"pw": "aHVudGVyMg=="}})
    body = pod_body("cfg", container={
        "env": [{"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "color"}}}],
        "volumeMounts": [{"name": "s", "mountPath": "/s"}]},
        volumes=[{"name": "s", "secret": {"secretName": "sec"}}])
    await client.create(body)
    p = await wait_pod(client, "cfg", ready)
    path = k.config.pods_dir / (p.metadata.uid or "") / "volumes" / "kubernetes.io~secret" / "s" / "pw"
    assert path.read_bytes() == b"hunter2"
    await client.create(pod_body("nokey", container={
        "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "nope"}}}]}))
    p = await wait_pod(client, "nokey", lambda p: bool(p.status and p.status.container_statuses and
                                                       "waiting" in _cs(p)["state"] and
                                                       _cs(p)["state"]["waiting"]["reason"] != "ContainerCreating"))
    assert _cs(p)["state"]["waiting"]["reason"] == "CreateContainerConfigError"


@pytest.mark.parametrize("policy,expect", [("Never", "ErrImageNeverPull"), ("Always", "ErrImagePull")])
async def test_image_pull_policy(client: Client, kubelets: KubeletFactory, policy: str, expect: str) -> None:
    rt = FakeRuntime(images=["local/busybox:1"], pull_failures=["local/busybox:1", "local/absent:1"])
    await kubelets("node-1", runtime_instance=rt)
    await client.create(pod_body("present", container={"imagePullPolicy": "IfNotPresent"}))
    await client.create(pod_body("absent", container={"image": "local/absent:1", "imagePullPolicy": policy}))
    await wait_pod(client, "present", ready)  # no pull for a present image under IfNotPresent
    p = await wait_pod(client, "absent", lambda p: bool(p.status and p.status.container_statuses and
                                                        _cs(p)["state"].get("waiting", {}).get("reason") not in
                                                        (None, "ContainerCreating")))
    assert _cs(p)["state"]["waiting"]["reason"] in (expect, "ImagePullBackOff")


async def test_restarted_kubelet_adopts_its_pods(client: Client, kubelets: KubeletFactory) -> None:
    k = await kubelets("node-1")
    rt = k.runtime
    await client.create(pod_body("a"))
    await client.create(pod_body("b"))
    await wait_pod(client, "a", ready)
    await wait_pod(client, "b", ready)
    await k.stop()
    await client.delete(Pod, "b", namespace="default", grace_period_seconds=0)  # while the kubelet is down
    k2 = await kubelets("node-1", runtime_instance=rt)
    assert isinstance(rt, FakeRuntime)
    for _ in range(60):
        if rt.counts == {"sandboxes": 1, "containers": 1}:
            break
        await asyncio.sleep(0.05)
    assert rt.counts == {"sandboxes": 1, "containers": 1}  # a adopted (not doubled), b removed
    p = await client.get(Pod, "a", namespace="default")
    assert ready(p) and _cs(p)["restartCount"] == 0
    assert k2.status.writes == 0 or ready(p)


async def test_init_containers_then_app(client: Client, kubelets: KubeletFactory) -> None:
    await kubelets("node-1")
    init = [{"name": "init", "image": "local/busybox:1", "command": ["sh", "-c", "sleep 0.3; exit 0"]}]
    await client.create(pod_body("inited", initContainers=init))
    bad = [{"name": "init", "image": "local/busybox:1", "command": ["sh", "-c", "exit 5"]}]
    await client.create(pod_body("badinit", initContainers=bad, restartPolicy="Never"))
    p = await wait_pod(client, "inited", ready)
    assert p.status is not None and p.status.init_container_statuses
    assert p.status.init_container_statuses[0].to_dict()["state"]["terminated"]["exitCode"] == 0
    p = await wait_pod(client, "badinit", lambda p: p.status is not None and p.status.phase == "Failed")
    assert _cs(p)["state"]["waiting"]["reason"] == "PodInitializing"


async def test_status_written_by_someone_else_is_corrected(client: Client, kubelets: KubeletFactory) -> None:
    await kubelets("node-1", resync_period=0.3)
    await client.create(pod_body("web"))
    p = await wait_pod(client, "web", ready)
    assert p.status is not None
    conds = [c.to_dict() for c in p.status.conditions or []]
    for c in conds:  # what the node lifecycle controller does to pods of an unreachable node
        if c["type"] == "Ready":
            c["status"] = "False"
    await client.patch(Pod, "web", {"status": {"conditions": conds}}, namespace="default", subresource="status")
    await wait_pod(client, "web", ready, timeout=5)


async def test_serviceaccount_token_volume_and_kubernetes_env(client: Client, kubelets: KubeletFactory) -> None:
    """A pod admitted with its kube-api-access volume gets a working bound token, the CA and
    its namespace as files, and KUBERNETES_SERVICE_HOST/PORT in its environment."""
    k = await kubelets("node-1")
    await client.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "default"}})
    await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt", "namespace": "default"},
                         "data": {"ca.crt": "the-ca"}})
    await client.create(pod_body("sa", container={}, volumes=[
        {"name": "info", "downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}}]))
    p = await wait_pod(client, "sa", ready)
    vol = next(v for v in p.spec.volumes or [] if v.name.startswith("kube-api-access-"))  # type: ignore[union-attr]
    base = k.config.pods_dir / (p.metadata.uid or "") / "volumes"
    files = base / "kubernetes.io~projected" / vol.name
    assert (files / "ca.crt").read_text() == "the-ca"
    assert (files / "namespace").read_text() == "default"
    token = (files / "token").read_text()
    review = (await client.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", json={
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}})).json()
    assert review["status"]["user"]["username"] == "system:serviceaccount:default:default"
    assert review["status"]["user"]["extra"]["authentication.kubernetes.io/pod-name"] == ["sa"]
    assert (base / "kubernetes.io~downward-api" / "info" / "name").read_text() == "sa"
    rt = k.runtime
    assert isinstance(rt, FakeRuntime)
    envs = [c.config.envs for c in rt._containers.values()]
    svc = await client.request("GET", "/api/v1/namespaces/default/services/kubernetes")
    assert envs and envs[0]["KUBERNETES_SERVICE_HOST"] == svc.json()["spec"]["clusterIP"]
    assert envs[0]["KUBERNETES_SERVICE_PORT"] == "443"
