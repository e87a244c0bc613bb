"""kopf's example operators, run with `kopf run --standalone` against pykube.

Each operator in operators/ is written in the spirit of one of kopf's own examples (minimal,
handlers, status and patch, timers and daemons, children). Each test does what kopf's own
end-to-end test does with its examples (tests/e2e/test_examples.py there): start the
operator, `kubectl apply` the object, wait for the handling, `kubectl delete` it, stop the
operator, then check what kopf asserts: the finalizer was added, creation and deletion were
in progress, the object was really deleted, no traceback, and every handler succeeded
exactly once and none failed. On top, each checks what its example is for, on the objects.
"""
from __future__ import annotations

import asyncio
import collections
import json
import re
from pathlib import Path
from typing import Any, Awaitable, Callable

from client import kubeconfig
from client.rest import Client
from controllers.base import SharedInformers
from controllers.garbagecollector import GarbageCollector
from tests.integration.apiserver.test_real_clients import kubectl
from tests.integration.kopf.kopf_process import OPERATORS, KopfOperator

CRD = str(OPERATORS / "crd.yaml")
OBJ = str(OPERATORS / "obj.yaml")
NAME = "kopf-example-1"


async def _crd(kc: Path) -> None:
    code, _, err = await kubectl(kc, "apply", "-f", CRD)
    assert code == 0, err
    code, _, err = await kubectl(kc, "wait", "--for", "condition=established",
                                 "crd/kopfexamples.kopf.dev", "--timeout=30s")
    assert code == 0, err


async def _get(kc: Path) -> dict[str, Any]:
    code, out, err = await kubectl(kc, "get", "kopfexample", NAME, "-o", "json")
    assert code == 0, err
    return json.loads(out)


async def run_example(apiserver: Any, tmp_path: Path, operator: str, *,
                      created: list[str], deleted: list[str],
                      meanwhile: Callable[[Path, KopfOperator], Awaitable[None]] | None = None,
                      mandatory_delete: bool = True, changing: bool = True,
                      success_counts: dict[str, int] | None = None) -> KopfOperator:
    kc = apiserver.kubeconfig_path
    await _crd(kc)
    home = tmp_path / "home"
    home.mkdir()
    op = await KopfOperator(operator, kc, home).start()
    try:
        await op.wait_for(r"Starting the watch-stream for kopfexamples\.v1\.kopf\.dev")
        code, _, err = await kubectl(kc, "apply", "-f", OBJ)
        assert code == 0, err
        for pattern in created:
            await op.wait_for(pattern)
        if meanwhile is not None:
            await meanwhile(kc, op)
        code, _, err = await kubectl(kc, "delete", "-f", OBJ, "--timeout=30s")
        assert code == 0, err
        for pattern in deleted:
            await op.wait_for(pattern)
    finally:
        exit_code = await op.stop()
    out = op.output
    assert exit_code == 0, out
    # what kopf's own e2e test asserts of every example
    if mandatory_delete:
        assert f"[default/{NAME}] Adding the finalizer" in out
        assert f"[default/{NAME}] Deletion is in progress:" in out
    if changing:
        assert f"[default/{NAME}] Creation is in progress:" in out
        assert f"[default/{NAME}] Deleted, really deleted" in out
    assert "Traceback (most recent call last):" not in out, out
    succeeded = collections.Counter(re.findall(r"'(.+?)' succeeded", out))
    succeeded.pop("login", None)        # the login activity, not a resource handler
    if success_counts is not None:
        assert {n: succeeded[n] for n in success_counts} == success_counts, out
    else:
        assert set(succeeded.values()) == {1}, out
    failed = re.findall(r"'(.+?)' failed (?:permanently|with an exception. Will stop.)", out)
    assert not failed, out
    return op


async def _wait(kc: Path, jsonpath: str, value: str) -> None:
    """`kubectl wait` until the object's field has the value."""
    code, _, err = await kubectl(kc, "wait", f"kopfexample/{NAME}", f"--for=jsonpath={jsonpath}={value}",
                                 "--timeout=30s")
    assert code == 0, err


async def test_minimal(apiserver, tmp_path: Path) -> None:
    async def meanwhile(kc: Path, op: KopfOperator) -> None:
        await _wait(kc, "{.status.create_fn.message}", "hello world")
        obj = await _get(kc)
        assert obj["status"]["create_fn"] == {"message": "hello world"}
        code, out, err = await kubectl(kc, "get", "kopfexamples")
        assert code == 0, err
        assert out.split("\n")[0].split() == ["NAME", "DURATION", "CHILDREN", "MESSAGE"]
        assert out.split("\n")[1].split() == [NAME, "1m", "hello", "world"]

    op = await run_example(apiserver, tmp_path, "minimal.py", mandatory_delete=False,
                           created=[r"Handler 'create_fn' succeeded", r"Patching|patching the status"],
                           deleted=[r"Deleted, really deleted"], meanwhile=meanwhile)
    assert "Creating from spec: {'duration': '1m', 'field': 'value', 'items': ['item1', 'item2']}" in op.output


