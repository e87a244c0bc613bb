"""PodDisruptionBudget arithmetic (the disruption controller), the eviction subresource's
checks, and `drain`'s sorting of a node's pods - over plain objects."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.models import Deployment, PodDisruptionBudget, ReplicaSet
from apiserver import errors
from apiserver.eviction import can_ignore_budget, covering, take_disruption
from controllers import disruption_logic as logic
from kubectl import drain_logic
from tests.support.apps_objects import make_pod

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def pdb(status: dict[str, Any] | None = None, **spec: Any) -> PodDisruptionBudget:
    return PodDisruptionBudget.from_dict({"metadata": {"name": "web", "namespace": "default", "generation": 1},
                                          "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec},
                                          "status": status or {}})


DEPLOY = Deployment.from_dict({"metadata": {"name": "web", "namespace": "default", "uid": "d1"},
                               "spec": {"replicas": 4}})
RS = ReplicaSet.from_dict({"metadata": {"name": "web-1", "namespace": "default", "uid": "rs1",
                                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                                             "name": "web", "uid": "d1", "controller": True}]},
                           "spec": {"replicas": 4}})


def lookup(kind: str, ns: str, name: str) -> Any:
    if kind == "ReplicaSet" and name == "web-1":
        return 4, ("Deployment", "web")
    if kind == "Deployment" and name == "web":
        return 5, None
    return None


def pods(n: int, ready: int) -> list[Any]:
    return [make_pod(f"web-{i}", {"app": "web"}, owner=RS, ready=i < ready) for i in range(n)]


def test_min_available_counts_ready_pods() -> None:
    b = logic.calculate(pdb(minAvailable=2), pods(3, 3), lookup, NOW)
    st = b.status
    assert (st.expected_pods, st.desired_healthy, st.current_healthy, st.disruptions_allowed) == (3, 2, 3, 1)
    assert st.conditions[0].reason == "SufficientPods" and st.conditions[0].status == "True"  # type: ignore[index]
    st = logic.calculate(pdb(minAvailable=2), pods(3, 2), lookup, NOW).status
    assert st.disruptions_allowed == 0 and st.conditions[0].reason == "InsufficientPods"  # type: ignore[index]


def test_max_unavailable_is_taken_against_the_deployments_scale() -> None:
    st = logic.calculate(pdb(maxUnavailable="25%"), pods(5, 5), lookup, NOW).status
    assert (st.expected_pods, st.desired_healthy, st.disruptions_allowed) == (5, 3, 2)   # 25% of 5 rounds up to 2
    lone = [make_pod("lone", {"app": "web"})]
    st = logic.calculate(pdb(maxUnavailable=1), lone, lookup, NOW).status
    assert st.disruptions_allowed == 0 and st.conditions[0].reason == "SyncFailed"  # type: ignore[index]


def test_recent_evictions_count_against_the_budget_until_they_expire() -> None:
    fresh = (NOW - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stale = (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    b = logic.calculate(pdb({"disruptedPods": {"web-0": fresh, "web-1": stale}}, minAvailable=1),
                        pods(3, 3), lookup, NOW)
    assert b.status.disrupted_pods == {"web-0": fresh} and b.status.current_healthy == 2
    assert b.status.disruptions_allowed == 0 and b.recheck == NOW + timedelta(seconds=90)


def test_the_eviction_check_and_decrement() -> None:
    ok = pdb({"observedGeneration": 1, "disruptionsAllowed": 1, "desiredHealthy": 2, "currentHealthy": 3}).to_dict()
    out = take_disruption("web-0", False)(ok)
    assert out["status"]["disruptionsAllowed"] == 0 and "web-0" in out["status"]["disruptedPods"]
    with pytest.raises(errors.APIError) as e:
        take_disruption("web-1", False)(out)
    assert e.value.code == 429 and e.value.details["causes"][0]["message"] == \
        "The disruption budget web needs 2 healthy pods and has 3 currently"  # type: ignore[index]
    behind = pdb({"observedGeneration": 0, "disruptionsAllowed": 5}).to_dict()
    with pytest.raises(errors.APIError) as e:
        take_disruption("web-0", False)(behind)
    assert "still being processed" in e.value.details["causes"][0]["message"]  # type: ignore[index]
    pending = make_pod("p", {"app": "web"}, phase="Pending").to_dict()
    assert can_ignore_budget(pending)
    assert covering(make_pod("x", {"app": "web"}).to_dict(), [ok, {"spec": {}}]) == [ok]


def test_drain_sorts_a_nodes_pods() -> None:
    ds_pod = make_pod("agent", {"a": "b"}).to_dict()
    ds_pod["metadata"]["ownerReferences"] = [{"kind": "DaemonSet", "name": "agent", "uid": "u", "controller": True,
                                              "apiVersion": "apps/v1"}]
    bare = make_pod("bare").to_dict()
    scratch = make_pod("scratch", owner=RS).to_dict()
    scratch["spec"]["volumes"] = [{"name": "tmp", "emptyDir": {}}]
    managed = make_pod("web", owner=RS).to_dict()
    out = drain_logic.pods_for_deletion([ds_pod, bare, scratch, managed], drain_logic.DrainOptions(), NOW)
    assert out.error_texts() == [
        "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/agent",
        "cannot delete Pods declare no controller (use --force to override): default/bare",
        "cannot delete Pods with local storage (use --delete-emptydir-data to override): default/scratch"]
    out = drain_logic.pods_for_deletion([ds_pod, bare, scratch, managed],
                                        drain_logic.DrainOptions(True, True, True), NOW)
    assert [p["metadata"]["name"] for p in out.delete] == ["bare", "scratch", "web"] and not out.errors
    assert out.warning_text() == ("ignoring DaemonSet-managed Pods: default/agent; deleting Pods that declare "
                                  "no controller: default/bare; deleting Pods with local storage: default/scratch")
