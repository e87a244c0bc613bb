"""Quotas, limit ranges and Pod Security as a team meets them: the 5th pod past `pods: 4`
refused with Kubernetes' text by real kubectl, CPU requests bounded, LimitRange defaults on a
pod without resources, privileged pods refused in a `baseline` namespace, and the
resourcequota controller giving back what deleted pods held."""
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
from controllers.resourcequota import ResourceQuotaController
from tests.integration.apiserver.test_real_clients import kubectl

NS = "/api/v1/namespaces/team"


def _pod(name: str, **container: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox:1", **container}]}}


async def _namespace(http: httpx.AsyncClient, labels: dict[str, str] | None = None) -> None:
    r = await http.post("/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace",
                                                    "metadata": {"name": "team", "labels": labels or {}}})
    assert r.status_code == 201, r.text


async def _until_cached(http: httpx.AsyncClient, path: str) -> None:
    """Until a just-created object is in the apiserver's watch cache (a list sees it)."""
    plural, name = path.rsplit("/", 1)
    for _ in range(200):
        items = (await http.get(plural)).json()["items"]
        if any(i["metadata"]["name"] == name for i in items):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{path} never listed")


@pytest.fixture
async def quota_controller(apiserver: Any) -> AsyncIterator[None]:
    async with Client(kubeconfig.load(apiserver.kubeconfig_path), component="test") as c:
        informers = SharedInformers(c)
        ctl = ResourceQuotaController(c, informers, EventRecorder(c, "test"), resync_seconds=0.5)
        await informers.start_all()
        task = asyncio.create_task(ctl.run(1))
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await informers.stop_all()


async def test_fifth_pod_past_the_quota_is_refused(apiserver: Any, http: httpx.AsyncClient,
                                                   quota_controller: None, tmp_path: Path) -> None:
    await _namespace(http)
    q = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "team-quota"},
         "spec": {"hard": {"pods": "4"}}}
    assert (await http.post(f"{NS}/resourcequotas", json=q)).status_code == 201
    await _until_cached(http, f"{NS}/resourcequotas/team-quota")
    for i in range(4):
        r = await http.post(f"{NS}/pods", json=_pod(f"p{i}"))
        assert r.status_code == 201, r.text
    code, out, err = await kubectl(apiserver.kubeconfig_path, "run", "p4", "-n", "team", "--image=busybox:1")
    assert code == 1
    assert err.strip() == ('Error from server (Forbidden): pods "p4" is forbidden: exceeded quota: team-quota, '
                           'requested: pods=1, used: pods=4, limited: pods=4')
    code, out, err = await kubectl(apiserver.kubeconfig_path, "get", "quota", "-n", "team")
    assert code == 0 and "pods: 4/4" in out, out + err
    # a deleted pod gives its share back (the controller recomputes status.used)
    assert (await http.delete(f"{NS}/pods/p0", params={"gracePeriodSeconds": "0"})).status_code == 200
    for _ in range(200):
        used = (await http.get(f"{NS}/resourcequotas/team-quota")).json()["status"]["used"]
        if used["pods"] == "3":
            break
        await asyncio.sleep(0.02)
    assert used["pods"] == "3"
    assert (await http.post(f"{NS}/pods", json=_pod("p5"))).status_code == 201


async def test_cpu_requests_bounded_and_limits_required(http: httpx.AsyncClient) -> None:
    await _namespace(http)
    q = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "compute"},
         "spec": {"hard": {"requests.cpu": "1"}}}
    assert (await http.post(f"{NS}/resourcequotas", json=q)).status_code == 201
    await _until_cached(http, f"{NS}/resourcequotas/compute")
    r = await http.post(f"{NS}/pods", json=_pod("bare"))
    assert r.status_code == 403
    assert r.json()["message"] == 'pods "bare" is forbidden: failed quota: compute: must specify requests.cpu for: c'
    small = {"resources": {"requests": {"cpu": "600m"}}}
    assert (await http.post(f"{NS}/pods", json=_pod("a", **small))).status_code == 201
    r = await http.post(f"{NS}/pods", json=_pod("b", **small))
    assert r.status_code == 403
    assert r.json()["message"] == ('pods "b" is forbidden: exceeded quota: compute, requested: '
                                   'requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1')


async def test_limit_range_defaults_and_pod_security(http: httpx.AsyncClient) -> None:
    await _namespace(http, {"pod-security.kubernetes.io/enforce": "baseline"})
    lr = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "team-limits"},
          "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"},
                               "defaultRequest": {"cpu": "100m", "memory": "128Mi"}, "max": {"cpu": "2"}}]}}
    assert (await http.post(f"{NS}/limitranges", json=lr)).status_code == 201
    await _until_cached(http, f"{NS}/limitranges/team-limits")
    pod = (await http.post(f"{NS}/pods", json=_pod("plain"))).json()
    assert pod["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}}
    assert pod["status"]["qosClass"] == "Burstable"
    r = await http.post(f"{NS}/pods", json=_pod("huge", resources={"limits": {"cpu": "4"}}))
    assert r.status_code == 403
    assert r.json()["message"] == 'pods "huge" is forbidden: maximum cpu usage per Container is 2, but limit is 4'
    r = await http.post(f"{NS}/pods", json=_pod("root", securityContext={"privileged": True}))
    assert r.status_code == 403
    assert r.json()["message"] == ('pods "root" is forbidden: violates PodSecurity "baseline:latest": '
                                   'privileged (container "c" must not set securityContext.privileged=true)')
