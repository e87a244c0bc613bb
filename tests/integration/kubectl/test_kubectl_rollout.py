"""`pykubectl rollout` against the in-process apiserver. There is no Deployment controller
here, so each test plays it: ReplicaSets owned by the Deployment carry the
`deployment.kubernetes.io/revision` annotation, and `rollout status` sees status updates
the test writes through the status subresource while the command runs."""
from __future__ import annotations

import asyncio
import copy
import io
from typing import Any, Callable

from api.resources import resolve
from client.rest import Client
from kubectl_support import nginx, printed

DEPLOY, RS = resolve("deployments"), resolve("replicasets")
# kubectl warns before every undo of an object `apply` manages (these tests apply theirs)
APPLIED = ("Warning: resource deployments/nginx-deployment was previously managed with 'kubectl apply'. "
           "Rolling back will not update the kubectl.kubernetes.io/last-applied-configuration annotation, "
           "which may cause unexpected behavior on future 'kubectl apply' operations. Consider using "
           "'kubectl apply' with your previous configuration file instead.\n")


async def make_history(api: Client, images: list[str], causes: dict[int, str] | None = None) -> dict[str, Any]:
    """ReplicaSets for revisions 1..n of nginx-deployment (the last one current)."""
    d = await api.get(DEPLOY, "nginx-deployment", "default")
    for rev, image in enumerate(images, 1):
        tpl = copy.deepcopy(d["spec"]["template"])
        tpl["spec"]["containers"][0]["image"] = image
        tpl["metadata"]["labels"]["pod-template-hash"] = f"h{rev}"
        ann = {"deployment.kubernetes.io/revision": str(rev)}
        if causes and rev in causes:
            ann["kubernetes.io/change-cause"] = causes[rev]
        await api.create({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"nginx-deployment-h{rev}", "namespace": "default",
                         "labels": tpl["metadata"]["labels"], "annotations": ann,
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                              "name": "nginx-deployment", "uid": d["metadata"]["uid"],
                                              "controller": True, "blockOwnerDeletion": True}]},
            "spec": {"replicas": d["spec"]["replicas"] if rev == len(images) else 0,
                     "selector": {"matchLabels": {"app": "nginx", "pod-template-hash": f"h{rev}"}},
                     "template": tpl}})
    # what the controller records on the Deployment
    return await api.patch(DEPLOY, "nginx-deployment",
                           {"metadata": {"annotations": {"deployment.kubernetes.io/revision": str(len(images))}}},
                           "default")


async def deployed(kubectl: Any, manifest: Callable[..., str], image: str = "nginx:1.16.1") -> None:
    r = await kubectl("apply", "-f", manifest("nginx.yaml", nginx(image=image)))
    assert r.code == 0, r.err


async def test_history(kubectl: Any, manifest: Callable[..., str], api: Client) -> None:
    await deployed(kubectl, manifest)
    await make_history(api, ["nginx:1.14.2", "nginx:1.16.1"], {2: "kubectl apply --record"})
    r = await kubectl("rollout", "history", "deployment/nginx-deployment")
    assert (r.code, r.out) == (0, "deployment.apps/nginx-deployment \nREVISION  CHANGE-CAUSE\n"
                                  "1         <none>\n2         kubectl apply --record\n\n")
    r = await kubectl("rollout", "history", "deploy/nginx-deployment", "--revision=1")
    assert r.lines[:4] == ["deployment.apps/nginx-deployment with revision #1", "Pod Template:",
                           "  Labels:\tapp=nginx", "\tpod-template-hash=h1"]
    assert "    Image:\tnginx:1.14.2" in r.lines
    r = await kubectl("rollout", "history", "deploy/nginx-deployment", "--revision=7")
    assert (r.code, r.err) == (1, "error: unable to find the specified revision\n")


async def test_undo_to_previous_and_to_revision(kubectl: Any, manifest: Callable[..., str], api: Client) -> None:
    await deployed(kubectl, manifest, image="nginx:1.17")
    await make_history(api, ["nginx:1.14.2", "nginx:1.16.1", "nginx:1.17"])
    r = await kubectl("rollout", "undo", "deployment/nginx-deployment")
    assert (r.code, r.lines) == (0, ["deployment.apps/nginx-deployment rolled back"])
    d = await api.get(DEPLOY, "nginx-deployment", "default")
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.16.1"
    assert "pod-template-hash" not in d["spec"]["template"]["metadata"]["labels"]
    r = await kubectl("rollout", "undo", "deployment/nginx-deployment", "--to-revision=1")
    assert r.lines == ["deployment.apps/nginx-deployment rolled back"]
    d = await api.get(DEPLOY, "nginx-deployment", "default")
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.14.2"
    r = await kubectl("rollout", "undo", "deployment/nginx-deployment", "--to-revision=1")
    assert r.lines == ["deployment.apps/nginx-deployment skipped rollback "
                       "(current template already matches revision 1)"]
    r = await kubectl("rollout", "undo", "deployment/nginx-deployment", "--to-revision=9")
    assert (r.code, r.err) == (1, APPLIED + "error: unable to find specified revision 9 in history\n")


