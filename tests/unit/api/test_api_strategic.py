"""api.strategic: strategic merge patch as Kubernetes applies it.

`golden/smp_cases.json` holds results recorded from `kubectl patch --local --type strategic`
(kubectl's own apimachinery code); every case must match exactly, errors included.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from api.patch import strategic_merge_patch
from api.patch_schema import lookup, root_type
from api.strategic import merge_patches
from api.strategic_diff import DiffOptions, diff_maps

GOLDEN = json.loads((Path(__file__).parent / "golden" / "smp_cases.json").read_text())["cases"]


def _pod() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "finalizers": ["a/x"]},
            "spec": {"containers": [
                {"name": "app", "image": "app:1", "ports": [{"containerPort": 80}],
                 "env": [{"name": "A", "value": "1"}]},
                {"name": "side", "image": "side:1"}],
                "tolerations": [{"key": "t", "operator": "Exists"}]}}


@pytest.mark.parametrize("case", GOLDEN, ids=[json.dumps(c["patch"])[:60] for c in GOLDEN])
def test_matches_kubectl(case: dict[str, Any]) -> None:
    if case.get("error"):
        with pytest.raises(ValueError):
            strategic_merge_patch(case["doc"], case["patch"])
    else:
        assert strategic_merge_patch(case["doc"], case["patch"]) == case["expected"]


def test_containers_merge_by_name_and_new_ones_go_first() -> None:
    result = strategic_merge_patch(_pod(), {"spec": {"containers": [
        {"name": "side", "image": "side:2"}, {"name": "new", "image": "n"}]}})
    containers = result["spec"]["containers"]
    assert [c["name"] for c in containers] == ["app", "side", "new"]
    assert containers[1] == {"name": "side", "image": "side:2"}
    assert containers[0]["env"] == [{"name": "A", "value": "1"}]
    only_new = strategic_merge_patch(_pod(), {"spec": {"containers": [{"name": "new"}]}})
    assert [c["name"] for c in only_new["spec"]["containers"]] == ["new", "app", "side"]


def test_null_deletes_and_nested_maps_merge() -> None:
    result = strategic_merge_patch(_pod(), {"metadata": {"labels": {"a": "b"}, "finalizers": None},
                                            "spec": {"containers": [{"name": "app",
                                                                     "ports": None}]}})
    assert result["metadata"] == {"name": "p", "labels": {"a": "b"}}
    assert "ports" not in result["spec"]["containers"][0]


def test_ports_by_container_port_env_by_name_tolerations_replaced() -> None:
    result = strategic_merge_patch(_pod(), {"spec": {
        "containers": [{"name": "app", "ports": [{"containerPort": 80, "name": "http"}],
                        "env": [{"name": "B", "value": "2"}]}],
        "tolerations": [{"key": "other", "operator": "Exists"}]}})
    app = result["spec"]["containers"][0]
    assert app["ports"] == [{"containerPort": 80, "name": "http"}]
    assert {e["name"] for e in app["env"]} == {"A", "B"}
    assert result["spec"]["tolerations"] == [{"key": "other", "operator": "Exists"}]


def test_directives() -> None:
    pod = _pod()
    deleted = strategic_merge_patch(pod, {"spec": {"containers": [{"name": "side",
                                                                   "$patch": "delete"}]}})
    assert [c["name"] for c in deleted["spec"]["containers"]] == ["app"]
    replaced = strategic_merge_patch(pod, {"spec": {"containers": [{"name": "only", "image": "o"},
                                                                   {"$patch": "replace"}]}})
    assert replaced["spec"]["containers"] == [{"name": "only", "image": "o"}]
    swapped = strategic_merge_patch(pod, {"spec": {"$patch": "replace", "containers": []}})
    assert swapped["spec"] == {"containers": []}
    merged = strategic_merge_patch(pod, {"metadata": {"$patch": "merge", "labels": {"a": "b"}}})
    assert merged["metadata"]["labels"] == {"a": "b"} and merged["metadata"]["name"] == "p"
    ordered = strategic_merge_patch(pod, {"spec": {
        "$setElementOrder/containers": [{"name": "side"}, {"name": "app"}]}})
    assert [c["name"] for c in ordered["spec"]["containers"]] == ["side", "app"]
    unfinalized = strategic_merge_patch(pod, {"metadata": {
        "$deleteFromPrimitiveList/finalizers": ["a/x"]}})
    assert unfinalized["metadata"]["finalizers"] == []
    more = strategic_merge_patch(pod, {"metadata": {"finalizers": ["b/y", "a/x"]}})
    assert sorted(more["metadata"]["finalizers"]) == ["a/x", "b/y"]


def test_retain_keys_clears_other_fields() -> None:
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
           "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    result = strategic_merge_patch(dep, {"spec": {"strategy": {"$retainKeys": ["type"],
                                                               "type": "Recreate"}}})
    assert result["spec"]["strategy"] == {"type": "Recreate"}
    with pytest.raises(ValueError, match="not listed in \\$retainKeys"):
        strategic_merge_patch(dep, {"spec": {"strategy": {"$retainKeys": ["type"],
                                                          "rollingUpdate": {}}}})


def test_service_ports_merge_by_port() -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
           "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}
    result = strategic_merge_patch(svc, {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}})
    assert result["spec"]["ports"] == [{"port": 80, "targetPort": 9090}, {"port": 443}]


def test_owner_references_merge_by_uid() -> None:
    pod = _pod()
    owner = {"uid": "1", "name": "a", "kind": "K", "apiVersion": "v1"}
    pod["metadata"]["ownerReferences"] = [owner]
    result = strategic_merge_patch(pod, {"metadata": {"ownerReferences": [
        {"uid": "2", "name": "b", "kind": "K", "apiVersion": "v1"}]}})
    assert {r["uid"] for r in result["metadata"]["ownerReferences"]} == {"1", "2"}


def test_unknown_kinds_replace_lists() -> None:
    doc = {"kind": "Widget", "spec": {"items": [{"name": "a"}]}}
    assert strategic_merge_patch(doc, {"spec": {"items": [{"name": "b"}]}}) == {
        "kind": "Widget", "spec": {"items": [{"name": "b"}]}}
    pod_like = {"spec": {"containers": [{"name": "a", "image": "x"}]}}
    assert strategic_merge_patch(pod_like, {"spec": {"containers": [{"name": "a", "image": "y"},
                                                                    {"name": "b"}]}},
                                 "Pod")["spec"]["containers"][0] == {"name": "a", "image": "y"}


def test_inputs_are_not_mutated() -> None:
    pod, patch = _pod(), {"spec": {"containers": [{"name": "app", "$patch": "delete"}]},
                          "metadata": {"$deleteFromPrimitiveList/finalizers": ["a/x"]}}
    before_pod, before_patch = copy.deepcopy(pod), copy.deepcopy(patch)
    strategic_merge_patch(pod, patch)
    assert pod == before_pod and patch == before_patch


@pytest.mark.parametrize(("patch", "fragment"), [
    ({"spec": {"containers": [{"image": "x"}]}}, "does not contain declared merge key: name"),
    ({"spec": {"containers": [{"name": "app", "$patch": "bogus"}]}}, "unknown patch type"),
    ({"spec": {"containers": [{"name": "app", "$patch": "merge"}]}}, "cannot yet be specified"),
    ({"metadata": {"$patch": "sideways"}}, "unknown patch type"),
    ({"spec": {"$setElementOrder/containers": [{"name": "side"}],
               "containers": [{"name": "app", "image": "z"}]}}, "doesn't match $setElementOrder"),
    ({"metadata": {"$deleteFromPrimitiveList/finalizers": "a/x"}}, "must be a list"),
])
def test_bad_patches_raise_value_error(patch: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError) as exc:
        strategic_merge_patch(_pod(), patch)
    assert fragment in str(exc.value)


def test_two_way_diff_round_trips() -> None:
    old = _pod()
    new = copy.deepcopy(old)
    new["spec"]["containers"].reverse()
    new["spec"]["containers"][1]["env"].append({"name": "Z", "value": "z"})
    new["metadata"]["finalizers"] = ["b/y"]
    del new["spec"]["tolerations"]
    patch = diff_maps(old, new, root_type("Pod"))
    assert patch["metadata"] == {"$deleteFromPrimitiveList/finalizers": ["a/x"],
                                 "$setElementOrder/finalizers": ["b/y"], "finalizers": ["b/y"]}
    assert patch["spec"]["tolerations"] is None
    assert strategic_merge_patch(old, patch) == new


def test_diff_options_split_changes_and_deletions() -> None:
    old = {"kind": "Pod", "metadata": {"labels": {"a": "1", "b": "2"}}}
    new = {"kind": "Pod", "metadata": {"labels": {"a": "9", "c": "3"}}}
    only_changes = diff_maps(old, new, "Pod", DiffOptions(ignore_deletions=True))
    only_deletions = diff_maps(old, new, "Pod", DiffOptions(ignore_changes=True))
    assert only_changes == {"metadata": {"labels": {"a": "9", "c": "3"}}}
    assert only_deletions == {"metadata": {"labels": {"b": None}}}
    assert merge_patches(only_deletions, only_changes, "Pod") == {
        "metadata": {"labels": {"a": "9", "b": None, "c": "3"}}}


def test_schema_lookup() -> None:
    assert lookup("PodSpec", "containers").key == "name"
    assert lookup("Container", "ports").key == "containerPort"
    assert lookup("ServiceSpec", "ports").key == "port"
    assert lookup("PodSpec", "tolerations").strategy == ""
    assert lookup("DeploymentSpec", "strategy").retain_keys
    assert lookup(None, "anything").strategy == ""
    assert root_type("Deployment") == "Deployment" and root_type("Widget") == "Object"
