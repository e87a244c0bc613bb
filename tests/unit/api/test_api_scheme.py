"""api.scheme: decode through the models, type errors as field errors, unknown-field warnings."""
from __future__ import annotations

from typing import Any

import pytest

from api.field import InvalidError
from api.resources import RESOURCES, by_kind
from api.scheme import decode, unknown_fields

DEPLOYMENT = by_kind("apps/v1", "Deployment")
POD = by_kind("v1", "Pod")
SERVICE = by_kind("v1", "Service")


def deployment(**extra_spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx",
                                                           "ports": [{"containerPort": 80}]}]}},
                     **extra_spec}}


def invalid_errors(resource: Any, obj: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidError) as exc:
        decode(resource, obj)
    return [str(e) for e in exc.value.errors]


def test_decode_round_trips_a_clean_object() -> None:
    obj = deployment()
    clean, warnings = decode(DEPLOYMENT, obj)
    assert clean == obj
    assert warnings == []


def test_unknown_fields_are_dropped_with_warnings() -> None:
    obj = deployment(foo=1)
    obj["spec"]["template"]["spec"]["containers"][0]["bogus"] = {"x": 1}
    obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["extra"] = True
    obj["status"] = {"madeUp": 1}
    clean, warnings = decode(DEPLOYMENT, obj)
    assert warnings == ['unknown field "spec.template.spec.containers[0].ports[0].extra"',
                        'unknown field "spec.template.spec.containers[0].bogus"',
                        'unknown field "spec.foo"',
                        'unknown field "status.madeUp"']
    assert "foo" not in clean["spec"]
    assert clean["spec"]["template"]["spec"]["containers"][0] == {
        "name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}


def test_null_fields_are_not_warnings_and_are_dropped() -> None:
    obj = deployment()
    obj["metadata"]["creationTimestamp"] = None
    obj["status"] = {}
    obj["spec"]["strategy"] = None
    clean, warnings = decode(DEPLOYMENT, obj)
    assert warnings == []
    assert "creationTimestamp" not in clean["metadata"] and "strategy" not in clean["spec"]


def test_free_form_subtrees_round_trip() -> None:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "x",
                                    "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}],
                    "affinity": {"podAntiAffinity": {"anything": [1, 2]}}}}
    clean, warnings = decode(POD, obj)
    assert clean == obj and warnings == []


def test_type_errors_carry_kubernetes_paths() -> None:
    obj = deployment(replicas="three")
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["ports"][0]["containerPort"] = "http"
    container["resources"] = {"limits": {"cpu": [1]}}
    del container["name"]
    obj["metadata"]["labels"] = {"version": 2}
    errs = invalid_errors(DEPLOYMENT, obj)
    assert errs == [
        "metadata.labels[version]: Invalid value: 2: must be a string",
        'spec.replicas: Invalid value: "three": must be an integer',
        "spec.template.spec.containers[0].name: Required value",
        'spec.template.spec.containers[0].ports[0].containerPort: Invalid value: "http": must be '
        "an integer",
        "spec.template.spec.containers[0].resources.limits[cpu]: Invalid value: [1]: must be an "
        "integer or a string",
    ]


def test_upper_case_aliases_in_paths() -> None:
    obj = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
           "spec": {"clusterIP": 5, "ports": [{"port": 80}]}}
    assert invalid_errors(SERVICE, obj) == ["spec.clusterIP: Invalid value: 5: must be a string"]


def test_wrong_kind_and_wrong_shapes() -> None:
    errs = invalid_errors(POD, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}})
    assert errs[0].startswith('kind: Invalid value: "Service"')
    errs = invalid_errors(POD, {"kind": "Pod", "metadata": {"name": "x"}, "spec": []})
    assert errs == ["spec: Invalid value: []: must be an object"]
    errs = invalid_errors(POD, {"kind": "Pod", "metadata": {"name": "x"},
                                "spec": {"containers": {"name": "c"}}})
    assert errs == ['spec.containers: Invalid value: map[string]string{"name":"c"}: '
                    'must be an array']
    with pytest.raises(InvalidError):
        decode(POD, [])  # type: ignore[arg-type]


def test_unknown_fields_helper() -> None:
    assert unknown_fields({"a": 1, "b": {"c": 2, "d": None}, "l": [{"x": 1}, {"y": 2}]},
                          {"a": 1, "b": {}, "l": [{"x": 1}, {}]}) == ["b.c", "l[1].y"]


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.kind)
def test_every_kind_decodes_a_minimal_object(resource: Any) -> None:
    obj = {"apiVersion": resource.api_version, "kind": resource.kind, "metadata": {"name": "x"}}
    clean, warnings = decode(resource, obj)
    assert clean["kind"] == resource.kind and clean["metadata"]["name"] == "x"
    assert warnings == []
