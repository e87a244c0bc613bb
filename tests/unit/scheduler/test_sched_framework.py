"""Framework: Kubernetes' FitError message, normalizing, pre-filter skipping, weights."""
from __future__ import annotations

from sched_fixtures import ninfo, pinfo

from scheduler.framework import CycleState, Framework, default_normalize, fit_error_message, unschedulable
from scheduler.plugins import DEFAULT_PLUGINS, default_framework


def test_fit_error_message_shape() -> None:
    cpu = unschedulable("NodeResourcesFit", "Insufficient cpu")
    taint = unschedulable("TaintToleration", "node(s) had untolerated taint {gpu: true}",
                          resolvable=False)
    assert fit_error_message(3, [cpu, cpu, cpu]) == "0/3 nodes are available: 3 Insufficient cpu."
    assert fit_error_message(3, [taint, cpu, taint]) == (
        "0/3 nodes are available: 1 Insufficient cpu, "
        "2 node(s) had untolerated taint {gpu: true}.")
    both = unschedulable("NodeResourcesFit", "Insufficient cpu", "Insufficient memory")
    assert fit_error_message(2, [both, both]) == \
        "0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory."
    # histogram entries sort as strings, as kube-scheduler's sort.Strings does
    assert fit_error_message(12, [cpu] * 10 + [taint] * 2).startswith(
        "0/12 nodes are available: 10 Insufficient cpu, 2 node(s)")


def test_default_normalize() -> None:
    s = [0, 5, 10]
    default_normalize(s)
    assert s == [0, 50, 100]
    s = [0, 5, 10]
    default_normalize(s, reverse=True)
    assert s == [100, 50, 0]
    s = [0, 0]
    default_normalize(s, reverse=True)
    assert s == [100, 100]


def test_default_profile_order_and_prefilter_skips() -> None:
    assert DEFAULT_PLUGINS[:6] == ("NodeUnschedulable", "NodeName", "TaintToleration",
                                   "NodeAffinity", "NodePorts", "NodeResourcesFit")
    fw = default_framework()
    filters, st = fw.run_pre_filters(CycleState(), pinfo(cpu="1"))
    assert st is None
    names = [p.NAME for p in filters]
    assert names == ["NodeUnschedulable", "TaintToleration", "NodeResourcesFit"]


def test_weighted_score_totals() -> None:
    class Const:
        NAME = "Const"

        def __init__(self, value: int) -> None:
            self.value = value

        def score(self, state, pod, node_info):  # type: ignore[no-untyped-def]
            return self.value if node_info.name == "a" else 0

    fw = Framework([Const(10)], {"Const": 3})
    assert fw.score(CycleState(), pinfo(), [ninfo("a"), ninfo("b")]) == [30, 0]
