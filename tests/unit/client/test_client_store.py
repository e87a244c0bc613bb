"""client.store: keys and the built-in and custom indexes, for models and dicts."""
from __future__ import annotations

from api.models import ConfigMap, Pod
from client.store import Store, object_key, split_key


def pod(name: str, ns: str = "default", node: str | None = None,
        owners: tuple[str, ...] = (), rv: str = "1") -> Pod:
    return Pod.from_dict({
        "metadata": {"name": name, "namespace": ns, "resourceVersion": rv,
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                          "name": f"rs-{o}", "uid": o} for o in owners]},
        "spec": {"containers": [{"name": "c"}], **({"nodeName": node} if node else {})}})


def test_keys() -> None:
    assert object_key(pod("a", "ns")) == "ns/a"
    assert object_key({"metadata": {"name": "n1"}}) == "n1"
    assert split_key("ns/a") == ("ns", "a") and split_key("n1") == (None, "n1")


def test_builtin_indexes_follow_updates_and_deletes() -> None:
    s = Store()
    s.put(pod("a", node="n1", owners=("u1",)))
    s.put(pod("b", node="n1", owners=("u1", "u2")))
    s.put(pod("c", ns="other"))
    assert sorted(p.name for p in s.by_index("node_name", "n1")) == ["a", "b"]
    assert sorted(p.name for p in s.by_index("owner_uid", "u1")) == ["a", "b"]
    assert [p.name for p in s.by_index("namespace", "other")] == ["c"]
    key, old = s.put(pod("a", node="n2", owners=("u1",), rv="2"))
    assert key == "default/a" and old is not None and old.metadata.resource_version == "1"
    assert [p.name for p in s.by_index("node_name", "n1")] == ["b"]
    assert [p.name for p in s.by_index("node_name", "n2")] == ["a"]
    assert sorted(p.name for p in s.by_index("owner_uid", "u1")) == ["a", "b"]
    s.remove("default/b")
    assert s.by_index("owner_uid", "u2") == [] and s.by_index("node_name", "n1") == []
    assert s.remove("default/zzz") is None
    assert sorted(s.keys()) == ["default/a", "other/c"] and len(s) == 2
    assert "other/c" in s and s.get_by_name("other", "c") is s.get("other/c")
    assert s._indices["node_name"] == {"n2": {"default/a"}}   # no empty buckets left


def test_custom_index_on_existing_and_dicts() -> None:
    s = Store()
    s.put(ConfigMap.from_dict({"metadata": {"name": "x", "namespace": "a",
                                            "labels": {"app": "web"}}}))
    s.put({"metadata": {"name": "y", "namespace": "a", "labels": {"app": "db"},
                        "ownerReferences": [{"uid": "u9"}]}, "spec": {"nodeName": "n3"}})

    def by_app(obj: object) -> list[str]:
        meta = obj["metadata"] if isinstance(obj, dict) else obj.metadata.to_dict()  # type: ignore
        return [meta.get("labels", {}).get("app", "")]

    s.add_index("app", by_app)
    assert [o.name for o in s.by_index("app", "web")] == ["x"]
    assert s.index_keys("app", "db") == ["a/y"]
    assert s.index_keys("owner_uid", "u9") == ["a/y"] and s.index_keys("node_name", "n3") == ["a/y"]
    s.replace([{"metadata": {"name": "z", "namespace": "b", "labels": {"app": "web"}}}])
    assert s.keys() == ["b/z"] and s.index_keys("app", "web") == ["b/z"]
    assert s.by_index("namespace", "a") == []
