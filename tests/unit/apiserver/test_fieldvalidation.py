"""The pure parts of fieldValidation: kube's problem texts and their order for JSON and YAML
bodies, JSON patch operations, Go's map printing, and the three modes."""
from __future__ import annotations

import pytest

from api.resources import by_kind
from apiserver import errors, fieldvalidation as fv

DEPLOYMENT = by_kind("apps/v1", "Deployment")


def test_json_body_in_document_order_unknown_wins_over_repeat() -> None:
    raw = b'{"spec": {"b": 1, "a": 2, "a": 3, "replicas": 1, "replicas": 2, "x": {"k": 1, "k": 2}}}'
    problems, lines = fv.body_problems(raw, "application/json", ["spec.b", "spec.a", "spec.x"])
    assert lines == []
    assert problems == ['unknown field "spec.b"', 'unknown field "spec.a"', 'duplicate field "spec.replicas"',
                        'unknown field "spec.x"']


def test_yaml_body_lines_then_unknown_in_key_order() -> None:
    raw = b"spec:\n  zeta: 1\n  replicas: 1\n  replicas: 2\n  alpha: 3\n"
    problems, lines = fv.body_problems(raw, "application/yaml", ["spec.zeta", "spec.alpha"])
    assert lines == ['line 4: key "replicas" already set in map']
    assert problems == ['unknown field "spec.alpha"', 'unknown field "spec.zeta"']


def test_modes() -> None:
    warnings = ['unknown field "spec.replica"', "other"]
    raw = b'{"spec": {"replica": 1}}'
    assert fv.body_warnings(DEPLOYMENT, "Ignore", raw, "application/json", warnings) == ["other"]
    assert fv.body_warnings(DEPLOYMENT, "Warn", raw, "application/json", warnings) == \
        ["other", 'unknown field "spec.replica"']
    with pytest.raises(errors.APIError) as e:
        fv.body_warnings(DEPLOYMENT, "Strict", raw, "application/json", warnings)
    assert (e.value.code, e.value.message) == (400, 'Deployment in version "v1" cannot be handled as a '
                                                    'Deployment: strict decoding error: unknown field "spec.replica"')
    assert fv.mode({}) == "Warn"
    with pytest.raises(errors.APIError):
        fv.mode({"fieldValidation": "strict"})


def test_json_patch_operations() -> None:
    raw = b'[{"op": "add", "path": "/a", "value": 1, "foo": 2}, {"op": "add", "path": "/b", "path": "/c"}]'
    assert fv.json_patch_problems(raw) == ['json patch unknown field "[0].foo"',
                                           'json patch duplicate field "[1].path"']


def test_go_map_printing() -> None:
    assert fv.go_map({"spec": {"paused": False, "n": 2, "list": ["a", {"b": None}]}, "a": "x y"}) == \
        "map[a:x y spec:map[list:[a map[b:<nil>]] n:2 paused:false]]"


def test_strict_patch_is_invalid_on_the_patch_field() -> None:
    with pytest.raises(errors.APIError) as e:
        fv.patch_warnings(DEPLOYMENT, "Strict", "merge", b'{"spec": {"x": 1}}', {"spec": {"x": 1}},
                          {"spec": {"x": 1}}, ['unknown field "spec.x"'])
    status = e.value.status()
    assert status["code"] == 422 and status["reason"] == "Invalid"
    assert status["message"] == (' "" is invalid: patch: Invalid value: "{\\"spec\\":{\\"x\\":1}}": '
                                 'strict decoding error: unknown field "spec.x"')
    assert status["details"]["causes"][0]["field"] == "patch"


def test_apply_repeated_keys() -> None:
    raw = b"metadata:\n  name: a\n  name: b\n"
    assert fv.apply_warnings("Warn", raw) == ['line 3: key "name" already set in map']
    assert fv.apply_warnings("Ignore", raw) == []
    with pytest.raises(errors.APIError) as e:
        fv.apply_warnings("Strict", raw)
    assert e.value.message.startswith("error strict decoding YAML: error converting YAML to JSON: yaml: "
                                      "unmarshal errors:\n  line 3")
