"""TaintToleration: untolerated NoSchedule/NoExecute taints filter; PreferNoSchedule scores."""
from __future__ import annotations

from sched_fixtures import ninfo, pinfo

from scheduler.framework import SKIP, UNSCHEDULABLE_AND_UNRESOLVABLE, CycleState
from scheduler.nodeinfo import Taint
from scheduler.plugins.taint_toleration import new, tolerates
from scheduler.podinfo import Toleration

PLUGIN = new()
GPU = [{"key": "gpu", "value": "true", "effect": "NoSchedule"}]


def test_untainted_node_passes() -> None:
    assert PLUGIN.filter(CycleState(), pinfo(), ninfo()) is None


def test_untolerated_taint_message_has_key_and_value() -> None:
    st = PLUGIN.filter(CycleState(), pinfo(), ninfo(taints=GPU))
    assert st is not None and st.code == UNSCHEDULABLE_AND_UNRESOLVABLE
    assert st.reasons == ("node(s) had untolerated taint {gpu: true}",)


def test_equal_and_exists_tolerations() -> None:
    eq = pinfo(tolerations=[{"key": "gpu", "operator": "Equal", "value": "true",
                             "effect": "NoSchedule"}])
    exists = pinfo(tolerations=[{"key": "gpu", "operator": "Exists"}])
    wrong = pinfo(tolerations=[{"key": "gpu", "operator": "Equal", "value": "false"}])
    everything = pinfo(tolerations=[{"operator": "Exists"}])
    node = ninfo(taints=GPU)
    assert PLUGIN.filter(CycleState(), eq, node) is None
    assert PLUGIN.filter(CycleState(), exists, node) is None
    assert PLUGIN.filter(CycleState(), everything, node) is None
    assert PLUGIN.filter(CycleState(), wrong, node) is not None


def test_tolerates_effect_rules() -> None:
    taint = Taint("k", "v", "NoExecute")
    assert tolerates(Toleration("k", "Equal", "v", ""), taint)
    assert not tolerates(Toleration("k", "Equal", "v", "NoSchedule"), taint)
    assert not tolerates(Toleration("other", "Exists", "", ""), taint)


def test_prefer_no_schedule_does_not_filter_but_scores_down() -> None:
    soft = ninfo("soft", taints=[{"key": "spot", "value": "yes", "effect": "PreferNoSchedule"}])
    clean = ninfo("clean")
    p = pinfo()
    assert PLUGIN.filter(CycleState(), p, soft) is None
    state = CycleState()
    assert PLUGIN.pre_score(state, p, [soft, clean]) is None
    scores = [PLUGIN.score(state, p, n) for n in (soft, clean)]
    PLUGIN.normalize_score(state, p, scores)
    assert scores == [0, 100]
    tolerant = pinfo(tolerations=[{"key": "spot", "operator": "Exists",
                                   "effect": "PreferNoSchedule"}])
    state = CycleState()
    PLUGIN.pre_score(state, tolerant, [soft, clean])
    scores = [PLUGIN.score(state, tolerant, n) for n in (soft, clean)]
    PLUGIN.normalize_score(state, tolerant, scores)
    assert scores == [100, 100]


def test_pre_score_skips_when_no_node_has_soft_taints() -> None:
    st = PLUGIN.pre_score(CycleState(), pinfo(), [ninfo("a"), ninfo("b", taints=GPU)])
    assert st is not None and st.code == SKIP
