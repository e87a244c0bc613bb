"""kubectl explain's page, rendered from an OpenAPI v3 document: go-wordwrap's wrapping, the
type guesses, FIELD/DESCRIPTION/FIELDS, enums, recursion with cycles, and the errors (the
whole-page comparison with the real kubectl is in tests/integration/apiserver/test_openapi.py)."""
from __future__ import annotations

import pytest

from kubectl.explain_render import ExplainError, render, type_guess, wrap

REF = "#/components/schemas/"
DOC = {
    "paths": {"/apis/example.com/v1/namespaces/{namespace}/things": {
        "get": {"x-kubernetes-group-version-kind": {"group": "example.com", "version": "v1", "kind": "Thing"}}}},
    "components": {"schemas": {
        "com.example.v1.Thing": {
            "description": "A thing.", "type": "object", "required": ["spec"],
            "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1", "kind": "Thing"}],
            "properties": {
                "spec": {"allOf": [{"$ref": REF + "com.example.v1.Node"}], "description": "The spec."},
                "mode": {"type": "string", "enum": ["", "A", "B", "C", "D"], "description": "How."},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "port": {"allOf": [{"$ref": REF + "io.k8s.apimachinery.pkg.util.intstr.IntOrString"}]}}},
        "com.example.v1.Node": {"type": "object", "description": "A node of a tree.", "properties": {
            "children": {"type": "array", "items": {"allOf": [{"$ref": REF + "com.example.v1.Node"}]}},
            "name": {"type": "string"}}},
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"format": "int-or-string", "oneOf": [
            {"type": "integer"}, {"type": "string"}]}}}}


def test_wrap_is_go_wordwrap() -> None:
    assert wrap("aaa bbb ccc", 7) == "aaa bbb\nccc"
    assert wrap("a veryveryverylongword b", 5) == "a\nveryveryverylongword\nb"
    assert wrap("first line\nsecond", 40) == "first line\nsecond"
    assert wrap("ends with newline\n", 40) == "ends with newline\n"


def test_type_guess() -> None:
    props = DOC["components"]["schemas"]["com.example.v1.Thing"]["properties"]  # type: ignore[index]
    assert type_guess(props["spec"], DOC) == "Node"
    assert type_guess(props["labels"], DOC) == "map[string]string"
    assert type_guess(props["port"], DOC) == "IntOrString"
    node = DOC["components"]["schemas"]["com.example.v1.Node"]  # type: ignore[index]
    assert type_guess(node["properties"]["children"], DOC) == "[]Node"


def test_page_of_a_kind_and_a_field() -> None:
    page = render(DOC, "example.com", "v1", "things", [])
    assert page == (
        "GROUP:      example.com\nKIND:       Thing\nVERSION:    v1\n\n"
        "DESCRIPTION:\n    A thing.\n    \nFIELDS:\n"
        "  labels\t<map[string]string>\n    <no description>\n\n"
        "  mode\t<string>\n  enum: \"\", A, B, C, ....\n    How.\n\n"
        "  port\t<IntOrString>\n    <no description>\n\n"
        "  spec\t<Node> -required-\n    The spec.\n\n\n")
    page = render(DOC, "example.com", "v1", "things", ["spec"])
    assert "FIELD: spec <Node>\n\n\nDESCRIPTION:\n    The spec.\n    A node of a tree.\n    \nFIELDS:\n" in page


def test_recursive_stops_at_cycles() -> None:
    page = render(DOC, "example.com", "v1", "things", ["spec"], recursive=True)
    assert page.endswith("FIELDS:\n  children\t<[]Node>\n  name\t<string>\n\n")


def test_errors() -> None:
    with pytest.raises(ExplainError) as e:
        render(DOC, "example.com", "v1", "things", ["spec", "nope"])
    assert str(e.value) == 'field "nope" does not exist'
    assert e.value.partial.startswith("GROUP:      example.com\n")
    with pytest.raises(ExplainError) as e:
        render(DOC, "example.com", "v1", "others", [])
    assert str(e.value) == "GVR (example.com/v1, Resource=others) not found in OpenAPI schema"
