"""The official `kubernetes` Python client's e2e tests for Jobs and ReplicationControllers
(kubernetes/e2e_test/test_batch.py `test_job_apis`, test_client.py
`test_replication_controller_apis`, test_utils.py's multi-resource YAML with an RC),
calling the client the same way, against the apiserver with the Job and RC controllers on
hollow nodes - plus what those calls imply: the Job runs, the RC keeps its replicas, a
scale through the client, and the default (orphaning) delete of a batch/v1 Job."""
from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from client.rest import Client
from tests.support.batch_cluster import BatchCluster

T = TypeVar("T")

MULTI_RESOURCE_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: mock
  labels:
    app: mock
spec:
  ports:
  - port: 99
    protocol: TCP
    targetPort: 9949
  selector:
    app: mock
"""
MULTI_RESOURCE_RC = """\
apiVersion: v1
kind: ReplicationController
metadata:
  name: mock
spec:
  replicas: 1
  selector:
    app: mock
  template:
    metadata:
      labels:
        app: mock
    spec:
      containers:
      - name: mock-container
        image: k8s.gcr.io/pause:2.0
        ports:
        - containerPort: 9949
          protocol: TCP
"""


@pytest.fixture
async def cluster(kube: Client, tmp_path: Path) -> AsyncIterator[BatchCluster]:
    async with BatchCluster(kube, tmp_path / "nodes", nodes=2, replication=True) as c:
        yield c


def poll(fn: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _job_apis(kubeconfig: str) -> dict[str, Any]:
    """test_batch.py's test_job_apis, then what follows from it here."""
    from kubernetes import client, config
    api_client = config.new_client_from_config(config_file=kubeconfig)
    api = client.BatchV1Api(api_client)
    core = client.CoreV1Api(api_client)
    seen: dict[str, Any] = {}
    name = 'test-job-' + str(uuid.uuid4())
    job_manifest = {
        'kind': 'Job',
        'spec': {
            'template':
                {'spec':
                    {'containers': [
                        {'image': 'busybox',
                         'name': name,
                         'command': ["sh", "-c", "sleep 5"]
                         }],
                        'restartPolicy': 'Never'},
                    'metadata': {'name': name}}},
        'apiVersion': 'batch/v1',
        'metadata': {'name': name}}
    resp = api.create_namespaced_job(body=job_manifest, namespace='default')
    seen["created"] = resp.metadata.name == name
    resp = api.read_namespaced_job(name=name, namespace='default')
    seen["read"] = resp.metadata.name == name
    seen["selector"] = resp.spec.selector.match_labels
    seen["uid"] = resp.metadata.uid
    running = poll(lambda: (j := api.read_namespaced_job_status(name, 'default')).status.active
                   and j, "the Job's pod")
    seen["active"] = running.status.active
    seen["start_time"] = running.status.start_time is not None
    pods = core.list_namespaced_pod('default', label_selector=f"job-name={name}").items
    seen["pod_owner"] = [(r.kind, r.uid) for r in pods[0].metadata.owner_references]
    resp = api.delete_namespaced_job(name=name, body={}, namespace='default')

    def orphaned() -> Any:
        ps = core.list_namespaced_pod('default', label_selector=f"job-name={name}").items
        return ps if ps and not ps[0].metadata.owner_references and \
            not ps[0].metadata.finalizers else None
    seen["orphans"] = len(poll(orphaned, "the orphaned pod released"))
    core.delete_namespaced_pod(pods[0].metadata.name, 'default')
    return seen


def _replication_controller_apis(kubeconfig: str) -> dict[str, Any]:
    """test_client.py's test_replication_controller_apis, with the RC then running, read
    through its status and scale subresources, and deleted with its pods."""
    from kubernetes import client, config
    api_client = config.new_client_from_config(config_file=kubeconfig)
    api = client.CoreV1Api(api_client)
    seen: dict[str, Any] = {}
    name = 'frontend-' + str(uuid.uuid4())[-12:]
    rc_manifest = {
        'apiVersion': 'v1',
        'kind': 'ReplicationController',
        'metadata': {'labels': {'name': name},
                     'name': name},
        'spec': {'replicas': 2,
                 'selector': {'name': name},
                 'template': {'metadata': {
                     'labels': {'name': name}},
                     'spec': {'containers': [{
                         'image': 'nginx',
                         'name': 'nginx',
                         'ports': [{'containerPort': 80,
                                    'protocol': 'TCP'}]}]}}}}
    resp = api.create_namespaced_replication_controller(body=rc_manifest, namespace='default')
    seen["create"] = (resp.metadata.name == name, resp.spec.replicas)
    resp = api.read_namespaced_replication_controller(name=name, namespace='default')
    seen["read"] = (resp.metadata.name == name, resp.spec.replicas)
    ready = poll(lambda: (r := api.read_namespaced_replication_controller_status(name, 'default'))
                 .status.ready_replicas == 2 and r, "2 ready replicas")
    seen["status"] = (ready.status.replicas, ready.status.available_replicas,
                      ready.status.observed_generation)
    scale = api.patch_namespaced_replication_controller_scale(name, 'default',
                                                               {"spec": {"replicas": 3}})
    seen["scale"] = (scale.spec.replicas, scale.status.selector)
    poll(lambda: api.read_namespaced_replication_controller(name, 'default').status.ready_replicas
         == 3, "3 ready replicas")
    pods = api.list_namespaced_pod('default', label_selector=f"name={name}").items
    seen["owners"] = {(r.api_version, r.kind, r.name) for p in pods for r in p.metadata.owner_references}
    api.delete_namespaced_replication_controller(name=name, namespace='default',
                                                 propagation_policy='Background')
    seen["pods_deleted"] = poll(lambda: not api.list_namespaced_pod(
        'default', label_selector=f"name={name}").items, "the RC's pods deleted")
    return seen


