"""A StatefulSet with storage end to end on a real node, as root: a kubelet on its own
containerd and CNI (real busybox containers), the in-process apiserver, scheduler,
StatefulSet, PersistentVolume, protection, EndpointSlice and garbage-collector controllers, the
node's local-path provisioner and the cluster DNS. `web` (3 replicas, OrderedReady, a 1Gi
claim per pod from volumeClaimTemplates, headless Service `nginx`) applied with the real
kubectl starts its pods in order, each bound to its own provisioned volume; every pod's
DNS name (`web-0.nginx.default.svc.cluster.local`) answers its IP; a file web-1 wrote to
its volume is still there for the web-1 made after `kubectl delete pod web-1`. Everything
the node made is cleaned up and checked, pass or fail (as in test_kubelet)."""
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

from api.meta import is_pod_ready
from api.models import EndpointSlice, Node, PersistentVolume, PersistentVolumeClaim, Pod, Service
from client import kubeconfig
from client.errors import NotFound
from client.events import EventRecorder
from client.informer import Informer
from client.rest import Client
from controllers.base import SharedInformers
from controllers.manager import FACTORIES, ControllerManagerOptions
from kubelet.dns.server import DNSServer, InformerView
from kubelet.localpath.provisioner import LocalPathProvisioner
from scheduler.scheduler import Scheduler
from tests.e2e.kubelet_node import KubeletNode
from tests.support.apps_cluster import PodWatch
from tests.support.cluster import running_apiserver
from tests.support.dns_client import udp_query
from tests.support.runtime_node import root_node_images

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.root]

KUBECTL = str(Path(sys.executable).parent / "kubectl")
PYKUBECTL = str(Path(sys.executable).parent / "pykubectl")
IMAGE = "local/busybox:1"
NODE = "sts-node"
CONTROLLERS = ("statefulset", "persistentvolume-binder", "pvc-protection", "pv-protection", "endpointslice",
               "garbagecollector")

MANIFEST = """\
apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  clusterIP: None
  selector:
    app: nginx
  ports:
  - name: web
    port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: {image}
        command: ["sh", "-c", "if [ -f /data/born ]; then echo found $(cat /data/born); else echo $(hostname) $$ > /data/born; echo wrote $(cat /data/born); fi; exec sleep 3600"]
        volumeMounts:
        - name: data
          mountPath: /data
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: ["ReadWriteOnce"]
      resources:
        requests:
          storage: 1Gi
"""


