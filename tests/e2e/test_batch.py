"""Jobs end to end on a real node, as root: a kubelet on its own containerd and CNI (real
busybox containers), the in-process apiserver, scheduler, garbage collector and Job
controller. A Job of 5 completions with parallelism 2, applied and waited for with the real
kubectl, runs 5 real containers never more than 2 at a time and completes; an Indexed Job's
containers read their JOB_COMPLETION_INDEX through the downward API. Everything the node
made is cleaned up and checked, pass or fail (as in test_kubelet)."""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from api.models import Node, Pod
from api.models.batch import Job
from client import kubeconfig
from client.errors import NotFound
from client.events import EventRecorder
from client.rest import Client
from controllers.base import SharedInformers
from controllers.garbagecollector import GarbageCollector
from controllers.job import JobController
from scheduler.scheduler import Scheduler
from tests.e2e.kubelet_node import KubeletNode
from tests.support.apps_cluster import PodWatch
from tests.support.cluster import running_apiserver
from tests.support.runtime_node import root_node_images

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.root]

KUBECTL = str(Path(sys.executable).parent / "kubectl")
PYKUBECTL = str(Path(sys.executable).parent / "pykubectl")
IMAGE = "local/busybox:1"

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: five
spec:
  completions: 5
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: work
        image: {image}
        command: ["sh", "-c", "echo working on $(hostname); sleep 1; echo done"]
"""

INDEXED = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: shards
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: shard
        image: {image}
        command: ["sh", "-c", "echo shard $JOB_COMPLETION_INDEX of 3 on $(hostname)"]
"""


@dataclass
class E2E:
    srv: Any
    client: Client
    node: KubeletNode
    base: Path


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return root_node_images(tmp_path_factory.mktemp("batch-images"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def e2e(tmp_path_factory: pytest.TempPathFactory, images: Path) -> AsyncIterator[E2E]:
    base = tmp_path_factory.mktemp("batch-e2e")
    async with running_apiserver(base / "apiserver") as srv:
        client = Client(kubeconfig.load(srv.kubeconfig_path), component="e2e")
        node = KubeletNode(base, srv.kubeconfig_path, node_name="batch-node")
        node.images_dir.mkdir(parents=True)
        for tar in images.glob("*.tar"):
            shutil.copy(tar, node.images_dir / tar.name)
        informers = SharedInformers(client)
        recorder = EventRecorder(client, "controller-manager")
        controllers = [JobController(client, informers, recorder, sync_batch_period=0.2),
                       GarbageCollector(client, informers, recorder)]
        tasks: list[asyncio.Task[Any]] = []
        problems: list[str] = []
        try:
            await node.start()
            await _wait(lambda: _node_ready(client), 60, "node Ready", node)
            tasks = [asyncio.create_task(c.run(2)) for c in controllers]
            tasks.append(asyncio.create_task(Scheduler(client).run()))
            await informers.start_all()
            yield E2E(srv, client, node, base)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await informers.stop_all()
            await recorder.close(1.0)
            problems = await node.cleanup()
            await client.close()
            if problems:
                print(node.log_tail())
    assert not problems, "cleanup left things behind:\n" + "\n".join(problems)


async def _node_ready(client: Client) -> bool:
    try:
        n = await client.get(Node, "batch-node")
    except NotFound:
        return False
    return any(c.type == "Ready" and c.status == "True"
               for c in (n.status.conditions if n.status else None) or [])


async def _wait(check: Callable[[], Any], timeout: float, what: str,
                node: KubeletNode | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n" + (node.log_tail() if node else ""))


async def _kubectl(e: E2E, *args: str, binary: str = KUBECTL,
                   timeout: float = 60) -> subprocess.CompletedProcess[str]:
    proc = await asyncio.create_subprocess_exec(
        binary, *args, env={**os.environ, "KUBECONFIG": str(e.srv.kubeconfig_path)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return subprocess.CompletedProcess(args, proc.returncode or 0, out.decode(), err.decode())


async def test_job_of_five_completions_two_at_a_time(e2e: E2E) -> None:
    manifest = e2e.base / "five.yaml"
    manifest.write_text(JOB.format(image=IMAGE))
    applied = await _kubectl(e2e, "apply", "-f", str(manifest))
    assert applied.returncode == 0 and applied.stdout == "job.batch/five created\n", applied.stderr
    job = await e2e.client.get(Job, "five", "default")
    async with PodWatch(e2e.client, f"batch.kubernetes.io/controller-uid={job.metadata.uid}") as watch:
        watch.checks.append(lambda active: f"{len(active)} active" if len(active) > 2 else None)
        waited = await _kubectl(e2e, "wait", "--for=condition=complete", "job/five",
                                "--timeout=150s", timeout=160)
        assert waited.returncode == 0, waited.stderr + e2e.node.log_tail()
        assert waited.stdout == "job.batch/five condition met\n"
    assert watch.violations == []
    job = await e2e.client.get(Job, "five", "default")
    assert job.status is not None and job.status.succeeded == 5 and not job.status.failed
    pods = (await e2e.client.list(Pod, "default", label_selector="job-name=five")).items
    assert len(pods) == 5
    for p in pods:
        assert p.status is not None and p.status.phase == "Succeeded"
        cs = (p.status.container_statuses or [])[0]
        assert cs.state and cs.state.terminated and cs.state.terminated.exit_code == 0
        assert (cs.container_id or "").startswith("containerd://")
        assert "batch.kubernetes.io/job-tracking" not in (p.metadata.finalizers or [])
    logs = await _kubectl(e2e, "logs", pods[0].name)
    assert logs.stdout == f"working on {pods[0].name}\ndone\n", logs.stderr
    for binary in (KUBECTL, PYKUBECTL):
        got = await _kubectl(e2e, "get", "job", "five", binary=binary)
        header, row = got.stdout.splitlines()
        assert header.split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
        assert row.split()[:3] == ["five", "Complete", "5/5"], got.stdout
    deleted = await _kubectl(e2e, "delete", "job", "five")
    assert deleted.returncode == 0, deleted.stderr

    async def pods_gone() -> bool:
        return not (await e2e.client.list(Pod, "default", label_selector="job-name=five")).items
    await _wait(pods_gone, 60, "the Job's pods deleted with it", e2e.node)


async def test_indexed_job_reads_its_completion_index(e2e: E2E) -> None:
    manifest = e2e.base / "shards.yaml"
    manifest.write_text(INDEXED.format(image=IMAGE))
    created = await _kubectl(e2e, "create", "-f", str(manifest), binary=PYKUBECTL)
    assert created.returncode == 0 and created.stdout == "job.batch/shards created\n", created.stderr
    waited = await _kubectl(e2e, "wait", "--for=condition=complete", "job/shards",
                            "--timeout=120s", timeout=130)
    assert waited.returncode == 0, waited.stderr + e2e.node.log_tail()
    job = await e2e.client.get(Job, "shards", "default")
    assert job.status is not None and job.status.completed_indexes == "0-2"
    pods = (await e2e.client.list(Pod, "default", label_selector="job-name=shards")).items
    lines = set()
    for p in pods:
        index = (p.metadata.annotations or {})["batch.kubernetes.io/job-completion-index"]
        logs = await _kubectl(e2e, "logs", p.name)
        assert logs.stdout == f"shard {index} of 3 on shards-{index}\n", logs.stderr
        lines.add(logs.stdout)
    assert len(lines) == 3
