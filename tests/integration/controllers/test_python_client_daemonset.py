"""The official `kubernetes` Python client's e2e test for DaemonSets
(kubernetes/e2e_test/test_apps.py `test_create_daemonset`), calling the client the same
way, against the apiserver with the DaemonSet controller on hollow nodes - plus what the
calls imply: a pod on every node, the status read through the client's models, and the
delete (V1DeleteOptions, background) taking the pods with it."""
from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from client.rest import Client
from tests.support.workloads_cluster import WorkloadsCluster

T = TypeVar("T")


@pytest.fixture
async def cluster(kube: Client, tmp_path: Path) -> AsyncIterator[WorkloadsCluster]:
    async with WorkloadsCluster(kube, tmp_path / "nodes", nodes=2, controllers=("daemonset",)) as c:
        yield c


def poll(fn: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _create_daemonset(kubeconfig: str) -> dict[str, Any]:
    from kubernetes import client, config
    from kubernetes.client.models import v1_delete_options
    api_client = config.new_client_from_config(config_file=kubeconfig)
    api = client.AppsV1Api(api_client)
    core = client.CoreV1Api(api_client)
    seen: dict[str, Any] = {}
    name = 'nginx-app-' + str(uuid.uuid4())
    daemonset = {
        'apiVersion': 'apps/v1',
        'kind': 'DaemonSet',
        'metadata': {'labels': {'app': 'nginx'}, 'name': '%s' % name},
        'spec': {
            'selector': {'matchLabels': {'app': 'nginx'}},
            'template': {
                'metadata': {'labels': {'app': 'nginx'}, 'name': name},
                'spec': {'containers': [{'name': 'nginx-app', 'image': 'nginx:1.15.4'}]},
            },
            'updateStrategy': {'type': 'RollingUpdate'},
        }
    }
    api.create_namespaced_daemon_set('default', body=daemonset)
    resp = api.read_namespaced_daemon_set(name, 'default')
    seen["read"] = (resp.metadata.name == name, resp.spec.selector.match_labels['app'],
                    resp.spec.template.metadata.labels['app'], resp.spec.template.spec.containers[0].name,
                    resp.spec.template.spec.containers[0].image)
    seen["strategy"] = (resp.spec.update_strategy.type, resp.spec.update_strategy.rolling_update.max_unavailable)
    ready = poll(lambda: (d := api.read_namespaced_daemon_set_status(name, 'default')).status.number_ready == 2
                 and d, "2 ready daemon pods")
    seen["status"] = (ready.status.desired_number_scheduled, ready.status.current_number_scheduled,
                      ready.status.updated_number_scheduled, ready.status.number_available)
    pods = core.list_namespaced_pod('default', label_selector='app=nginx').items
    seen["nodes"] = sorted(p.spec.node_name for p in pods)
    options = v1_delete_options.V1DeleteOptions()
    api.delete_namespaced_daemon_set(name, 'default', body=options)
    seen["pods_gone"] = poll(lambda: not core.list_namespaced_pod('default', label_selector='app=nginx').items,
                             "the daemon pods deleted")
    return seen


async def test_python_client_create_daemonset(apiserver: Any, cluster: WorkloadsCluster) -> None:
    seen = await asyncio.to_thread(_create_daemonset, str(apiserver.kubeconfig_path))
    assert seen["read"] == (True, "nginx", "nginx", "nginx-app", "nginx:1.15.4")
    assert seen["strategy"] == ("RollingUpdate", 1)
    assert seen["status"] == (2, 2, 2, 2)
    assert seen["nodes"] == ["hollow-0", "hollow-1"]
    assert seen["pods_gone"]
