"""Backoff limit per index on hollow nodes, as the docs' job-backoff-limit-per-index example
runs it: `exit $(JOB_COMPLETION_INDEX)` fails every index but 0; each index gets one retry
(its second pod annotated with the failure count), then is listed in `failedIndexes`, and the
Job fails with FailedIndexes, or with MaxFailedIndexesExceeded as soon as more indexes
failed than `maxFailedIndexes` allows. Applied with the real kubectl, which validates it."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api.models import Pod
from client.rest import Client
from tests.integration.apiserver.test_real_clients import kubectl
from tests.integration.controllers.test_job import job_condition
from tests.support.apps_cluster import eventually
from tests.support.batch_cluster import BatchCluster

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  backoffLimitPerIndex: 1
{extra}  template:
    spec:
      restartPolicy: Never
      containers:
      - name: example
        image: busybox
        command: ["sh", "-c", "exit $(JOB_COMPLETION_INDEX)"]
"""


@pytest.fixture
async def cluster(kube: Client, tmp_path: Path) -> AsyncIterator[BatchCluster]:
    async with BatchCluster(kube, tmp_path / "nodes", nodes=2) as c:
        yield c


async def _apply(apiserver: object, tmp_path: Path, name: str, extra: str = "") -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(JOB.format(name=name, extra=extra))
    code, out, err = await kubectl(apiserver.kubeconfig_path, "apply", "-f", str(path))  # type: ignore[attr-defined]
    assert (code, out) == (0, f"job.batch/{name} created\n"), err


async def test_each_index_retries_once_then_the_job_fails_with_failed_indexes(
        apiserver: object, kube: Client, cluster: BatchCluster, tmp_path: Path) -> None:
    await _apply(apiserver, tmp_path, "per-index")
    job = await eventually(lambda: job_condition(kube, "per-index", "Failed"), timeout=60, what="Job Failed")
    st = job.status
    assert st is not None and job.spec is not None
    assert job.spec.backoff_limit == 2147483647
    assert (st.completed_indexes, st.failed_indexes, st.succeeded, st.failed) == ("0", "1,2", 1, 4)
    assert [(c.type, c.reason) for c in st.conditions or []] == [("FailureTarget", "FailedIndexes"),
                                                                  ("Failed", "FailedIndexes")]
    pods = (await kube.list(Pod, "default", label_selector="job-name=per-index")).items
    counts = sorted(((p.metadata.annotations or {}).get("batch.kubernetes.io/job-completion-index"),
                     (p.metadata.annotations or {}).get("batch.kubernetes.io/job-index-failure-count"))
                    for p in pods)
    assert counts == [("0", "0"), ("1", "0"), ("1", "1"), ("2", "0"), ("2", "1")]


async def test_max_failed_indexes_ends_the_job_early(apiserver: object, kube: Client, cluster: BatchCluster,
                                                     tmp_path: Path) -> None:
    await _apply(apiserver, tmp_path, "fail-fast", "  maxFailedIndexes: 1\n")
    job = await eventually(lambda: job_condition(kube, "fail-fast", "Failed"), timeout=60, what="Job Failed")
    st = job.status
    assert st is not None
    assert [(c.type, c.reason) for c in st.conditions or []][-1] == ("Failed", "MaxFailedIndexesExceeded")
    assert st.failed_indexes == "1,2"


async def test_per_index_backoff_needs_indexed_completion(apiserver: object, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(JOB.format(name="bad", extra="").replace("  completionMode: Indexed\n", ""))
    code, _, err = await kubectl(apiserver.kubeconfig_path, "apply", "-f", str(path))  # type: ignore[attr-defined]
    assert code == 1 and "spec.backoffLimitPerIndex: Forbidden: requires indexed completion mode" in err, err
