"""The EndpointSlice controller on hollow nodes with the real scheduler, ReplicaSet and
Deployment controllers: a Service's slice lists its ready pods with their conditions,
node and target, follows scale changes and readiness, keeps StatefulSet hostnames for a
headless Service, and goes with the Service; a Service without a selector is left alone."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api.models import Deployment, EndpointSlice, Service
from client.rest import Client
from tests.support.apps_cluster import eventually
from tests.support.workloads_cluster import WorkloadsCluster


@pytest.fixture
async def cluster(kube: Client, tmp_path: Path) -> AsyncIterator[WorkloadsCluster]:
    async with WorkloadsCluster(kube, tmp_path / "nodes", nodes=2, controllers=(
            "replicaset", "deployment", "endpointslice", "statefulset")) as c:
        yield c


async def slices(kube: Client, svc: str) -> list[EndpointSlice]:
    return list((await kube.list(EndpointSlice, "default", label_selector=f"kubernetes.io/service-name={svc}")).items)


async def ready_addresses(kube: Client, svc: str) -> list[str]:
    return sorted(a for s in await slices(kube, svc) for e in s.endpoints or []
                  if e.conditions and e.conditions.ready for a in e.addresses)


async def test_a_service_gets_a_slice_of_its_pods(kube: Client, cluster: WorkloadsCluster) -> None:
    await kube.create(Service.from_dict({"metadata": {"name": "web", "namespace": "default", "labels": {"tier": "front"}},
                                         "spec": {"selector": {"app": "web"},
                                                  "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}))
    await kube.create(Deployment.from_dict({"metadata": {"name": "web", "namespace": "default"}, "spec": {
        "replicas": 3, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "web", "image": "nginx", "ports": [{"name": "http", "containerPort": 8080}]}]}}}}))

    async def three() -> list[str] | None:
        addrs = await ready_addresses(kube, "web")
        return addrs if len(addrs) == 3 else None
    await eventually(three, timeout=30, what="3 ready endpoints")
    (es,) = await slices(kube, "web")
    assert es.address_type == "IPv4" and es.metadata.generate_name == "web-"
    assert [p.to_dict() for p in es.ports or []] == [{"name": "http", "protocol": "TCP", "port": 8080}]
    assert es.metadata.labels == {"tier": "front", "kubernetes.io/service-name": "web",
                                  "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}
    ref = (es.metadata.owner_references or [])[0]
    assert (ref.kind, ref.name, ref.controller) == ("Service", "web", True)
    ep = (es.endpoints or [])[0]
    assert ep.node_name and ep.target_ref.kind == "Pod" and ep.conditions.serving is True  # type: ignore[union-attr]
    await kube.patch(Deployment, "web", {"spec": {"replicas": 1}}, "default")

    async def one() -> bool:
        eps = [e for s in await slices(kube, "web") for e in s.endpoints or [] if not e.conditions.terminating]  # type: ignore[union-attr]
        return len(eps) == 1
    await eventually(one, timeout=30, what="1 endpoint after scaling down")
    await kube.delete(Service, "web", "default")

    async def gone() -> bool:
        return not await slices(kube, "web")
    await eventually(gone, timeout=30, what="the slices to go with the Service")


async def test_a_service_without_selector_is_not_managed(kube: Client, cluster: WorkloadsCluster) -> None:
    await kube.create(Service.from_dict({"metadata": {"name": "ext", "namespace": "default"},
                                         "spec": {"ports": [{"port": 80}]}}))
    await kube.create(Service.from_dict({"metadata": {"name": "marker", "namespace": "default"},
                                         "spec": {"selector": {"app": "none"}, "ports": [{"port": 80}]}}))

    async def marker_slice() -> bool:
        return len(await slices(kube, "marker")) == 1        # an empty slice, as Kubernetes keeps one
    await eventually(marker_slice, what="the empty slice of the selector Service")
    assert await slices(kube, "ext") == []
