"""Pod scheduling readiness: a pod with `spec.schedulingGates` is created with
PodScheduled=False/SchedulingGated, shows STATUS SchedulingGated in the real kubectl, is not
scheduled while a gate is left, may only lose gates, and schedules once the last is gone."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

from client.rest import Client
from scheduler.scheduler import Scheduler
from tests.integration.apiserver.test_real_clients import kubectl
from tests.integration.scheduler.test_scheduling import PODS, client, eventually, node, node_of, pod, scheduler

__all__ = ["client", "scheduler"]


async def test_gated_pod_waits_until_its_gates_are_removed(apiserver, client: Client, scheduler: Scheduler,
                                                          tmp_path: Path) -> None:
    kc = apiserver.kubeconfig_path
    await client.create(node("n1"))
    await client.create(pod("gated", schedulingGates=[{"name": "example.com/foo"}, {"name": "example.com/bar"}]))
    await client.create(pod("free"))
    await eventually(lambda: node_of(client, "free"))
    p = await client.get(PODS, "gated", namespace="default")
    assert not p["spec"].get("nodeName")
    cond = {c["type"]: c for c in p["status"]["conditions"]}["PodScheduled"]
    assert (cond["status"], cond["reason"]) == ("False", "SchedulingGated")
    code, out, err = await kubectl(kc, "get", "pod", "gated", "--no-headers")
    assert code == 0 and out.split()[:3] == ["gated", "0/1", "SchedulingGated"], err

    code, out, err = await kubectl(kc, "patch", "pod", "gated", "--type=json",
                                   "-p", json.dumps([{"op": "add", "path": "/spec/schedulingGates/-",
                                                      "value": {"name": "example.com/new"}}]))
    assert code == 1 and "only deletion is allowed, but found new scheduling gate 'example.com/new'" in err
    code, out, err = await kubectl(kc, "patch", "pod", "gated", "--type=json",
                                   "-p", '[{"op": "remove", "path": "/spec/schedulingGates/0"}]')
    assert code == 0, err
    await asyncio.sleep(0.3)         # one gate left: still not scheduled
    assert not await node_of(client, "gated")
    code, out, err = await kubectl(kc, "patch", "pod", "gated", "--type=merge", "-p", '{"spec":{"schedulingGates":null}}')
    assert code == 0, err
    assert await eventually(lambda: node_of(client, "gated")) == "n1"


async def test_gated_pod_may_not_name_a_node(apiserver, tmp_path: Path) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(json.dumps(pod("bound", nodeName="n1", schedulingGates=[{"name": "example.com/foo"}])))
    code, _, err = await kubectl(apiserver.kubeconfig_path, "apply", "-f", str(path))
    assert code == 1 and "spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared" in err
