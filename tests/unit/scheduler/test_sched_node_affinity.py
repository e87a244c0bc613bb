"""NodeAffinity: nodeSelector, required terms (ORed terms, ANDed expressions), preferred."""
from __future__ import annotations

from typing import Any

from sched_fixtures import ninfo, pinfo

from scheduler.framework import SKIP, CycleState
from scheduler.plugins.node_affinity import ERR_REASON_POD, new

PLUGIN = new()


def required(*terms: list[dict[str, Any]]) -> dict[str, Any]:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": t} for t in terms]}}}


def ok(p: Any, n: Any) -> bool:
    return PLUGIN.filter(CycleState(), p, n) is None


def test_pre_filter_skips_pods_without_constraints() -> None:
    st = PLUGIN.pre_filter(CycleState(), pinfo())
    assert st is not None and st.code == SKIP
    assert PLUGIN.pre_filter(CycleState(), pinfo(node_selector={"a": "b"})) is None


def test_node_selector() -> None:
    p = pinfo(node_selector={"disk": "ssd"})
    assert ok(p, ninfo(labels={"disk": "ssd"}))
    assert not ok(p, ninfo(labels={"disk": "hdd"}))
    st = PLUGIN.filter(CycleState(), p, ninfo())
    assert st is not None and st.reasons == (ERR_REASON_POD,)


def test_required_operators() -> None:
    n = ninfo(labels={"zone": "a", "cores": "8"})
    assert ok(pinfo(affinity=required([{"key": "zone", "operator": "In", "values": ["a", "b"]}])), n)
    assert not ok(pinfo(affinity=required([{"key": "zone", "operator": "NotIn", "values": ["a"]}])), n)
    assert ok(pinfo(affinity=required([{"key": "gpu", "operator": "DoesNotExist"}])), n)
    assert not ok(pinfo(affinity=required([{"key": "gpu", "operator": "Exists"}])), n)
    assert ok(pinfo(affinity=required([{"key": "cores", "operator": "Gt", "values": ["4"]}])), n)
    assert not ok(pinfo(affinity=required([{"key": "cores", "operator": "Lt", "values": ["4"]}])), n)


def test_terms_are_ored_expressions_anded() -> None:
    n = ninfo(labels={"zone": "a"})
    both = [{"key": "zone", "operator": "In", "values": ["a"]},
            {"key": "gpu", "operator": "Exists"}]
    assert not ok(pinfo(affinity=required(both)), n)
    assert ok(pinfo(affinity=required(both, [{"key": "zone", "operator": "Exists"}])), n)


def test_match_fields_metadata_name() -> None:
    aff = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                                "values": ["n1"]}]}]}}}
    assert ok(pinfo(affinity=aff), ninfo("n1"))
    assert not ok(pinfo(affinity=aff), ninfo("n2"))


def test_preferred_terms_score_by_weight() -> None:
    aff = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "preference": {"matchExpressions": [{"key": "ssd", "operator": "Exists"}]}},
        {"weight": 30, "preference": {"matchExpressions": [{"key": "zone", "operator": "In",
                                                             "values": ["a"]}]}}]}}
    p = pinfo(affinity=aff)
    nodes = [ninfo("x", labels={"ssd": "1"}), ninfo("y", labels={"ssd": "1", "zone": "a"}),
             ninfo("z")]
    state = CycleState()
    assert PLUGIN.pre_score(state, p, nodes) is None
    scores = [PLUGIN.score(state, p, n) for n in nodes]
    assert scores == [10, 40, 0]
    PLUGIN.normalize_score(state, p, scores)
    assert scores == [25, 100, 0]
    st = PLUGIN.pre_score(CycleState(), pinfo(), nodes)
    assert st is not None and st.code == SKIP