async def test_handlers_on_create_update_field_delete(apiserver, tmp_path: Path) -> None:
    async def meanwhile(kc: Path, op: KopfOperator) -> None:
        code, _, err = await kubectl(kc, "patch", "kopfexample", NAME, "--type=merge",
                                     "-p", '{"spec":{"field":"changed"}}')
        assert code == 0, err
        await op.wait_for(r"Handler 'field_fn/spec.field' succeeded")
        await op.wait_for(r"Handler 'update_fn' succeeded")

    op = await run_example(apiserver, tmp_path, "handlers.py",
                           created=[r"Creation is processed: 3 succeeded; 0 failed"],
                           deleted=[r"Handler 'delete_fn_2' succeeded", r"Deleted, really deleted"],
                           meanwhile=meanwhile,
                           # the field handler runs at creation (None -> value) and on the change
                           success_counts={"create_fn_1": 1, "create_fn_2": 1, "update_fn": 1,
                                           "field_fn/spec.field": 2, "delete_fn_1": 1,
                                           "delete_fn_2": 1})
    out = op.output
    assert out.index("CREATED 1st") < out.index("CREATED 2nd")
    assert "FIELD CHANGED: None -> value" in out and "FIELD CHANGED: value -> changed" in out
    assert "UPDATED: [('change', ('spec', 'field'), 'value', 'changed')]" in out
    assert out.index("DELETED 1st") < out.index("DELETED 2nd")
    assert "RESUMED" not in out            # resuming is for objects that existed at start


async def test_status_and_patch(apiserver, tmp_path: Path) -> None:
    async def meanwhile(kc: Path, op: KopfOperator) -> None:
        await _wait(kc, "{.status.phase}", "Created")
        await _wait(kc, "{.status.create_fn.items}", "2")
        obj = await _get(kc)
        assert obj["metadata"]["labels"] == {"somelabel": "somevalue", "kopf-touched": "yes"}
        assert obj["metadata"]["finalizers"] == ["kopf.zalando.org/KopfFinalizerMarker"]
        code, _, err = await kubectl(kc, "patch", "kopfexample", NAME, "--type=merge",
                                     "-p", '{"spec":{"field":"other"}}')
        assert code == 0, err
        await _wait(kc, "{.status.field}", "other")
        code, out, err = await kubectl(kc, "get", "events", "--field-selector",
                                       f"involvedObject.name={NAME}", "-o", "json")
        assert code == 0, err
        reasons = {e["reason"]: e for e in json.loads(out)["items"]}
        assert reasons["Reconciled"]["message"] == "the example was seen"
        assert reasons["Reconciled"]["involvedObject"]["kind"] == "KopfExample"

    await run_example(apiserver, tmp_path, "status_patch.py",
                      created=[r"Creation is processed: 2 succeeded; 0 failed"],
                      deleted=[r"Deleted, really deleted"], meanwhile=meanwhile,
                      success_counts={"create_fn": 1, "field_fn/spec.field": 2, "delete_fn": 1})


async def test_timers_and_daemons(apiserver, tmp_path: Path) -> None:
    async def meanwhile(kc: Path, op: KopfOperator) -> None:
        await op.wait_for(r"=> Tick from a timer: field='value'", count=2)
        await op.wait_for(r"=> Ping from a sync daemon: field='value'", count=2)
        await op.wait_for(r"=> Ping from an async daemon: field='value'", count=2)

    op = await run_example(apiserver, tmp_path, "timers_daemons.py", changing=False,
                           mandatory_delete=False,
                           created=[r"Timer 'tick' succeeded|Handler 'tick' succeeded|=> Tick"],
                           deleted=[r"Daemon 'background_async' .*(cancelled|exited)",
                                    r"Daemon 'background_sync' .*(exited|cancelled)"],
                           meanwhile=meanwhile, success_counts={})
    out = op.output
    # daemons keep the object until they are stopped: kopf's finalizer, then its removal
    assert out.index(f"[default/{NAME}] Adding the finalizer") < out.index("Removing the finalizer")
    assert "Daemon 'background_async' is cancelled" in out


async def test_children_owned_and_collected(apiserver, tmp_path: Path) -> None:
    """The operator's child pod is owned by the custom resource: deleting the resource
    deletes the pod (the garbage collector, running here as in the controller manager)."""
    client = Client(kubeconfig.load(str(apiserver.kubeconfig_path)), component="test")
    informers = SharedInformers(client)
    gc = GarbageCollector(client, informers)
    await informers.start_all()                  # as the controller manager does
    gc_task = asyncio.create_task(gc.run())
    pods: list[dict[str, Any]] = []

    async def meanwhile(kc: Path, op: KopfOperator) -> None:
        owner = await _get(kc)
        code, out, err = await kubectl(kc, "wait", f"kopfexample/{NAME}",
                                       "--for=jsonpath={.status.create_fn.children[0]}", "--timeout=30s")
        assert code == 0, err
        owner = await _get(kc)
        (child_uid,) = owner["status"]["create_fn"]["children"]
        code, out, err = await kubectl(kc, "get", "pods", "-o", "json")
        assert code == 0, err
        pods[:] = json.loads(out)["items"]
        (pod,) = pods
        assert pod["metadata"]["uid"] == child_uid
        (ref,) = pod["metadata"]["ownerReferences"]
        assert (ref["apiVersion"], ref["kind"], ref["name"], ref["uid"]) == \
            ("kopf.dev/v1", "KopfExample", NAME, owner["metadata"]["uid"])
        assert ref["controller"] is True and ref["blockOwnerDeletion"] is True
        env = pod["spec"]["containers"][0]["env"]
        assert env == [{"name": "FIELD", "value": "value"}]
        code, out, err = await kubectl(kc, "get", "kopfexamples")
        assert code == 0 and child_uid in out, err

    try:
        await run_example(apiserver, tmp_path, "children.py", mandatory_delete=False,
                          created=[r"Handler 'create_fn' succeeded"],
                          deleted=[r"Deleted, really deleted"], meanwhile=meanwhile)
        name = pods[0]["metadata"]["name"]
        code, out, err = await kubectl(apiserver.kubeconfig_path, "wait", f"pod/{name}",
                                       "--for=delete", "--timeout=30s")
        assert code == 0, err + out
    finally:
        gc_task.cancel()
        await asyncio.gather(gc_task, return_exceptions=True)
        await informers.stop_all()
        await client.close()
