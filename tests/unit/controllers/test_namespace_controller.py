"""Namespace controller: deletes the content of a Terminating namespace and finalizes it
only once everything is gone."""
from __future__ import annotations

from api.models import ConfigMap, Namespace, Pod
from controllers.namespace import NamespaceController, Remaining, content_conditions
from tests.support.controller_fakes import RecordingClient, informers_for, obj, seed


async def no_custom_kinds(client: object) -> list[object]:
    return []      # what discovery lists beyond the built-in kinds (see test_crd.py for CRDs)


def ns(deleting: bool = True) -> Namespace:
    meta = {"deletionTimestamp": "2026-01-01T00:00:00Z"} if deleting else {}
    return obj(Namespace, "team", ns=None, metadata=meta, spec={"finalizers": ["kubernetes"]},
               status={"phase": "Terminating" if deleting else "Active"})


def test_content_conditions() -> None:
    conds = {c["type"]: c for c in content_conditions(Remaining({"pods": 2}, {"x/y": 1}))}
    assert conds["NamespaceContentRemaining"]["status"] == "True"
    assert "pods has 2 resource instances" in conds["NamespaceContentRemaining"]["message"]
    assert conds["NamespaceFinalizersRemaining"]["status"] == "True"
    done = {c["type"]: c["status"] for c in content_conditions(Remaining())}
    assert done == {"NamespaceContentRemaining": "False", "NamespaceFinalizersRemaining": "False"}


async def test_active_namespace_untouched() -> None:
    n = ns(deleting=False)
    client = RecordingClient(n, obj(ConfigMap, "c", ns="team"))
    informers = informers_for(client)
    c = NamespaceController(client, informers)   # type: ignore[arg-type]
    seed(informers, n)
    await c.reconcile("team")
    assert client.writes() == []


async def test_deletes_content_waits_then_finalizes() -> None:
    n = ns()
    stuck = obj(Pod, "p", ns="team", metadata={"deletionTimestamp": "2026-01-01T00:00:00Z"},
                spec={"containers": [{"name": "c"}]})
    client = RecordingClient(n, obj(ConfigMap, "c", ns="team"), stuck,
                             obj(ConfigMap, "elsewhere", ns="other"))
    informers = informers_for(client)
    c = NamespaceController(client, informers, discover=no_custom_kinds)   # type: ignore[arg-type]
    seed(informers, n)
    await c.reconcile("team")
    # one DeleteCollection per kind, as Kubernetes' namespace deleter sends: the ConfigMap
    # goes, the terminating pod stays (so the namespace is not yet finalized)
    collections = [r[1] for r in client.verbs("request")]
    assert "DELETE /api/v1/namespaces/team/configmaps" in collections
    assert "DELETE /api/v1/namespaces/team/pods" in collections
    assert not any("finalize" in r for r in collections)
    assert ("ConfigMap", "team/c") not in client.objects and ("ConfigMap", "other/elsewhere") in client.objects
    (status,) = client.verbs("update_status")
    assert status[2].status.conditions[0]["type"] == "NamespaceContentRemaining"
    client.objects.pop(("Pod", "team/p"))
    client.actions.clear()
    await c.reconcile("team")
    req = client.verbs("request")[-1]     # after the (now empty) collection deletes
    assert req[1] == "PUT /api/v1/namespaces/team/finalize"
    assert req[2]["spec"]["finalizers"] == []
