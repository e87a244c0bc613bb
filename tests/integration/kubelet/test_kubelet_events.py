"""The kubelet's events on a hollow node, as `kubectl describe` lists them: a failing liveness
probe (Unhealthy, Killing), a missing configMap volume (FailedMount), a deleted pod
(Killing), a crash loop (BackOff), and the node's own (Starting, NodeReady)."""
from __future__ import annotations

import asyncio
import time
from typing import Any

from api.models import Event, Pod
from client.rest import Client
from tests.integration.kubelet.conftest import KubeletFactory, pod_body, ready, wait_pod


async def events(client: Client, name: str) -> list[Event]:
    return list((await client.list(Event, "default", field_selector=f"involvedObject.name={name}")).items)


async def wait_events(client: Client, name: str, wanted: set[tuple[str, str]], timeout: float = 15.0) -> list[Event]:
    """Wait until `name` has events of every (type, reason) in `wanted`."""
    deadline = time.monotonic() + timeout
    while True:
        got = await events(client, name)
        if wanted <= {(e.type, e.reason) for e in got}:
            return got
        assert time.monotonic() < deadline, f"{name}: {sorted({(e.type, e.reason) for e in got})}, want {wanted}"
        await asyncio.sleep(0.05)


def message(evs: list[Event], reason: str) -> str:
    return next(e.message for e in evs if e.reason == reason) or ""


async def test_probe_failures_and_kills_are_told(client: Client, kubelets: KubeletFactory) -> None:
    await kubelets("node-1")
    probe: dict[str, Any] = {"exec": {"command": ["false"]}, "periodSeconds": 1, "failureThreshold": 1}
    await client.create(pod_body("sick", container={"livenessProbe": probe}))
    evs = await wait_events(client, "sick", {("Warning", "Unhealthy"), ("Normal", "Killing")})
    assert message(evs, "Unhealthy").startswith("Liveness probe failed: ")
    assert message(evs, "Killing") == "Container c failed liveness probe, will be restarted"
    killing = next(e for e in evs if e.reason == "Killing")
    assert killing.involved_object.field_path == "spec.containers{c}" and killing.source.host == "node-1"
    await client.create(pod_body("doomed"))
    await wait_pod(client, "doomed", ready)
    await client.delete(Pod, "doomed", namespace="default")
    evs = await wait_events(client, "doomed", {("Normal", "Killing")})
    assert message(evs, "Killing") == "Stopping container c"


async def test_volume_and_crash_loop_failures(client: Client, kubelets: KubeletFactory) -> None:
    await kubelets("node-1")
    await client.create(pod_body("nomount", volumes=[{"name": "cfg", "configMap": {"name": "absent"}}],
                                 container={"volumeMounts": [{"name": "cfg", "mountPath": "/cfg"}]}))
    evs = await wait_events(client, "nomount", {("Warning", "FailedMount")})
    assert message(evs, "FailedMount") == 'MountVolume.SetUp failed for volume "cfg" : configmap "absent" not found'
    await client.create(pod_body("crash", command=["sh", "-c", "exit 1"]))
    evs = await wait_events(client, "crash", {("Warning", "BackOff"), ("Normal", "Started")})
    p = await client.get(Pod, "crash", namespace="default")
    assert message(evs, "BackOff") == f"Back-off restarting failed container c in pod crash_default({p.metadata.uid})"


async def test_the_node_tells_it_started_and_is_ready(client: Client, kubelets: KubeletFactory) -> None:
    await kubelets("node-1")
    evs = await wait_events(client, "node-1", {("Normal", "Starting"), ("Normal", "NodeReady")})
    ready_event = next(e for e in evs if e.reason == "NodeReady")
    assert ready_event.message == "Node node-1 status is now: NodeReady"
    assert ready_event.involved_object.kind == "Node" and ready_event.involved_object.uid == "node-1"
