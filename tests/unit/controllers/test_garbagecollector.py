"""Garbage collector: the owner-state decision, and reconciles against seeded caches and a
recording client (the apiserver's answer decides absence, never the cache alone)."""
from __future__ import annotations

from typing import Any

from api.meta import new_controller_ref
from api.models import ConfigMap, Deployment, Pod, ReplicaSet
from controllers.garbagecollector import (FOREGROUND, ORPHAN, Decision, GarbageCollector,
                                          OwnerState, decide, ref_to)
from tests.support.controller_fakes import RecordingClient, informers_for, obj, seed

S, W, A = OwnerState.SOLID, OwnerState.WAITING, OwnerState.ABSENT


def test_decide() -> None:
    assert decide({"a": S}, False) == Decision("none")
    assert decide({"a": A}, False) == Decision("delete", policy="Background")
    assert decide({"a": A, "b": S}, False) == Decision("remove_refs", frozenset({"a"}))
    assert decide({"a": W, "b": S}, True) == Decision("remove_refs", frozenset({"a"}))
    assert decide({"a": W}, True) == Decision("delete", policy="Foreground")
    assert decide({"a": W}, False) == Decision("delete", policy="Background")


def rs(name: str = "web-1", owner: Any = None, **meta: Any) -> ReplicaSet:
    m = dict(meta)
    if owner is not None:
        m["ownerReferences"] = [new_controller_ref(owner).to_dict()]
    return obj(ReplicaSet, name, metadata=m,
               spec={"selector": {"matchLabels": {"a": "b"}}, "replicas": 1})


def pod(name: str, *owners: Any, **meta: Any) -> Pod:
    m = dict(meta)
    m["ownerReferences"] = [new_controller_ref(o).to_dict() for o in owners]
    if len(owners) > 1:
        for r in m["ownerReferences"][1:]:
            r["controller"] = False
    return obj(Pod, name, metadata=m, spec={"containers": [{"name": "c"}]})


def gc(client: RecordingClient, *cached: Any) -> GarbageCollector:
    informers = informers_for(client)
    g = GarbageCollector(client, informers)   # type: ignore[arg-type]
    seed(informers, *cached)
    return g


async def test_owner_absent_on_server_deletes_dependent_with_uid_precondition() -> None:
    owner = rs()
    p = pod("p1", owner)
    client = RecordingClient()               # the server does not have the owner
    g = gc(client, p)
    await g.reconcile(ref_to(p))
    deletes = client.verbs("delete")
    assert [d[1] for d in deletes] == ["Pod/p1"]
    assert deletes[0][2]["propagation_policy"] == "Background"
    assert deletes[0][2]["preconditions"] == {"uid": p.metadata.uid}


async def test_slow_cache_never_kills_live_dependents() -> None:
    owner = rs()
    p = pod("p1", owner)
    client = RecordingClient(owner)          # the server has it, our cache not yet
    g = gc(client, p)
    await g.reconcile(ref_to(p))
    assert client.verbs("delete") == []


async def test_recreated_owner_with_same_name_is_another_owner() -> None:
    old = rs()
    p = pod("p1", old)
    new = rs()                               # same name, new uid
    assert new.metadata.uid != old.metadata.uid
    client = RecordingClient(new)
    g = gc(client, p, new)
    await g.reconcile(ref_to(p))
    assert [d[1] for d in client.verbs("delete")] == ["Pod/p1"]


async def test_dependent_with_another_live_owner_only_loses_the_dead_ref() -> None:
    dead, alive = rs("a"), rs("b")
    p = pod("p1", dead, alive)
    client = RecordingClient(alive)
    g = gc(client, p, alive)
    await g.reconcile(ref_to(p))
    assert client.verbs("delete") == []
    (patch,) = client.verbs("patch")
    refs = patch[2]["metadata"]["ownerReferences"]
    assert [r["uid"] for r in refs] == [alive.metadata.uid]
    assert patch[2]["metadata"]["resourceVersion"] == p.metadata.resource_version


