"""Field sets, FieldsV1, update tracking and server-side apply, without a server."""
from __future__ import annotations

import pytest

from api import managedfields as mf

T = "2026-01-01T00:00:00Z"


def _cm(**data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "1"}}, "data": data}


def test_field_set_and_fields_v1_round_trip() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "uid": "u"},
           "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]},
           "status": {"phase": "Running"}}
    paths = mf.field_set(pod, "Pod")
    assert ("f:spec", "f:containers", 'k:{"name":"c"}', ".") in paths
    assert ("f:spec", "f:containers", 'k:{"name":"c"}', "f:ports", 'k:{"containerPort":80,"protocol":"TCP"}', ".") in paths
    assert not any(p[0] in ("f:status", "f:apiVersion") or p[:2] == ("f:metadata", "f:uid") for p in paths)
    assert mf.from_fields_v1(mf.fields_v1(paths)) == paths
    assert mf.path_text(("f:spec", "f:containers", 'k:{"name":"c"}', "f:image")) == '.spec.containers[name="c"].image'


def test_update_takes_changed_fields_and_drops_removed_ones() -> None:
    old = _cm(a="1")
    mf.track_update(old, None, "creator", "v1", "ConfigMap", T)
    new = _cm(a="2", b="3")
    new["metadata"]["managedFields"] = old["metadata"]["managedFields"]
    mf.track_update(new, old, "editor", "v1", "ConfigMap", T)
    owners = {e.manager: e.fields for e in mf.entries(new)}
    assert ("f:data", "f:a") in owners["editor"] and ("f:data", "f:b") in owners["editor"]
    assert ("f:data", ".") in owners["creator"] and ("f:data", "f:a") not in owners["creator"]


def test_apply_conflicts_force_and_removal() -> None:
    live = mf.apply(None, _cm(x="1", y="2"), "a", "v1", "ConfigMap", T)
    other = dict(live, data={"x": "9", "y": "2"})
    mf.track_update(other, live, "b", "v1", "ConfigMap", T)
    with pytest.raises(mf.ApplyConflict) as e:
        mf.apply(other, _cm(x="1", y="2"), "a", "v1", "ConfigMap", T)
    assert e.value.message() == 'Apply failed with 1 conflict: conflict with "b" using v1: .data.x'
    same = mf.apply(other, _cm(x="9", y="2"), "a", "v1", "ConfigMap", T)   # same value: shared, no conflict
    assert same["data"] == {"x": "9", "y": "2"}
    forced = mf.apply(other, _cm(x="1"), "a", "v1", "ConfigMap", T, force=True)
    assert forced["data"] == {"x": "1"}                                     # y no longer applied, nobody owns it
    assert {e.manager for e in mf.entries(forced)} == {"a"}


def test_a_crd_schema_list_map_merges_by_its_keys() -> None:
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                  "items": {"type": "object", "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}}}}}}

    def cr(ports: list, tags: list) -> dict:
        return {"apiVersion": "x.io/v1", "kind": "Svc", "metadata": {"name": "s"}, "spec": {"ports": ports, "tags": tags}}
    live = mf.apply(None, cr([{"name": "http", "port": 80}], ["a"]), "alice", "x.io/v1", "Svc", T, schema=schema)
    assert ("f:spec", "f:ports", 'k:{"name":"http"}', "f:port") in mf.entries(live)[0].fields
    both = mf.apply(live, cr([{"name": "https", "port": 443}], ["b"]), "bob", "x.io/v1", "Svc", T, schema=schema)
    assert both["spec"]["ports"] == [{"name": "http", "port": 80}, {"name": "https", "port": 443}]
    assert both["spec"]["tags"] == ["a", "b"]
    with pytest.raises(mf.ApplyConflict):   # a different port for alice's item
        mf.apply(both, cr([{"name": "http", "port": 8080}], []), "bob", "x.io/v1", "Svc", T, schema=schema)
