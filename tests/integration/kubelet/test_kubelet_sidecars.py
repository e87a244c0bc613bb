"""Sidecar containers (init containers with `restartPolicy: Always`) and readiness gates on
a hollow kubelet, as the docs' sidecar Deployment and Job examples use them; the READY and
STATUS columns read with the real kubectl."""
from __future__ import annotations

from typing import Any

from client.rest import Client
from tests.integration.apiserver.test_real_clients import kubectl
from tests.integration.kubelet.conftest import KubeletFactory, pod_body, ready, wait_pod

SIDECAR = {"name": "logshipper", "image": "local/busybox:1", "restartPolicy": "Always",
           "command": ["sh", "-c", "tail -F /opt/logs.txt"]}


def _phase(p: Any) -> str:
    return p.status.phase if p.status else ""


async def test_sidecar_runs_beside_the_app_and_ends_with_a_job_pod(apiserver: Any, client: Client,
                                                                    kubelets: KubeletFactory) -> None:
    await kubelets("node-1")
    await client.create(pod_body("app", initContainers=[SIDECAR]))
    p = await wait_pod(client, "app", ready)
    assert p.status is not None and p.status.init_container_statuses and p.status.container_statuses
    side = p.status.init_container_statuses[0].to_dict()
    assert "running" in side["state"] and side["ready"] is True and side["started"] is True
    code, out, err = await kubectl(apiserver.kubeconfig_path, "get", "pod", "app", "--no-headers")
    assert code == 0 and out.split()[:3] == ["app", "2/2", "Running"], err

    # a Job-style pod: the main container finishes, the sidecar is stopped, the pod succeeds
    await client.create(pod_body("job", command=["sh", "-c", "sleep 0.5; exit 0"], restartPolicy="Never",
                                 initContainers=[SIDECAR]))
    p = await wait_pod(client, "job", lambda p: _phase(p) == "Succeeded")
    assert p.status is not None and p.status.init_container_statuses
    assert "terminated" in p.status.init_container_statuses[0].to_dict()["state"]
    code, out, err = await kubectl(apiserver.kubeconfig_path, "get", "pod", "job", "--no-headers")
    assert code == 0 and out.split()[:3] == ["job", "0/2", "Completed"], err


async def test_sidecar_failing_under_never_is_restarted(client: Client, kubelets: KubeletFactory) -> None:
    await kubelets("node-1")
    flaky = {**SIDECAR, "command": ["sh", "-c", "sleep 0.2; exit 1"]}
    await client.create(pod_body("flaky", restartPolicy="Never", initContainers=[flaky]))
    p = await wait_pod(client, "flaky", lambda p: bool(p.status and p.status.init_container_statuses and
                                                       p.status.init_container_statuses[0].restart_count >= 1))
    assert _phase(p) == "Running"


async def test_readiness_gate_holds_ready_until_its_condition_is_true(apiserver: Any, client: Client,
                                                                       kubelets: KubeletFactory) -> None:
    await kubelets("node-1")
    await client.create(pod_body("gated", readinessGates=[{"conditionType": "www.example.com/feature-1"}]))
    p = await wait_pod(client, "gated", lambda p: bool(p.status and p.status.container_statuses and
                                                       p.status.container_statuses[0].ready))
    conds = {c.type: c for c in p.status.conditions or []} if p.status else {}
    assert conds["ContainersReady"].status == "True"
    assert (conds["Ready"].status, conds["Ready"].reason) == ("False", "ReadinessGatesNotReady")
    assert conds["Ready"].message == ('corresponding condition of pod readiness gate "www.example.com/feature-1" '
                                      "does not exist.")
    code, out, err = await kubectl(apiserver.kubeconfig_path, "get", "pod", "gated", "--no-headers", "-o", "wide")
    assert code == 0 and out.split()[1] == "1/1" and out.split()[-1] == "0/1", err

    cond = {"type": "www.example.com/feature-1", "status": "True"}
    code, out, err = await kubectl(apiserver.kubeconfig_path, "patch", "pod", "gated", "--subresource=status",
                                   "--type=strategic", "-p", '{"status":{"conditions":[%s]}}' % str(cond).replace("'", '"'))
    assert code == 0, err
    await wait_pod(client, "gated", ready)
    code, out, err = await kubectl(apiserver.kubeconfig_path, "get", "pod", "gated", "--no-headers", "-o", "wide")
    assert code == 0 and out.split()[-1] == "1/1", err
