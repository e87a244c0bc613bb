"""The scheduling cycle without I/O: feasible-node sampling, round robin, FitError,
spreading through assumed pods, and informer events routed to cache and queue."""
from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sched_fixtures import node, pinfo, pod

from scheduler.eventhandlers import EventHandlers
from scheduler.scheduler import FitError, Scheduler, num_feasible_nodes_to_find

GPU = [{"key": "gpu", "value": "true", "effect": "NoSchedule"}]


def scheduler_with(*nodes: dict[str, Any], **kw: Any) -> Scheduler:
    s = Scheduler(None, **kw)  # type: ignore[arg-type]  # the cycle never touches the client
    for n in nodes:
        s.cache.add_node(n)
    return s


def test_num_feasible_nodes_to_find() -> None:
    assert num_feasible_nodes_to_find(0, 50) == 50
    assert num_feasible_nodes_to_find(0, 100) == 100
    assert num_feasible_nodes_to_find(0, 1000) == 420          # 50 - 1000/125 = 42 %
    assert num_feasible_nodes_to_find(0, 5000) == 500          # 10 %
    assert num_feasible_nodes_to_find(0, 10000) == 500         # floor of 5 %
    assert num_feasible_nodes_to_find(10, 500) == 100          # at least 100
    assert num_feasible_nodes_to_find(100, 500) == 500


def test_filtering_stops_at_the_feasible_count_and_rotates() -> None:
    s = scheduler_with(*(node(f"n{i:04}") for i in range(1000)))
    nodes = s.cache.nodes()
    p = pinfo("a", cpu="100m")
    fw = s.framework
    from scheduler.framework import CycleState
    state = CycleState()
    plugins, _ = fw.run_pre_filters(state, p)
    filters = [pl.filter for pl in plugins]
    feasible, statuses = s.find_nodes_that_pass_filters(state, p, nodes, filters)
    assert len(feasible) == 420 and not statuses
    assert s.next_start_node_index == 420
    feasible2, _ = s.find_nodes_that_pass_filters(state, p, nodes, filters)
    assert feasible2[0].name == "n0420"


def test_too_big_for_every_node() -> None:
    s = scheduler_with(node("a", cpu="1"), node("b", cpu="1"), node("c", cpu="1"))
    with pytest.raises(FitError) as e:
        s.schedule_pod(pinfo("big", cpu="2"))
    assert e.value.message == "0/3 nodes are available: 3 Insufficient cpu."
    assert e.value.plugins == {"NodeResourcesFit"}


def test_mixed_reasons_message() -> None:
    s = scheduler_with(node("a", cpu="1"), node("b", taints=GPU), node("c", taints=GPU))
    with pytest.raises(FitError) as e:
        s.schedule_pod(pinfo("p", cpu="2"))
    assert e.value.message == ("0/3 nodes are available: 1 Insufficient cpu, "
                               "2 node(s) had untolerated taint {gpu: true}.")


def test_no_nodes() -> None:
    with pytest.raises(FitError) as e:
        scheduler_with().schedule_pod(pinfo("p"))
    assert e.value.message == "no nodes available to schedule pods"


def test_selector_and_taints_decide_the_node() -> None:
    s = scheduler_with(node("plain"), node("ssd", labels={"disk": "ssd"}),
                       node("gpu", taints=GPU))
    assert s.schedule_pod(pinfo("a", node_selector={"disk": "ssd"})) == "ssd"
    tol = [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    gpu_only = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                                "values": ["gpu"]}]}]}}}
    assert s.schedule_pod(pinfo("b", tolerations=tol, affinity=gpu_only)) == "gpu"
    for i in range(20):
        assert s.schedule_pod(pinfo(f"c{i}")) != "gpu"


def test_assumed_pods_spread_one_owner_across_nodes() -> None:
    s = scheduler_with(node("a"), node("b"), node("c"))
    placed: Counter[str] = Counter()
    for i in range(9):
        p = pinfo(f"web-{i}", cpu="100m", memory="64Mi", owner_uid="rs-web")
        name = s.schedule_pod(p)
        s.cache.assume_pod(p, name)
        placed[name] += 1
    assert placed == {"a": 3, "b": 3, "c": 3}


def test_event_handlers_route_pods_and_move_parked_ones() -> None:
    s = scheduler_with(node("small", cpu="1"))
    h: EventHandlers = s.handlers
    h.on_pod_add(pod("big", cpu="2"))
    h.on_pod_add(pod("other", cpu="1") | {"spec": {**pod("other")["spec"],
                                                    "schedulerName": "someone-else"}})
    assert len(s.queue) == 1
    h.on_pod_add(pod("running", cpu="500m", node_name="small"))
    assert s.cache.node("small").requested_cpu == 500          # type: ignore[union-attr]
    h.on_node_add(node("large", cpu="8"))
    assert s.cache.node_count() == 2
    heartbeat = node("large", cpu="8")
    heartbeat["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    from scheduler.eventhandlers import node_change_plugins
    assert node_change_plugins(node("large", cpu="8"), heartbeat) == set()
    assert node_change_plugins(node("large", cpu="8"), node("large", cpu="16")) == \
        {"NodeResourcesFit"}
    h.on_pod_delete(pod("running", node_name="small"))
    assert s.cache.node("small").requested_cpu == 0            # type: ignore[union-attr]


def test_select_host_picks_the_best_and_spreads_ties() -> None:
    from sched_fixtures import ninfo

    from scheduler.scheduler import select_host
    nodes = [ninfo("a"), ninfo("b"), ninfo("c")]
    assert select_host(nodes, [1, 5, 3]) == "b"
    picks = {select_host(nodes, [7, 7, 1]) for _ in range(200)}
    assert picks == {"a", "b"}


def test_condition_unchanged_ignores_timestamps() -> None:
    from scheduler.scheduler import _condition_unchanged
    obj = pod("a")
    cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/1 nodes are available: 1 Insufficient cpu."}
    assert not _condition_unchanged(obj, cond)
    obj["status"]["conditions"] = [{**cond, "lastTransitionTime": "2024-01-01T00:00:00Z"}]
    assert _condition_unchanged(obj, cond)
    assert not _condition_unchanged(obj, {**cond, "message": "0/2 nodes are available: x."})
