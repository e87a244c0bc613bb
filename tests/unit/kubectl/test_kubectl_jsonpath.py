"""kubectl's JSONPath subset: fields, indexes, slices, wildcards, recursion, unions,
filters, literals and range/end, printed as kubectl prints them."""
from __future__ import annotations

from typing import Any

import pytest

from api import jsonpath

DATA: dict[str, Any] = {
    "kind": "List",
    "items": [
        {"metadata": {"name": "a", "labels": {"app": "x"}, "annotations": {"k.io/x": "1"}},
         "spec": {"replicas": 1, "containers": [{"image": "nginx"}, {"image": "redis"}]},
         "status": {"conditions": [{"type": "Ready", "status": "True"},
                                   {"type": "Scheduled", "status": "False"}]}},
        {"metadata": {"name": "b"}, "spec": {"replicas": 3, "paused": True}},
    ],
}


@pytest.mark.parametrize("template,expected", [
    ("{.items[*].metadata.name}", "a b"),
    ('{range .items[*]}{.metadata.name}{"\\n"}{end}', "a\nb\n"),
    ('{range .items[*]}[{.metadata.name}]{end}', "[a][b]"),
    ('{.items[0].status.conditions[?(@.type=="Ready")].status}', "True"),
    ('{.items[0].status.conditions[?(@.status!="True")].type}', "Scheduled"),
    ("{.items[*].spec.containers[*].image}", "nginx redis"),
    ("{.items[-1].metadata.name}", "b"),
    ("{.items[-1:].metadata.name}", "b"),
    ("{.items[0:1].metadata.name}", "a"),
    ("{..image}", "nginx redis"),
    ("{.items[0].metadata.labels}", '{"app":"x"}'),
    ("{.items[0].metadata.annotations.k\\.io/x}", "1"),
    ("{.items[0].metadata.annotations['k.io/x']}", "1"),
    ("{.items[?(@.spec.replicas>2)].metadata.name}", "b"),
    ("{.items[?(@.spec.replicas<=1)].metadata.name}", "a"),
    ("{.items[?(@.spec.paused)].metadata.name}", "b"),
    ("{.items[?(@.spec.paused==true)].metadata.name}", "b"),
    ("name: {.items[1].metadata.name}!", "name: b!"),
    ('{.items[0].metadata["name","labels"]}', 'a {"app":"x"}'),
    ("{$.kind}", "List"),
    ("{.kind}", "List"),
    ("{.items[*].metadata.missing}", ""),
    ("{.items[5].metadata.name}", ""),
    ("{.items[1].spec.paused}", "true"),
    ("{.items[0].spec.replicas}", "1"),
    ("{.items[0].metadata.*}", 'a {"app":"x"} {"k.io/x":"1"}'),
    ("plain text", "plain text"),
])
def test_templates(template: str, expected: str) -> None:
    assert jsonpath.render(template, DATA) == expected


@pytest.mark.parametrize("template", ["{.a", "{range .items[*]}{.x}", "{end}", "{.a[?(@.x==)]}"])
def test_bad_templates(template: str) -> None:
    with pytest.raises(jsonpath.JSONPathError):
        jsonpath.render(template, DATA)


@pytest.mark.parametrize("expr,expected", [
    (".metadata.name", "{.metadata.name}"), ("metadata.name", "{.metadata.name}"),
    ("{.metadata.name}", "{.metadata.name}"), ("{metadata.name}", "{.metadata.name}"),
    (".spec.containers[*].image", "{.spec.containers[*].image}"),
])
def test_relaxed(expr: str, expected: str) -> None:
    assert jsonpath.relaxed(expr) == expected


def test_go_value_formats_like_percent_v() -> None:
    assert jsonpath.go_value({"b": 1, "a": [1, "x"]}) == "map[a:[1 x] b:1]"
    assert jsonpath.go_value(None) == "<nil>"
    assert jsonpath.go_value(True) == "true"


def test_go_json_escapes_html_like_go() -> None:
    assert jsonpath.go_json({"b": "<&>", "a": 1}) == '{"a":1,"b":"\\u003c\\u0026\\u003e"}'