async def test_foreground_owner_waits_for_blocking_dependents() -> None:
    d = obj(Deployment, "web", metadata={"deletionTimestamp": "2026-01-01T00:00:00Z",
                                         "finalizers": [FOREGROUND]},
            spec={"selector": {"matchLabels": {"a": "b"}}, "template": {}})
    r = rs("web-1", owner=d)
    client = RecordingClient(d, r)
    g = gc(client, d, r)
    await g.reconcile(ref_to(d))
    assert client.verbs("patch") == []               # still blocked by the ReplicaSet
    assert ref_to(r) in list(g.queue._queue)         # which is queued for deletion
    await g.reconcile(ref_to(r))                     # owner WAITING, r has no dependents
    assert [(x[1], x[2]["propagation_policy"]) for x in client.verbs("delete")] == \
        [("ReplicaSet/web-1", "Background")]
    g.informers.get(ReplicaSet).store.remove(r.key)  # it went away
    await g.reconcile(ref_to(d))
    (patch,) = client.verbs("patch")
    assert patch[1] == "Deployment/web" and patch[2]["metadata"]["finalizers"] is None


async def test_foreground_dependent_with_dependents_is_deleted_in_foreground() -> None:
    d = obj(Deployment, "web", metadata={"deletionTimestamp": "2026-01-01T00:00:00Z",
                                         "finalizers": [FOREGROUND]},
            spec={"selector": {"matchLabels": {"a": "b"}}, "template": {}})
    r = rs("web-1", owner=d)
    p = pod("p1", r)
    client = RecordingClient(d, r, p)
    g = gc(client, d, r, p)
    await g.reconcile(ref_to(r))
    assert [(x[1], x[2]["propagation_policy"]) for x in client.verbs("delete")] == \
        [("ReplicaSet/web-1", "Foreground")]


async def test_orphan_strips_owner_refs_then_finalizer() -> None:
    r = obj(ReplicaSet, "web-1", metadata={"deletionTimestamp": "2026-01-01T00:00:00Z",
                                       "finalizers": [ORPHAN, "example.com/keep"]},
        spec={"selector": {"matchLabels": {"a": "b"}}})
    p1, p2 = pod("p1", r), pod("p2", r)
    client = RecordingClient(r, p1, p2)
    g = gc(client, r, p1, p2)
    await g.reconcile(ref_to(r))
    patches = client.verbs("patch")
    assert sorted(x[1] for x in patches[:2]) == ["Pod/p1", "Pod/p2"]
    assert all(x[2]["metadata"]["ownerReferences"] is None for x in patches[:2])
    assert patches[2][1] == "ReplicaSet/web-1"
    assert patches[2][2]["metadata"]["finalizers"] == ["example.com/keep"]
    assert client.verbs("delete") == []


async def test_owner_of_unknown_kind_counts_as_alive() -> None:
    cm = obj(ConfigMap, "c", metadata={"ownerReferences": [
        {"apiVersion": "example.com/v1", "kind": "Widget", "name": "w", "uid": "u-1"}]})
    client = RecordingClient()
    g = gc(client, cm)
    await g.reconcile(ref_to(cm))
    assert client.writes() == []


async def test_absent_owner_is_remembered() -> None:
    owner = rs()
    p1, p2 = pod("p1", owner), pod("p2", owner)
    client = RecordingClient()
    g = gc(client, p1, p2)
    await g.reconcile(ref_to(p1))
    await g.reconcile(ref_to(p2))
    assert len(client.verbs("get")) == 1             # asked the server once
    assert [d[1] for d in client.verbs("delete")] == ["Pod/p1", "Pod/p2"]
    assert owner.metadata.uid in g._absent


def test_handlers_enqueue_dependents_when_owner_deleted() -> None:
    owner = rs()
    p = pod("p1", owner)
    client = RecordingClient()
    g = gc(client, owner, p)
    g._on_delete(owner)
    assert list(g.queue._queue) == [ref_to(p)]


async def test_foreground_finalizer_stays_while_the_server_still_has_dependents() -> None:
    d = obj(Deployment, "web", metadata={"deletionTimestamp": "2026-01-01T00:00:00Z",
                                         "finalizers": [FOREGROUND]},
            spec={"selector": {"matchLabels": {"a": "b"}}, "template": {}})
    r = rs("web-1", owner=d)
    client = RecordingClient(d, r)
    g = gc(client, d)                                 # the ReplicaSet cache lags
    await g.reconcile(ref_to(d))
    assert client.verbs("patch") == []