def _multi_resource(kubeconfig: str, directory: Path) -> dict[str, Any]:
    """test_utils.py: create_from_directory and create_from_yaml of a Service and an RC."""
    from kubernetes import client, config, utils
    k8s_client = config.new_client_from_config(config_file=kubeconfig)
    core_api = client.CoreV1Api(k8s_client)
    seen: dict[str, Any] = {}
    utils.create_from_directory(k8s_client, str(directory))
    ctr = core_api.read_namespaced_replication_controller(name="mock", namespace="default")
    svc = core_api.read_namespaced_service(name="mock", namespace="default")
    seen["dir"] = (ctr.metadata.name, ctr.spec.template.metadata.labels["app"],
                   ctr.spec.selector["app"], ctr.spec.replicas,
                   ctr.spec.template.spec.containers[0].image,
                   ctr.spec.template.spec.containers[0].name, svc.spec.selector["app"])
    core_api.delete_namespaced_replication_controller(
        name="mock", namespace="default", propagation_policy="Background")
    core_api.delete_namespaced_service(name="mock", namespace="default", body={})
    poll(lambda: _absent(core_api, "mock"), "the RC gone")
    both = directory / "multi-resource.yaml"
    both.write_text(MULTI_RESOURCE_SERVICE + "---\n" + MULTI_RESOURCE_RC)
    utils.create_from_yaml(k8s_client, str(both))
    ctr = core_api.read_namespaced_replication_controller(name="mock", namespace="default")
    seen["yaml"] = (ctr.metadata.name, ctr.spec.replicas)
    core_api.delete_namespaced_replication_controller(
        name="mock", namespace="default", propagation_policy="Background")
    core_api.delete_namespaced_service(name="mock", namespace="default", body={})
    return seen


def _absent(core_api: Any, name: str) -> bool:
    from kubernetes.client.rest import ApiException
    try:
        core_api.read_namespaced_replication_controller(name=name, namespace="default")
    except ApiException as e:
        return e.status == 404
    return False


async def test_python_client_job_apis(apiserver: Any, cluster: BatchCluster) -> None:
    seen = await asyncio.to_thread(_job_apis, str(apiserver.kubeconfig_path))
    assert seen["created"] and seen["read"]
    assert seen["selector"] == {"batch.kubernetes.io/controller-uid": seen["uid"]}
    assert seen["active"] == 1 and seen["start_time"]
    assert seen["pod_owner"] == [("Job", seen["uid"])]
    assert seen["orphans"] == 1          # deleting a batch/v1 Job by default keeps its pods


async def test_python_client_replication_controller_apis(apiserver: Any,
                                                         cluster: BatchCluster) -> None:
    seen = await asyncio.to_thread(_replication_controller_apis, str(apiserver.kubeconfig_path))
    assert seen["create"] == (True, 2) and seen["read"] == (True, 2)
    assert seen["status"] == (2, 2, 1)
    assert seen["scale"][0] == 3 and seen["scale"][1].startswith("name=frontend-")
    assert {kind for _, kind, _ in seen["owners"]} == {"ReplicationController"}
    assert {v for v, _, _ in seen["owners"]} == {"v1"}
    assert seen["pods_deleted"]


async def test_python_client_multi_resource_yaml_with_an_rc(apiserver: Any, cluster: BatchCluster,
                                                            tmp_path: Path) -> None:
    directory = tmp_path / "multi-resource"
    directory.mkdir()
    (directory / "multi-resource-service.yaml").write_text(MULTI_RESOURCE_SERVICE)
    (directory / "multi-resource-replication-controller.yaml").write_text(MULTI_RESOURCE_RC)
    seen = await asyncio.to_thread(_multi_resource, str(apiserver.kubeconfig_path), directory)
    assert seen["dir"] == ("mock", "mock", "mock", 1, "k8s.gcr.io/pause:2.0", "mock-container", "mock")
    assert seen["yaml"] == ("mock", 1)