@dataclass
class E2E:
    srv: Any
    client: Client
    node: KubeletNode
    base: Path
    dns_port: int


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return root_node_images(tmp_path_factory.mktemp("sts-images"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def e2e(tmp_path_factory: pytest.TempPathFactory, images: Path) -> AsyncIterator[E2E]:
    base = tmp_path_factory.mktemp("sts-e2e")
    async with running_apiserver(base / "apiserver") as srv:
        client = Client(kubeconfig.load(srv.kubeconfig_path), component="e2e")
        node = KubeletNode(base, srv.kubeconfig_path, node_name=NODE)
        node.images_dir.mkdir(parents=True)
        for tar in images.glob("*.tar"):
            shutil.copy(tar, node.images_dir / tar.name)
        informers = SharedInformers(client)
        recorder = EventRecorder(client, "controller-manager")
        options = ControllerManagerOptions()
        controllers = [FACTORIES[n][0](client, informers, recorder, options) for n in CONTROLLERS]
        provisioner = LocalPathProvisioner(client, NODE, base / "storage")
        services, endpoints = Informer(client, Service), Informer(client, EndpointSlice)
        dns = DNSServer(InformerView(services, endpoints), "cluster.local")
        tasks: list[asyncio.Task[Any]] = []
        problems: list[str] = []
        try:
            await provisioner.ensure_default_class()
            await node.start()
            await _wait(lambda: _node_ready(client), 60, "node Ready", node)
            tasks = [asyncio.create_task(c.run(2)) for c in controllers if c is not None]
            tasks += [asyncio.create_task(Scheduler(client, volume_bind_timeout=120).run()),
                      asyncio.create_task(provisioner.run())]
            await informers.start_all()
            for inf in (services, endpoints):
                await inf.start()
                await inf.wait_synced()
            port = await dns.start("127.0.0.1", 0)
            yield E2E(srv, client, node, base, port)
        finally:
            await dns.stop()
            for inf in (services, endpoints):
                await inf.stop()
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
        n = await client.get(Node, NODE)
    except NotFound:
        return False
    return any(c.type == "Ready" and c.status == "True" for c in (n.status.conditions if n.status else None) or [])


async def _wait(check: Callable[[], Any], timeout: float, what: str, node: KubeletNode | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n" + (node.log_tail() if node else ""))


async def _kubectl(e: E2E, *args: str, binary: str = KUBECTL, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    proc = await asyncio.create_subprocess_exec(
        binary, *args, env={**os.environ, "KUBECONFIG": str(e.srv.kubeconfig_path)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return subprocess.CompletedProcess(args, proc.returncode or 0, out.decode(), err.decode())


def ordinal(name: str) -> int:
    return int(name.rsplit("-", 1)[1])


async def test_statefulset_with_claims_dns_and_data_that_outlives_a_pod(e2e: E2E) -> None:
    manifest = e2e.base / "web.yaml"
    manifest.write_text(MANIFEST.format(image=IMAGE))
    async with PodWatch(e2e.client, "app=nginx") as watch:
        def predecessors_ready(pods: list[Pod]) -> str | None:
            by_ord = {ordinal(p.name): p for p in pods}
            for k in by_ord:
                for j in range(k):
                    if j not in by_ord or not is_pod_ready(by_ord[j]):
                        return f"web-{k} exists while web-{j} is not ready"
            return None
        watch.checks.append(predecessors_ready)
        applied = await _kubectl(e2e, "apply", "-f", str(manifest))
        assert applied.returncode == 0, applied.stderr
        assert applied.stdout == "service/nginx created\nstatefulset.apps/web created\n"
        status = await _kubectl(e2e, "rollout", "status", "sts/web", "--timeout=240s", timeout=250)
        assert status.returncode == 0, status.stderr + e2e.node.log_tail()
    assert watch.violations == []
    pods = {p.name: p for p in (await e2e.client.list(Pod, "default", label_selector="app=nginx")).items}
    assert sorted(pods) == ["web-0", "web-1", "web-2"]
    claims = {c.name: c for c in (await e2e.client.list(PersistentVolumeClaim, "default")).items}
    for i in range(3):
        claim = claims[f"data-web-{i}"]
        assert claim.status and claim.status.phase == "Bound"
        pv = await e2e.client.get(PersistentVolume, claim.spec.volume_name or "")  # type: ignore[union-attr]
        assert pv.spec and pv.spec.host_path and Path(pv.spec.host_path.path).parent == e2e.base / "storage"
    for binary in (KUBECTL, PYKUBECTL):
        got = await _kubectl(e2e, "get", "pvc", binary=binary)
        assert [ln.split()[:2] for ln in got.stdout.splitlines()[1:]] == \
            [[f"data-web-{i}", "Bound"] for i in range(3)], got.stdout

    async def resolves() -> bool:
        for name, pod in pods.items():
            answer = await udp_query(e2e.dns_port, f"{name}.nginx.default.svc.cluster.local")
            if [str(r.rdata) for r in answer.rr] != [pod.status.pod_ip]:  # type: ignore[union-attr]
                return False
        return True
    await _wait(resolves, 30, "each pod's DNS name", e2e.node)

    first = await _kubectl(e2e, "logs", "web-1")
    assert first.stdout.startswith("wrote web-1 "), first.stdout + first.stderr
    born = (first.stdout.split(" ", 1)[1]).strip()
    deleted = await _kubectl(e2e, "delete", "pod", "web-1")
    assert deleted.returncode == 0 and deleted.stdout.startswith('pod "web-1" deleted'), deleted.stderr
    old_uid = pods["web-1"].metadata.uid

    async def back() -> Pod | None:
        try:
            p = await e2e.client.get(Pod, "web-1", "default")
        except NotFound:
            return None
        return p if p.metadata.uid != old_uid and is_pod_ready(p) else None
    await _wait(back, 120, "web-1 to come back", e2e.node)
    again = await _kubectl(e2e, "logs", "web-1")
    assert again.stdout == f"found {born}\n", again.stdout + again.stderr
    assert (await e2e.client.get(PersistentVolumeClaim, "data-web-1", "default")).metadata.uid == \
        claims["data-web-1"].metadata.uid
    deleted = await _kubectl(e2e, "delete", "-f", str(manifest), "--wait=true", timeout=120)
    assert deleted.returncode == 0, deleted.stderr

    async def pods_gone() -> bool:
        return not (await e2e.client.list(Pod, "default", label_selector="app=nginx")).items
    await _wait(pods_gone, 90, "the StatefulSet's pods to go", e2e.node)
    # the claims stay (whenDeleted: Retain), as their data
    assert len((await e2e.client.list(PersistentVolumeClaim, "default")).items) == 3
