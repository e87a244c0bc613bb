"""NodeUnschedulable, NodeName, NodePorts, BalancedAllocation, SelectorSpread."""
from __future__ import annotations

from sched_fixtures import bound, ninfo, pinfo

from scheduler.framework import SKIP, CycleState
from scheduler.plugins import (balanced_allocation, node_name, node_ports, node_unschedulable,
                               selector_spread)


def test_node_unschedulable() -> None:
    plugin = node_unschedulable.new()
    st = plugin.filter(CycleState(), pinfo(), ninfo(unschedulable=True))
    assert st is not None and st.reasons == ("node(s) were unschedulable",)
    tolerant = pinfo(tolerations=[{"key": "node.kubernetes.io/unschedulable",
                                   "operator": "Exists", "effect": "NoSchedule"}])
    assert plugin.filter(CycleState(), tolerant, ninfo(unschedulable=True)) is None
    assert plugin.filter(CycleState(), pinfo(), ninfo()) is None


def test_node_name() -> None:
    plugin = node_name.new()
    st = plugin.pre_filter(CycleState(), pinfo())
    assert st is not None and st.code == SKIP
    p = pinfo(node_name="n1")
    assert plugin.filter(CycleState(), p, ninfo("n1")) is None
    st = plugin.filter(CycleState(), p, ninfo("n2"))
    assert st is not None and st.reasons == ("node(s) didn't match the requested node name",)


def test_node_ports_conflicts() -> None:
    plugin = node_ports.new()
    busy = ninfo("n", running=(bound("x", "n", host_ports=[8080]),))
    assert plugin.filter(CycleState(), pinfo(host_ports=[8080]), busy) is not None
    assert plugin.filter(CycleState(), pinfo(host_ports=[9090]), busy) is None
    st = plugin.pre_filter(CycleState(), pinfo())
    assert st is not None and st.code == SKIP


def test_node_ports_specific_ip_vs_any() -> None:
    plugin = node_ports.new()
    specific = bound("x", "n")
    obj = dict(specific.obj)
    from scheduler.podinfo import pod_info
    obj = {**obj, "spec": {**obj["spec"], "containers": [{"name": "c", "ports": [
        {"containerPort": 80, "hostPort": 80, "hostIP": "10.0.0.1"}]}]}}
    ni = ninfo("n", running=(pod_info(obj),))
    other_ip = {**obj, "metadata": {**obj["metadata"], "name": "y"},
                "spec": {"containers": [{"name": "c", "ports": [
                    {"containerPort": 80, "hostPort": 80, "hostIP": "10.0.0.2"}]}]}}
    assert plugin.filter(CycleState(), pod_info(other_ip), ni) is None
    assert plugin.filter(CycleState(), pinfo(host_ports=[80]), ni) is not None   # 0.0.0.0
    udp = {**other_ip, "spec": {"containers": [{"name": "c", "ports": [
        {"containerPort": 80, "hostPort": 80, "protocol": "UDP"}]}]}}
    assert plugin.filter(CycleState(), pod_info(udp), ni) is None


def test_balanced_allocation() -> None:
    plugin = balanced_allocation.new()
    p = pinfo(cpu="1", memory="1Gi")
    even = ninfo("a", cpu="4", memory="4Gi")
    skewed = ninfo("b", cpu="4", memory="4Gi", running=(bound("x", "b", cpu="2"),))
    assert plugin.score(CycleState(), p, even) == 100
    # cpu 3/4, memory 1/4 -> std 0.25 -> 75
    assert plugin.score(CycleState(), p, skewed) == 75


def test_selector_spread_prefers_nodes_with_fewer_siblings() -> None:
    plugin = selector_spread.new()
    p = pinfo("new", owner_uid="rs")
    a = ninfo("a", running=(bound("x", "a", owner_uid="rs"), bound("y", "a", owner_uid="rs")))
    b = ninfo("b", running=(bound("z", "b", owner_uid="rs"),))
    c = ninfo("c", running=(bound("w", "c", owner_uid="other"),))
    state = CycleState()
    assert plugin.pre_score(state, p, [a, b, c]) is None
    scores = [plugin.score(state, p, n) for n in (a, b, c)]
    assert scores == [2, 1, 0]
    plugin.normalize_score(state, p, scores)
    assert scores == [0, 50, 100]
    st = plugin.pre_score(CycleState(), pinfo("lonely"), [a])
    assert st is not None and st.code == SKIP
