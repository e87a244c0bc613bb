"""NodeResourcesFit: fit against allocatable minus requested; least-allocated score."""
from __future__ import annotations

from sched_fixtures import bound, ninfo, pinfo

from scheduler.framework import CycleState
from scheduler.plugins.node_resources_fit import new

PLUGIN = new()


def reasons(p, ni):  # type: ignore[no-untyped-def]
    st = PLUGIN.filter(CycleState(), p, ni)
    return None if st is None else st.reasons


def test_fits_on_empty_node() -> None:
    assert reasons(pinfo(cpu="1", memory="1Gi"), ninfo(cpu="2", memory="2Gi")) is None


def test_insufficient_cpu_counts_pods_already_there() -> None:
    ni = ninfo(cpu="2", memory="8Gi", running=(bound("x", "n", cpu="1500m"),))
    assert reasons(pinfo(cpu="600m"), ni) == ("Insufficient cpu",)
    assert reasons(pinfo(cpu="500m"), ni) is None


def test_every_shortfall_is_a_reason() -> None:
    ni = ninfo(cpu="1", memory="1Gi", pods=1, running=(bound("x", "n"),))
    assert reasons(pinfo(cpu="2", memory="2Gi"), ni) == \
        ("Too many pods", "Insufficient cpu", "Insufficient memory")


def test_best_effort_pod_only_needs_a_pod_slot() -> None:
    ni = ninfo(cpu="1", memory="1Gi", running=(bound("x", "n", cpu="1", memory="1Gi"),))
    assert reasons(pinfo(), ni) is None


def test_least_allocated_prefers_emptier_node() -> None:
    p = pinfo(cpu="1", memory="1Gi")
    empty = ninfo("a", cpu="4", memory="4Gi")
    busy = ninfo("b", cpu="4", memory="4Gi", running=(bound("x", "b", cpu="2", memory="2Gi"),))
    s_empty, s_busy = (PLUGIN.score(CycleState(), p, n) for n in (empty, busy))
    assert s_empty == 75 and s_busy == 25
    assert 0 <= s_busy < s_empty <= 100


def test_score_uses_non_zero_requests_for_best_effort_pods() -> None:
    p = pinfo()
    ni = ninfo(cpu="1", memory="1000Mi")
    # 100m of 1000m -> 90; 200Mi of 1000Mi -> 80
    assert PLUGIN.score(CycleState(), p, ni) == 85
