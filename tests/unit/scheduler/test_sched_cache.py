"""Cache: aggregates, assumed pods (confirm, forget, expire), nodes coming and going."""
from __future__ import annotations

from sched_fixtures import bound, node, pinfo

from scheduler.cache import Cache


def test_assume_then_confirm_counts_once() -> None:
    c = Cache()
    c.add_node(node("n", cpu="4"))
    p = pinfo("a", cpu="1")
    c.assume_pod(p, "n")
    ni = c.node("n")
    assert ni is not None and ni.requested_cpu == 1000 and c.is_assumed("default/a")
    c.add_pod(bound("a", "n", cpu="1"))          # the informer sees the binding
    assert ni.requested_cpu == 1000 and not c.is_assumed("default/a") and ni.pod_count == 1


def test_forget_releases_resources() -> None:
    c = Cache()
    c.add_node(node("n"))
    c.assume_pod(pinfo("a", cpu="1", host_ports=[80]), "n")
    c.forget_pod("default/a")
    ni = c.node("n")
    assert ni is not None and ni.requested_cpu == 0 and not ni.used_ports and ni.pod_count == 0


def test_assumed_pod_expires_only_after_binding_finished() -> None:
    c = Cache(assumed_ttl=30)
    c.add_node(node("n"))
    c.assume_pod(pinfo("a", cpu="1"), "n")
    assert c.cleanup_expired(now=1e12) == []      # binding still in flight
    c.finish_binding("default/a", now=100.0)
    assert c.cleanup_expired(now=120.0) == []
    assert c.cleanup_expired(now=131.0) == ["default/a"]
    assert c.node("n").requested_cpu == 0          # type: ignore[union-attr]


def test_confirmed_elsewhere_moves_the_pod() -> None:
    c = Cache()
    c.add_node(node("n1"))
    c.add_node(node("n2"))
    c.assume_pod(pinfo("a", cpu="1"), "n1")
    c.add_pod(bound("a", "n2", cpu="1"))
    assert c.node("n1").requested_cpu == 0         # type: ignore[union-attr]
    assert c.node("n2").requested_cpu == 1000      # type: ignore[union-attr]


def test_pods_on_unknown_node_wait_for_it() -> None:
    c = Cache()
    c.add_pod(bound("a", "later", cpu="1"))
    assert c.nodes() == []
    c.add_node(node("later"))
    assert [n.name for n in c.nodes()] == ["later"] and c.nodes()[0].requested_cpu == 1000
    c.remove_node("later")
    assert c.nodes() == [] and c.pod_node("default/a") == "later"
    c.remove_pod("default/a")
    assert c.pod_count() == 0


def test_owner_counts_and_ports_follow_pods() -> None:
    c = Cache()
    c.add_node(node("n"))
    c.add_pod(bound("a", "n", owner_uid="rs", host_ports=[80]))
    c.add_pod(bound("b", "n", owner_uid="rs"))
    ni = c.node("n")
    assert ni is not None and ni.owner_counts["default/rs"] == 2 and len(ni.used_ports) == 1
    c.remove_pod("default/a")
    assert ni.owner_counts["default/rs"] == 1 and not ni.used_ports
