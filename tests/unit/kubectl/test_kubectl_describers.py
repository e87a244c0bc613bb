"""describe pages against the real kubectl's text.

The golden files were made by pointing kubectl v1.37 (`describe ... --show-events=false`,
TZ=UTC) at the pykube apiserver holding the objects in golden/*.json; our describers
must print the same bytes for the same objects.
"""
from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest

from api.tables import parse_time
from kubectl import describe_util as du
from kubectl import describers, rollout_logic

GOLDEN = Path(__file__).parent / "golden"


def load(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text())


def text(name: str) -> str:
    return (GOLDEN / name).read_text()


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_pod_page_matches_kubectl() -> None:
    assert describers.describe_pod(load("pod.json"), None) == text("describe_pod.txt")


def test_deployment_page_matches_kubectl() -> None:
    rss = load("replicasets.json")["items"]
    assert describers.describe_deployment(load("deployment.json"), rss, None) == text("describe_deployment.txt")


def test_replicaset_page_matches_kubectl() -> None:
    rs = next(r for r in load("replicasets.json")["items"] if r["metadata"]["name"] == "ro2-h2abc")
    assert describers.describe_replicaset(rs, [], None) == text("describe_replicaset.txt")


def test_service_page_matches_kubectl() -> None:
    # kubectl reads EndpointSlices (which pykube does not serve): no endpoints either way
    assert describers.describe_service(load("service.json"), None, None) == text("describe_service.txt")


def test_node_page_matches_kubectl() -> None:
    pod = load("pod.json")
    now = parse_time(pod["metadata"]["creationTimestamp"]) + timedelta(seconds=378)  # type: ignore[operator]
    lease = {"kind": "Status", "message": 'leases.coordination.k8s.io "n1" not found'}
    page = describers.describe_node(load("node.json"), [pod], lease, None, now=now)
    assert page == text("describe_node.txt")


def test_history_revision_matches_kubectl() -> None:
    rss = load("replicasets.json")["items"]
    hist = rollout_logic.history(rss)
    out = f"deployment.apps/ro2 with revision #2\n{rollout_logic.history_text(hist, 2)}\n"
    assert out == text("history_rev2.txt")


def test_events_table_with_repeats() -> None:
    now = parse_time("2026-01-01T00:10:00Z")
    events = [
        {"type": "Warning", "reason": "BackOff", "message": "Back-off restarting failed container ",
         "source": {"component": "kubelet"}, "count": 5,
         "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:09:00Z"},
        {"type": "Normal", "reason": "Scheduled", "message": "Successfully assigned default/web to n1",
         "source": {"component": "default-scheduler"}, "count": 1,
         "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z"},
    ]
    w = du.PrefixWriter()
    w.write(0, "Name:\tweb\n")
    du.events(w, events, now)
    assert w.text() == (
        "Name:  web\n"
        "Events:\n"
        "  Type     Reason     Age                From               Message\n"
        "  ----     ------     ----               ----               -------\n"
        "  Normal   Scheduled  10m                default-scheduler  Successfully assigned default/web to n1\n"
        "  Warning  BackOff    60s (x5 over 10m)  kubelet            Back-off restarting failed container\n")


def test_no_events_line() -> None:
    w = du.PrefixWriter()
    w.write(0, "Name:\tweb\n")
    du.events(w, [])
    assert w.text() == "Name:    web\nEvents:  <none>\n"


def test_annotations_skip_last_applied_and_wrap_long_values() -> None:
    w = du.PrefixWriter()
    long = "x" * 150
    du.annotations_multiline(w, "Annotations", {
        "kubectl.kubernetes.io/last-applied-configuration": "{}", "a": "1", "b": long})
    out = w.text()
    assert "last-applied" not in out
    assert out.splitlines()[0] == "Annotations:  a: 1"
    assert out.splitlines()[1] == "              b:"
    assert out.splitlines()[2] == "                " + "x" * 138 + "..."


def test_tolerations_text() -> None:
    w = du.PrefixWriter()
    du.tolerations_multiline(w, "Tolerations", [
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
        {"operator": "Exists"}])
    assert w.text() == ("Tolerations:  op=Exists\n"
                        "              node.kubernetes.io/unreachable:NoExecute op=Exists for 300s\n")


def test_deployment_without_replicasets_omits_replicaset_lines() -> None:
    d = load("deployment.json")
    page = describers.describe_deployment(d, [], None)
    assert "OldReplicaSets" not in page and "NewReplicaSet" not in page


def test_generic_page_for_other_kinds() -> None:
    page = describers.describe_generic({"apiVersion": "v1", "kind": "Secret",
                                        "metadata": {"name": "s", "namespace": "default"},
                                        "type": "Opaque"}, [])
    assert page.splitlines()[:6] == ["Name:         s", "Namespace:    default", "Labels:       <none>",
                                     "Annotations:  <none>", "API Version:  v1", "Kind:         Secret"]
    assert page.rstrip().endswith("Events:       <none>")
