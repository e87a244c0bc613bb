"""DaemonSets, StatefulSets and storage with the real kubectl and with pykubectl against the
same apiserver, hollow nodes and controllers: `get` columns (ds, sts, pvc, pv, sc,
controllerrevisions), `rollout status|history|undo` for ds and sts, each printing what
kubectl prints and exiting alike."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.models import DaemonSet, StatefulSet
from client.rest import Client
from tests.integration.kubectl.conftest import KubectlFn
from tests.integration.kubectl.test_kubectl_batch import both, real
from tests.support.apps_cluster import eventually
from tests.support.workloads_cluster import WorkloadsCluster

DS = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels:
      app: agent
  template:
    metadata:
      labels:
        app: agent
    spec:
      containers:
      - name: agent
        image: agent:1
"""
STS = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: ["ReadWriteOnce"]
      resources:
        requests:
          storage: 1Gi
"""


@pytest.fixture
async def cluster(api: Client, tmp_path: Path) -> AsyncIterator[WorkloadsCluster]:
    async with WorkloadsCluster(api, tmp_path / "nodes", nodes=2, local_path=True, controllers=(
            "daemonset", "statefulset", "persistentvolume-binder", "pvc-protection", "pv-protection")) as c:
        yield c


async def ds_rolled(api: Client, image: str) -> bool:
    ds = await api.get(DaemonSet, "agent", "default")
    st = ds.status
    return st is not None and st.observed_generation == ds.metadata.generation and \
        st.updated_number_scheduled == 2 and st.number_available == 2 and \
        ds.spec.template.spec.containers[0].image == image  # type: ignore[union-attr]


async def test_daemonset_get_and_rollout(kubectl: KubectlFn, kubeconfig_path: str, api: Client,
                                         cluster: WorkloadsCluster, tmp_path: Path) -> None:
    def run(*a: str) -> Any:
        return both(kubectl, kubeconfig_path, *a)
    (tmp_path / "ds.yaml").write_text(DS)
    assert (await real(kubeconfig_path, "apply", "-f", str(tmp_path / "ds.yaml"))).out == \
        "daemonset.apps/agent created\n"
    await eventually(lambda: ds_rolled(api, "agent:1"), timeout=30, what="the first rollout")
    r = await run("get", "ds")
    assert r.lines[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE",
                                  "NODE", "SELECTOR", "AGE"]
    assert r.lines[1].split()[:7] == ["agent", "2", "2", "2", "2", "2", "<none>"]
    await run("get", "ds", "-o", "wide")
    r = await run("rollout", "status", "ds/agent")
    assert r.out == 'daemon set "agent" successfully rolled out\n'
    assert (await real(kubeconfig_path, "set", "image", "ds/agent", "agent=agent:2")).code == 0
    await eventually(lambda: ds_rolled(api, "agent:2"), timeout=30, what="the rollout to agent:2")
    r = await run("rollout", "history", "daemonset/agent")
    assert r.out == "daemonset.apps/agent \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n"
    r = await run("rollout", "history", "ds/agent", "--revision=1")
    assert "    Image:\tagent:1" in r.lines
    await run("rollout", "history", "ds/agent", "--revision=9")
    await run("get", "controllerrevisions")
    r = await real(kubeconfig_path, "rollout", "undo", "ds/agent")
    assert (r.code, r.out) == (0, "daemonset.apps/agent rolled back\n")
    await eventually(lambda: ds_rolled(api, "agent:1"), timeout=30, what="the rollback to agent:1")
    r = await run("rollout", "undo", "ds/agent", "--to-revision=3")
    assert r.out == "daemonset.apps/agent skipped rollback (current template already matches revision 3)\n"
    r = await kubectl("rollout", "undo", "ds/agent")
    assert (r.code, r.out) == (0, "daemonset.apps/agent rolled back\n")
    await eventually(lambda: ds_rolled(api, "agent:2"), timeout=30, what="pykubectl's rollback to agent:2")
    await run("rollout", "undo", "ds/agent", "--to-revision=9")
    await run("rollout", "undo", "ds/agent", "--dry-run=client")
    await run("rollout", "status", "ds/agent")
    await run("rollout", "pause", "ds/agent")
    await run("rollout", "resume", "ds/agent")


async def test_statefulset_with_claims_get_and_rollout(kubectl: KubectlFn, kubeconfig_path: str,
                                                       api: Client, cluster: WorkloadsCluster,
                                                       tmp_path: Path) -> None:
    def run(*a: str) -> Any:
        return both(kubectl, kubeconfig_path, *a)
    (tmp_path / "sts.yaml").write_text(STS)
    assert (await kubectl("apply", "-f", str(tmp_path / "sts.yaml"))).out == "statefulset.apps/web created\n"

    async def ready() -> bool:
        sts = await api.get(StatefulSet, "web", "default")
        return bool(sts.status and sts.status.ready_replicas == 2 and
                    sts.status.observed_generation == sts.metadata.generation)
    await eventually(ready, timeout=60, what="2 ready replicas")
    r = await run("get", "sts")
    assert r.lines[0].split() == ["NAME", "READY", "AGE"] and r.lines[1].split()[:2] == ["web", "2/2"]
    r = await run("get", "pvc")
    assert r.lines[0].split() == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS", "MODES", "STORAGECLASS",
                                  "VOLUMEATTRIBUTESCLASS", "AGE"]
    assert [ln.split()[:2] for ln in r.lines[1:]] == [["www-web-0", "Bound"], ["www-web-1", "Bound"]]
    r = await run("get", "pv")
    assert r.lines[0].split()[:5] == ["NAME", "CAPACITY", "ACCESS", "MODES", "RECLAIM"]
    assert all(ln.split()[1:6] == ["1Gi", "RWO", "Delete", "Bound", ln.split()[5]] for ln in r.lines[1:])
    r = await run("get", "sc")
    assert r.lines[1].split() == ["local-path", "(default)", "rancher.io/local-path", "Delete",
                                  "WaitForFirstConsumer", "false", r.lines[1].split()[-1]]
    await run("get", "pvc,pv", "-o", "wide")
    r = await run("rollout", "status", "sts/web")
    assert r.out == "partitioned roll out complete: 2 new pods have been updated...\n"
    await run("rollout", "history", "sts/web")
    await real(kubeconfig_path, "set", "image", "sts/web", "nginx=nginx:2")

    async def updated() -> bool:
        sts = await api.get(StatefulSet, "web", "default")
        st = sts.status
        return bool(st and st.updated_replicas == 2 and st.ready_replicas == 2 and
                    st.current_revision == st.update_revision)
    await eventually(updated, timeout=60, what="the rolling update")
    r = await run("rollout", "history", "statefulset/web")
    assert r.out == "statefulset.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n"
    r = await run("rollout", "undo", "sts/web", "--to-revision=2")
    assert r.out.endswith("(current template already matches revision 2)\n")


async def test_endpointslices_and_pdbs_get(kubectl: KubectlFn, kubeconfig_path: str, api: Client,
                                           tmp_path: Path) -> None:
    from api.models import EndpointSlice, PodDisruptionBudget, Service
    async with WorkloadsCluster(api, tmp_path / "n", nodes=1, controllers=(
            "daemonset", "endpointslice", "disruption")):
        await api.create(Service.from_dict({"metadata": {"name": "agent", "namespace": "default"},
                                            "spec": {"selector": {"app": "agent"}, "ports": [{"port": 80}]}}))
        (tmp_path / "ds.yaml").write_text(DS)
        await kubectl("apply", "-f", str(tmp_path / "ds.yaml"))
        await api.create(PodDisruptionBudget.from_dict({"metadata": {"name": "agent", "namespace": "default"},
                                                        "spec": {"maxUnavailable": "50%",
                                                                 "selector": {"matchLabels": {"app": "agent"}}}}))

        async def sliced() -> bool:
            items = (await api.list(EndpointSlice, "default", label_selector="kubernetes.io/service-name=agent")).items
            return bool(items and items[0].endpoints)
        await eventually(sliced, timeout=30, what="the agent's slice")
        r = await both(kubectl, kubeconfig_path, "get", "endpointslices")
        assert r.lines[0].split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
        assert r.lines[1].split()[1:3] == ["IPv4", "80"]
        await both(kubectl, kubeconfig_path, "get", "endpointslices", "-o", "wide")
        await both(kubectl, kubeconfig_path, "describe", "svc", "agent")
        r = await both(kubectl, kubeconfig_path, "describe", "svc", "kubernetes")
        assert any(ln.startswith("Endpoints:") and ":" in ln.split(None, 1)[1] for ln in r.lines), r.out
        r = await both(kubectl, kubeconfig_path, "get", "pdb")
        assert r.lines[0].split() == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]
