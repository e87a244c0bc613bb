"""create, delete, scale, label and annotate against the in-process apiserver: exact
success lines, exact error lines, exit codes, and what reaches the server."""
from __future__ import annotations

import asyncio
import io
from typing import Any, Callable

import pytest

from api.resources import resolve
from client.errors import NotFound
from client.rest import Client
from kubectl_support import nginx, printed
from tests.support.waits import served, until_served

CM = resolve("configmaps")
POD = resolve("pods")


def pod(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


# ---------------------------------------------------------------- create
async def test_create_from_file_and_already_exists(kubectl: Any, manifest: Callable[..., str]) -> None:
    path = manifest("nginx.yaml", nginx())
    r = await kubectl("create", "-f", path)
    assert (r.code, r.lines, r.err) == (0, ["deployment.apps/nginx-deployment created",
                                            "service/my-nginx-svc created"], "")
    r = await kubectl("create", "-f", path)
    assert r.code == 1 and r.out == ""
    assert r.err == (f'Error from server (AlreadyExists): error when creating "{path}": '
                     'deployments.apps "nginx-deployment" already exists\n'
                     f'Error from server (AlreadyExists): error when creating "{path}": '
                     'services "my-nginx-svc" already exists\n')


async def test_create_generators(kubectl: Any, api: Client) -> None:
    assert (await kubectl("create", "namespace", "team")).lines == ["namespace/team created"]
    r = await kubectl("create", "deployment", "web", "--image=nginx:1.25", "--replicas=3", "-n", "team")
    assert r.lines == ["deployment.apps/web created"]
    d = await api.get(resolve("deploy"), "web", "team")
    assert d["spec"]["replicas"] == 3
    assert d["spec"]["template"]["spec"]["containers"][0]["name"] == "nginx"
    r = await kubectl("create", "cm", "settings", "--from-literal=a=1", "--from-literal=b=two")
    assert r.lines == ["configmap/settings created"]
    assert (await api.get(CM, "settings", "default"))["data"] == {"a": "1", "b": "two"}
    r = await kubectl("create", "namespace", "team")
    assert (r.code, r.err) == (1, 'Error from server (AlreadyExists): namespaces "team" already exists\n')
    r = await kubectl("create", "deployment", "x", "--image=busybox", "--dry-run=client", "-o", "name")
    assert r.lines == ["deployment.apps/x"]
    with pytest.raises(NotFound):
        await api.get(resolve("deploy"), "x", "default")


async def test_create_save_config_then_apply_is_unchanged(kubectl: Any, manifest: Callable[..., str]) -> None:
    path = manifest("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: '1'\n")
    assert (await kubectl("create", "-f", path, "--save-config")).lines == ["configmap/c created"]
    r = await kubectl("apply", "-f", path)
    assert (r.lines, r.err) == (["configmap/c unchanged"], "")


# ---------------------------------------------------------------- delete
async def test_delete_by_name_file_label_and_all(kubectl: Any, manifest: Callable[..., str], api: Client) -> None:
    for n in ("a", "b", "c", "d"):
        await kubectl("create", "configmap", n)
    await kubectl("label", "cm", "c", "d", "app=x")
    r = await kubectl("delete", "cm", "a")
    assert (r.code, r.lines) == (0, ['configmap "a" deleted from default namespace'])
    r = await kubectl("delete", "cm", "-l", "app=x")
    assert r.lines == ['configmap "c" deleted from default namespace', 'configmap "d" deleted from default namespace']
    r = await kubectl("delete", "cm", "-l", "app=x")
    assert (r.code, r.lines) == (0, ["No resources found"])
    path = manifest("b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n")
    assert (await kubectl("delete", "-f", path)).lines == ['configmap "b" deleted from default namespace']
    r = await kubectl("delete", "-f", path)
    assert (r.code, r.err) == (1, f'Error from server (NotFound): error when deleting "{path}": configmaps "b" not found\n')
    await kubectl("create", "configmap", "e")
    r = await kubectl("delete", "cm", "--all")
    assert 'configmap "e" deleted from default namespace' in r.lines
    assert (await api.list(CM, "default")).items == []


async def test_delete_missing_and_cluster_scoped(kubectl: Any) -> None:
    r = await kubectl("delete", "deploy", "nope")
    assert (r.code, r.out, r.err) == (1, "", 'Error from server (NotFound): deployments.apps "nope" not found\n')
    assert (await kubectl("delete", "deploy", "nope", "--ignore-not-found")).code == 0
    await kubectl("create", "configmap", "a")
    r = await kubectl("delete", "cm", "nope", "a")
    assert (r.code, r.lines, r.err) == (1, ['configmap "a" deleted from default namespace'],
                                        'Error from server (NotFound): configmaps "nope" not found\n')


async def test_cascade_and_grace_period_reach_the_server(kubectl: Any, api: Client) -> None:
    await kubectl("create", "configmap", "kept")
    r = await kubectl("delete", "cm", "kept", "--cascade=orphan", "--wait=false")
    assert r.lines == ['configmap "kept" deleted from default namespace']
    cm = await api.get(CM, "kept", "default")     # held by the orphan finalizer (no GC here)
    assert cm["metadata"]["finalizers"] == ["orphan"] and cm["metadata"].get("deletionTimestamp")

    await api.create(pod("graceful"))
    await api.bind({"metadata": {"name": "graceful", "namespace": "default"}}, "n1")
    r = await kubectl("delete", "pod", "graceful", "--grace-period=20", "--wait=false")
    assert r.lines == ['pod "graceful" deleted from default namespace']
    p = await api.get(POD, "graceful", "default")
    assert p["metadata"]["deletionGracePeriodSeconds"] == 20

    r = await kubectl("delete", "pod", "graceful", "--force")
    assert r.lines == ['pod "graceful" force deleted from default namespace']
    assert r.err.startswith("Warning: Immediate deletion does not wait for confirmation")
    with pytest.raises(NotFound):
        await api.get(POD, "graceful", "default")


async def test_delete_waits_until_the_object_is_gone(kubectl: Any, api: Client) -> None:
    await kubectl("create", "configmap", "slow")
    await api.patch(CM, "slow", {"metadata": {"finalizers": ["example.com/hold"]}}, "default")
    out = io.StringIO()
    gets = await served(api, "GET", "configmaps")
    task = asyncio.create_task(kubectl("delete", "cm", "slow", stdout=out))
    await printed(out, "deleted")
    await until_served(api, "GET", "configmaps", gets + 3)    # it polled, and found it still there
    assert not task.done()                       # still waiting: the finalizer holds it
    await api.patch(CM, "slow", {"metadata": {"finalizers": None}}, "default")
    r = await asyncio.wait_for(task, 10)
    assert (r.code, r.lines) == (0, ['configmap "slow" deleted from default namespace'])


async def test_delete_timeout(kubectl: Any, api: Client) -> None:
    await kubectl("create", "configmap", "stuck")
    await api.patch(CM, "stuck", {"metadata": {"finalizers": ["example.com/hold"]}}, "default")
    r = await kubectl("delete", "cm", "stuck", "--timeout=300ms")
    assert r.code == 1
    assert r.err == "error: timed out waiting for the condition on configmaps/stuck\n"
    await api.patch(CM, "stuck", {"metadata": {"finalizers": None}}, "default")


# ---------------------------------------------------------------- scale
async def test_scale(kubectl: Any, manifest: Callable[..., str], api: Client) -> None:
    await kubectl("apply", "-f", manifest("nginx.yaml", nginx()))
    r = await kubectl("scale", "deploy/nginx-deployment", "--replicas=5")
    assert (r.code, r.lines) == (0, ["deployment.apps/nginx-deployment scaled"])
    assert (await api.get(resolve("deploy"), "nginx-deployment", "default"))["spec"]["replicas"] == 5
    r = await kubectl("scale", "deployment", "nginx-deployment", "--replicas=1", "--current-replicas=2")
    assert (r.code, r.err) == (1, "error: Expected replicas to be 2, was 5\n")
    r = await kubectl("scale", "deploy", "nope", "--replicas=1")
    assert (r.code, r.err) == (1, 'Error from server (NotFound): deployments.apps "nope" not found\n')
    r = await kubectl("scale", "deploy/nginx-deployment", "--replicas=-1")
    assert r.code == 1


# ---------------------------------------------------------------- label / annotate
async def test_label_and_annotate(kubectl: Any, api: Client) -> None:
    await kubectl("create", "configmap", "c")
    steps = [
        (("label", "cm", "c", "app=web"), 0, "configmap/c labeled\n", ""),
        (("label", "cm", "c", "app=web"), 0, "configmap/c not labeled\n", ""),
        (("label", "cm", "c", "app=db"), 1, "", "error: 'app' already has a value (web), and --overwrite is false\n"),
        (("label", "cm", "c", "app=db", "--overwrite"), 0, "configmap/c labeled\n", ""),
        (("label", "cm/c", "app-"), 0, "configmap/c unlabeled\n", ""),
        (("annotate", "cm", "c", "note=hi"), 0, "configmap/c annotated\n", ""),
        (("annotate", "cm", "c", "note=bye"), 1, "",
         "error: --overwrite is false but found the following declared annotation(s): 'note' already has a value (hi)\n"),
        (("label", "cm", "nope", "a=b"), 1, "", 'Error from server (NotFound): configmaps "nope" not found\n'),
    ]
    for args, code, out, err in steps:
        r = await kubectl(*args)
        assert (r.code, r.out, r.err) == (code, out, err), args
    meta = (await api.get(CM, "c", "default"))["metadata"]
    assert "app" not in (meta.get("labels") or {}) and meta["annotations"]["note"] == "hi"
    await kubectl("label", "cm", "c", "x=1", "y=2")
    assert (await kubectl("label", "cm", "c", "--list")).lines == ["x=1", "y=2"]