async def test_undo_without_history(kubectl: Any, manifest: Callable[..., str]) -> None:
    await deployed(kubectl, manifest)
    r = await kubectl("rollout", "undo", "deploy/nginx-deployment")
    assert (r.code, r.err) == (1, APPLIED + 'error: no rollout history found for deployment "nginx-deployment"\n')


async def test_restart_pause_resume(kubectl: Any, manifest: Callable[..., str], api: Client) -> None:
    await deployed(kubectl, manifest)
    r = await kubectl("rollout", "restart", "deploy/nginx-deployment")
    assert r.lines == ["deployment.apps/nginx-deployment restarted"]
    d = await api.get(DEPLOY, "nginx-deployment", "default")
    assert "kubectl.kubernetes.io/restartedAt" in d["spec"]["template"]["metadata"]["annotations"]
    assert (await kubectl("rollout", "pause", "deploy/nginx-deployment")).lines == \
        ["deployment.apps/nginx-deployment paused"]
    assert (await api.get(DEPLOY, "nginx-deployment", "default"))["spec"]["paused"] is True
    r = await kubectl("rollout", "pause", "deploy/nginx-deployment")
    assert (r.code, r.err) == (1, 'error: deployments.apps "nginx-deployment" is already paused\n')
    r = await kubectl("rollout", "restart", "deploy/nginx-deployment")
    assert r.err == ('error: deployments.apps "nginx-deployment" can\'t restart paused deployment '
                     "(run rollout resume first)\n")
    r = await kubectl("rollout", "undo", "deploy/nginx-deployment")
    assert r.err == (APPLIED + "error: you cannot rollback a paused deployment; resume it first with "
                     "'pykubectl rollout resume' and try again\n")
    assert (await kubectl("rollout", "resume", "deploy/nginx-deployment")).lines == \
        ["deployment.apps/nginx-deployment resumed"]
    r = await kubectl("rollout", "resume", "deploy/nginx-deployment")
    assert r.err == 'error: deployments.apps "nginx-deployment" is not paused\n'


async def test_status_shows_progress_as_it_happens(kubectl: Any, manifest: Callable[..., str],
                                                   api: Client) -> None:
    await deployed(kubectl, manifest)
    d = await api.get(DEPLOY, "nginx-deployment", "default")
    gen = d["metadata"]["generation"]
    out = io.StringIO()
    task = asyncio.create_task(kubectl("rollout", "status", "deployment/nginx-deployment",
                                       "--timeout=20s", stdout=out))
    await printed(out, "Waiting for deployment spec update to be observed...")
    steps = [
        ({"replicas": 1, "updatedReplicas": 1, "availableReplicas": 0}, "1 out of 2 new replicas have been updated"),
        ({"replicas": 3, "updatedReplicas": 2, "availableReplicas": 1}, "1 old replicas are pending termination"),
        ({"replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}, "1 of 2 updated replicas are available"),
        ({"replicas": 2, "updatedReplicas": 2, "availableReplicas": 2, "readyReplicas": 2}, "successfully rolled out"),
    ]
    for status, text in steps:
        cur = await api.get(DEPLOY, "nginx-deployment", "default")
        cur["status"] = {"observedGeneration": gen, **status}
        await api.update_status(cur)
        await printed(out, text)
    r = await asyncio.wait_for(task, 10)
    assert r.code == 0
    assert r.lines == [
        "Waiting for deployment spec update to be observed...",
        'Waiting for deployment "nginx-deployment" rollout to finish: 1 out of 2 new replicas have been updated...',
        'Waiting for deployment "nginx-deployment" rollout to finish: 1 old replicas are pending termination...',
        'Waiting for deployment "nginx-deployment" rollout to finish: 1 of 2 updated replicas are available...',
        'deployment "nginx-deployment" successfully rolled out',
    ]
    r = await kubectl("rollout", "status", "deployment/nginx-deployment")
    assert r.lines == ['deployment "nginx-deployment" successfully rolled out']


async def test_status_timeout_and_no_watch(kubectl: Any, manifest: Callable[..., str]) -> None:
    await deployed(kubectl, manifest)
    r = await kubectl("rollout", "status", "deploy/nginx-deployment", "--watch=false")
    assert (r.code, r.lines) == (0, ["Waiting for deployment spec update to be observed..."])
    r = await kubectl("rollout", "status", "deploy/nginx-deployment", "--timeout=300ms")
    assert (r.code, r.err) == (1, "error: timed out waiting for the condition\n")
    r = await kubectl("rollout", "status", "svc/my-nginx-svc")
    assert (r.code, r.err) == (1, "error: no status viewer has been implemented for Service\n")
