"""`cordon`, `uncordon` and `drain` with the real kubectl and with pykubectl against the
same apiserver, hollow nodes and controllers (ReplicaSet, Deployment, DaemonSet,
disruption): a drain stops at DaemonSet pods unless told to ignore them, keeps retrying
(and gives up at --timeout) rather than break a PodDisruptionBudget, and evicts what the
budget allows; the eviction subresource answers 429 with Kubernetes' message."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.models import DaemonSet, Deployment, Node, Pod, PodDisruptionBudget
from client.errors import TooManyRequests
from client.rest import Client
from tests.integration.kubectl.conftest import KubectlFn
from tests.integration.kubectl.test_kubectl_batch import both, real
from tests.support.apps_cluster import eventually
from tests.support.workloads_cluster import WorkloadsCluster


@pytest.fixture
async def cluster(api: Client, tmp_path: Path) -> AsyncIterator[WorkloadsCluster]:
    async with WorkloadsCluster(api, tmp_path / "nodes", nodes=2, controllers=(
            "replicaset", "deployment", "daemonset", "disruption")) as c:
        yield c


def deployment(replicas: int) -> Deployment:
    return Deployment.from_dict({"metadata": {"name": "web", "namespace": "default"}, "spec": {
        "replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})


def budget(**spec: Any) -> PodDisruptionBudget:
    return PodDisruptionBudget.from_dict({"metadata": {"name": "web", "namespace": "default"},
                                         "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec}})


async def ready_pods(api: Client, selector: str) -> list[Pod]:
    return [p for p in (await api.list(Pod, "default", label_selector=selector)).items
            if not p.metadata.deletion_timestamp and p.status and any(
                c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])]


async def budget_allows(api: Client, n: int) -> bool:
    pdb = await api.get(PodDisruptionBudget, "web", "default")
    return bool(pdb.status and pdb.status.observed_generation == pdb.metadata.generation
                and pdb.status.disruptions_allowed == n)


async def test_cordon_and_uncordon(kubectl: KubectlFn, kubeconfig_path: str, api: Client,
                                   cluster: WorkloadsCluster) -> None:
    assert (await real(kubeconfig_path, "cordon", "hollow-0")).out == "node/hollow-0 cordoned\n"
    assert (await api.get(Node, "hollow-0")).spec.unschedulable is True  # type: ignore[union-attr]
    await both(kubectl, kubeconfig_path, "cordon", "hollow-0")
    r = await kubectl("uncordon", "hollow-0")
    assert (r.code, r.out) == (0, "node/hollow-0 uncordoned\n")
    assert not (await api.get(Node, "hollow-0")).spec.unschedulable  # type: ignore[union-attr]
    await both(kubectl, kubeconfig_path, "uncordon", "hollow-0")
    await both(kubectl, kubeconfig_path, "cordon", "nope")
    await both(kubectl, kubeconfig_path, "cordon", "-l", "kubernetes.io/hostname=hollow-1", "--dry-run=client")


async def test_drain_refuses_to_break_a_budget(kubectl: KubectlFn, kubeconfig_path: str, api: Client,
                                               cluster: WorkloadsCluster) -> None:
    await api.create(deployment(2))
    await api.create(DaemonSet.from_dict({"metadata": {"name": "agent", "namespace": "default"}, "spec": {
        "selector": {"matchLabels": {"app": "agent"}},
        "template": {"metadata": {"labels": {"app": "agent"}},
                     "spec": {"containers": [{"name": "a", "image": "agent"}]}}}}))

    async def placed() -> bool:
        return len(await ready_pods(api, "app=web")) == 2 and len(await ready_pods(api, "app=agent")) == 2
    await eventually(placed, timeout=30, what="web and agent pods")
    await api.create(budget(minAvailable=2))
    await eventually(lambda: budget_allows(api, 0), what="the budget's status")
    node = (await ready_pods(api, "app=web"))[0].spec.node_name or ""  # type: ignore[union-attr]
    await real(kubeconfig_path, "cordon", node)
    r = await both(kubectl, kubeconfig_path, "drain", node)                 # the DaemonSet's pod
    assert r.code == 1 and "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)" in r.err
    r = await both(kubectl, kubeconfig_path, "drain", node, "--ignore-daemonsets", "--timeout=3s")
    assert r.code == 1
    assert "Cannot evict pod as it would violate the pod's disruption budget." in r.err
    assert len(await ready_pods(api, "app=web")) == 2                      # nothing was broken
    web = next(p for p in await ready_pods(api, "app=web") if p.spec.node_name == node)  # type: ignore[union-attr]
    try:
        await api.request("POST", Pod.RESOURCE.path("default", web.name, "eviction"),
                          json={"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": web.name}})
        raise AssertionError("the eviction was not refused")
    except TooManyRequests as e:
        assert e.status["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
        assert e.status["details"]["causes"] == [{"reason": "DisruptionBudget", "message":
                                                  "The disruption budget web needs 2 healthy pods and has 2 currently"}]


async def test_drain_evicts_what_the_budget_allows(kubectl: KubectlFn, kubeconfig_path: str, api: Client,
                                                   cluster: WorkloadsCluster) -> None:
    await api.create(deployment(2))
    await eventually(lambda: _two_ready(api), timeout=30, what="2 web pods")
    await api.create(budget(maxUnavailable=1))
    await eventually(lambda: budget_allows(api, 1), what="the budget to allow one disruption")
    node = (await ready_pods(api, "app=web"))[0].spec.node_name or ""  # type: ignore[union-attr]
    on_node = sorted(p.name for p in await ready_pods(api, "app=web") if p.spec.node_name == node)  # type: ignore[union-attr]
    r = await kubectl("drain", node, "--ignore-daemonsets")
    assert r.code == 0, r.err
    assert r.lines[0] == f"node/{node} cordoned" and r.lines[-1] == f"node/{node} drained"
    assert sorted(ln for ln in r.lines if ln.startswith("evicting pod")) == [f"evicting pod default/{n}" for n in on_node]
    assert sorted(ln for ln in r.lines if ln.endswith(" evicted")) == [f"pod/{n} evicted" for n in on_node]

    async def moved() -> bool:
        pods = await ready_pods(api, "app=web")
        return len(pods) == 2 and all(p.spec.node_name != node for p in pods)  # type: ignore[union-attr]
    await eventually(moved, timeout=30, what="the web pods on the other node")
    await both(kubectl, kubeconfig_path, "drain", node, "--ignore-daemonsets")


async def _two_ready(api: Client) -> bool:
    return len(await ready_pods(api, "app=web")) == 2


async def test_create_pdb(kubectl: KubectlFn, kubeconfig_path: str, api: Client) -> None:
    def run(*a: str) -> Any:
        return both(kubectl, kubeconfig_path, *a)
    for flags in (["--min-available=1"], ["--max-unavailable=50%"]):
        await run("create", "pdb", "web", "--selector=app=web,tier in (a,b)", *flags, "--dry-run=client", "-o", "yaml")
    r = await run("create", "pdb", "web", "--selector=app=web")
    assert r.err == "error: one of min-available or max-unavailable must be specified\n"
    await run("create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=1Gi")
    await run("create", "pdb", "web", "--min-available=1")
    r = await real(kubeconfig_path, "create", "pdb", "web", "--selector=app=web", "--min-available=2")
    assert r.out == "poddisruptionbudget.policy/web created\n", r.err        # sent as protobuf
    theirs = await api.get(PodDisruptionBudget, "web", "default")
    r = await kubectl("create", "pdb", "web2", "--selector=app=web", "--min-available=2")
    assert r.out == "poddisruptionbudget.policy/web2 created\n", r.err
    ours = await api.get(PodDisruptionBudget, "web2", "default")
    assert ours.spec == theirs.spec and theirs.spec.min_available == 2  # type: ignore[union-attr]
