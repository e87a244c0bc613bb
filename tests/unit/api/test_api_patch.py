"""api.patch: RFC 7386 merge patch, RFC 6902 JSON patch, and kubectl's three-way apply patch.

`golden/apply_cases.json` holds patches recorded from real kubectl (client-side apply against
a stub apiserver); three_way_merge must produce exactly the same bytes-for-bytes structure.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from api.patch import json_merge_patch, json_patch, strategic_merge_patch, three_way_merge

GOLDEN = json.loads((Path(__file__).parent / "golden" / "apply_cases.json").read_text())["cases"]


# ---------------------------------------------------------------- RFC 7386
@pytest.mark.parametrize(("doc", "patch", "result"), [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
])
def test_json_merge_patch_rfc7386_examples(doc: Any, patch: Any, result: Any) -> None:
    before = copy.deepcopy(doc)
    assert json_merge_patch(doc, patch) == result
    assert doc == before


# ---------------------------------------------------------------- RFC 6902
def test_json_patch_operations() -> None:
    doc = {"spec": {"replicas": 1, "containers": [{"name": "a"}, {"name": "b"}]},
           "metadata": {"labels": {"x/y": "1", "t~n": "2"}}}
    ops = [
        {"op": "test", "path": "/spec/replicas", "value": 1},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/spec/containers/1", "value": {"name": "mid"}},
        {"op": "add", "path": "/spec/containers/-", "value": {"name": "end"}},
        {"op": "remove", "path": "/spec/containers/0"},
        {"op": "remove", "path": "/metadata/labels/x~1y"},
        {"op": "copy", "from": "/metadata/labels/t~0n", "path": "/metadata/labels/copied"},
        {"op": "move", "from": "/spec/containers/2", "path": "/spec/last"},
        {"op": "add", "path": "/status", "value": {"phase": "Running"}},
    ]
    before = copy.deepcopy(doc)
    result = json_patch(doc, ops)
    assert doc == before
    assert result == {"spec": {"replicas": 3, "containers": [{"name": "mid"}, {"name": "b"}],
                               "last": {"name": "end"}},
                      "metadata": {"labels": {"t~n": "2", "copied": "2"}},
                      "status": {"phase": "Running"}}


def test_json_patch_replace_whole_document() -> None:
    assert json_patch({"a": 1}, [{"op": "replace", "path": "", "value": {"b": 2}}]) == {"b": 2}


@pytest.mark.parametrize(("ops", "fragment"), [
    ([{"op": "test", "path": "/a", "value": 2}], "test operation failed"),
    ([{"op": "test", "path": "/a", "value": True}], "test operation failed"),
    ([{"op": "remove", "path": "/missing"}], "nonexistent key"),
    ([{"op": "replace", "path": "/missing", "value": 1}], "does not exist"),
    ([{"op": "add", "path": "/l/5", "value": 1}], "out of bounds"),
    ([{"op": "add", "path": "/l/01", "value": 1}], "invalid array index"),
    ([{"op": "add", "path": "/x/y", "value": 1}], "does not exist"),
    ([{"op": "add", "path": "a", "value": 1}], "must start with"),
    ([{"op": "add", "path": "/a"}], 'missing "value"'),
    ([{"op": "move", "path": "/b"}], 'missing "from"'),
    ([{"op": "move", "from": "/o", "path": "/o/inner"}], "its own child"),
    ([{"op": "frobnicate", "path": "/a"}], 'unknown op "frobnicate"'),
    ([{"path": "/a"}], "unknown op"),
    ("not a list", "must be a list"),
])
def test_json_patch_errors(ops: Any, fragment: str) -> None:
    doc = {"a": 1, "l": [1], "o": {"k": 1}}
    with pytest.raises(ValueError) as exc:
        json_patch(doc, ops)
    assert fragment in str(exc.value)
    assert doc == {"a": 1, "l": [1], "o": {"k": 1}}


# ---------------------------------------------------------------- three-way merge
def _deployment() -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web", "tier": "fe"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [
                                      {"name": "nginx", "image": "nginx:1.25",
                                       "env": [{"name": "A", "value": "1"},
                                               {"name": "B", "value": "2"}]}]}}}}


def _live(obj: dict[str, Any]) -> dict[str, Any]:
    live = copy.deepcopy(obj)
    live["metadata"]["uid"] = "u-1"
    live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    live["status"] = {"replicas": 2}
    return live


def test_three_way_unchanged_is_empty() -> None:
    applied = _deployment()
    assert three_way_merge(applied, applied, _live(applied)) == {}
    live = copy.deepcopy(applied)
    live["status"] = {"replicas": 2}
    assert three_way_merge(applied, applied, live, strategic=False) == {}


def test_three_way_removing_a_field_from_the_file_removes_it() -> None:
    applied = _deployment()
    new = copy.deepcopy(applied)
    del new["metadata"]["labels"]["tier"]
    del new["spec"]["replicas"]
    patch = three_way_merge(applied, new, _live(applied))
    assert patch == {"metadata": {"labels": {"tier": None}}, "spec": {"replicas": None}}
    result = strategic_merge_patch(_live(applied), patch)
    assert "tier" not in result["metadata"]["labels"] and "replicas" not in result["spec"]
    assert result["status"] == {"replicas": 2}


def test_three_way_keeps_fields_set_by_others() -> None:
    applied = _deployment()
    live = _live(applied)
    live["metadata"]["annotations"] = {"someone/else": "x"}
    new = copy.deepcopy(applied)
    new["spec"]["replicas"] = 3
    patch = three_way_merge(applied, new, live)
    assert patch == {"spec": {"replicas": 3}}
    result = strategic_merge_patch(live, patch)
    assert result["metadata"]["annotations"] == {"someone/else": "x"}
    assert result["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"


def test_three_way_image_and_env_changes_use_merge_keys() -> None:
    applied = _deployment()
    new = copy.deepcopy(applied)
    container = new["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "nginx:1.26"
    container["env"] = [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}]
    patch = three_way_merge(applied, new, _live(applied))
    assert patch == {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "nginx"}],
        "containers": [{"name": "nginx", "image": "nginx:1.26",
                        "$setElementOrder/env": [{"name": "A"}, {"name": "C"}],
                        "env": [{"name": "C", "value": "3"}, {"name": "B", "$patch": "delete"}]}],
    }}}}
    result = strategic_merge_patch(_live(applied), patch)
    live_container = result["spec"]["template"]["spec"]["containers"][0]
    assert live_container["env"] == [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}]
    assert live_container["image"] == "nginx:1.26"
    assert live_container["imagePullPolicy"] == "IfNotPresent"


def test_three_way_first_apply_sends_the_whole_file_minus_what_matches() -> None:
    new = _deployment()
    live = _live(new)
    assert three_way_merge(None, new, live) == {}
    live["spec"]["replicas"] = 5
    assert three_way_merge({}, new, live) == {"spec": {"replicas": 2}}


def test_three_way_json_merge_for_unknown_kinds() -> None:
    original = {"apiVersion": "x.io/v1", "kind": "Widget", "metadata": {"name": "w"},
                "spec": {"items": [1, 2], "size": 1, "gone": True}}
    modified = {"apiVersion": "x.io/v1", "kind": "Widget", "metadata": {"name": "w"},
                "spec": {"items": [1, 2, 3], "size": 1}}
    current = copy.deepcopy(original)
    current["status"] = {"ok": True}
    patch = three_way_merge(original, modified, current, strategic=False)
    assert patch == {"spec": {"items": [1, 2, 3], "gone": None}}
    assert json_merge_patch(current, patch) == {**modified, "status": {"ok": True}}


@pytest.mark.parametrize("case", GOLDEN, ids=[c["name"] for c in GOLDEN])
def test_three_way_matches_kubectl(case: dict[str, Any]) -> None:
    inputs = copy.deepcopy(case)
    assert three_way_merge(case["original"], case["modified"], case["current"]) == case["patch"]
    assert inputs == case  # nothing was mutated


@pytest.mark.parametrize("case", GOLDEN, ids=[c["name"] for c in GOLDEN])
def test_applying_the_three_way_patch_yields_the_file(case: dict[str, Any]) -> None:
    result = strategic_merge_patch(case["current"], case["patch"])
    for key in ("metadata", "spec", "data"):
        if key in case["modified"]:
            assert _contains(result[key], case["modified"][key]), key


def _contains(live: Any, wanted: Any) -> bool:
    """Everything in `wanted` is in `live`; merge-list items appear in order (live may have
    extra items others added, as kubectl apply leaves them)."""
    if isinstance(wanted, dict):
        return isinstance(live, dict) and all(k in live and _contains(live[k], v)
                                              for k, v in wanted.items())
    if isinstance(wanted, list) and wanted and isinstance(wanted[0], dict):
        remaining = iter(live) if isinstance(live, list) else iter(())
        return all(any(_contains(x, w) for x in remaining) for w in wanted)
    return bool(live == wanted)


def test_json_patch_more_paths() -> None:
    doc = {"l": [{"a": 1}, {"a": 2}], "s": "x"}
    assert json_patch(doc, [{"op": "remove", "path": "/l/0"}]) == {"l": [{"a": 2}], "s": "x"}
    assert json_patch(doc, [{"op": "replace", "path": "/l/1/a", "value": 3}])["l"][1] == {"a": 3}
    assert json_patch(doc, [{"op": "add", "path": "", "value": [1]}]) == [1]
    assert json_patch(doc, [{"op": "test", "path": "/l/0", "value": {"a": 1}}]) == doc
    for bad in ([{"op": "add", "path": "/l/x", "value": 1}], [{"op": "remove", "path": "/s/x"}],
                [{"op": "remove", "path": ""}], [{"op": "add", "path": 5, "value": 1}], [5]):
        with pytest.raises(ValueError):
            json_patch(doc, bad)


def test_three_way_type_change_and_nested_deletions() -> None:
    original = {"kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "1"}},
                "data": {"k": "v"}}
    modified = {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v2"},
                "binaryData": {"b": "AA=="}}
    current = copy.deepcopy(original)
    patch = three_way_merge(original, modified, current)
    assert patch == {"metadata": {"labels": None}, "data": {"k": "v2"},
                     "binaryData": {"b": "AA=="}}
    assert strategic_merge_patch(current, patch) == modified
    json_patch_result = three_way_merge(original, modified, current, strategic=False)
    assert json_patch_result == patch
