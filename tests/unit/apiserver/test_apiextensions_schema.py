"""The structural-schema modules of apiserver/apiextensions: validation with Kubernetes'
texts, pruning, defaulting, and what makes a CRD valid."""
from __future__ import annotations

import copy
from typing import Any

from apiserver.apiextensions import crd_validation, structural, validation

SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "spec": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
        "size": {"type": "integer", "minimum": 1, "exclusiveMaximum": True, "maximum": 10},
        "ratio": {"type": "number", "multipleOf": 0.5},
        "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
        "port": {"x-kubernetes-int-or-string": True},
        "tags": {"type": "array", "maxItems": 2, "minItems": 1, "uniqueItems": True,
                 "items": {"type": "string"}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 1},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                 "properties": {"known": {"type": "object", "properties": {"x": {"type": "integer"}}}}},
        "nested": {"type": "object", "default": {}, "properties": {
            "deep": {"type": "string", "default": "d"}}},
        "maybe": {"type": "string", "nullable": True},
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "n": {"type": "integer", "default": 7}}}}}}}}


def texts(obj: dict[str, Any]) -> list[str]:
    return [str(e) for e in validation.validate(SCHEMA, obj)]


def cr(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "x.io/v1", "kind": "X", "metadata": {"name": "n"}, "spec": {"name": "ok", **spec}}


def test_a_valid_object_has_no_errors() -> None:
    assert texts(cr(size=9, ratio=1.5, mode="b", port="http", tags=["a"], labels={"k": "v"},
                    free={"anything": [1, {"x": None}]}, maybe=None)) == []
    assert texts(cr(port=8080)) == []


def test_each_rule_in_kubernetes_words() -> None:
    assert texts(cr(name="Abcdef")) == [
        'spec.name: Too long: may not be longer than 5',
        "spec.name: Invalid value: \"Abcdef\": spec.name in body should match '^[a-z]+$'"]
    assert texts(cr(name="a")) == ['spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long']
    assert texts(cr(size=10)) == ["spec.size: Invalid value: 10: spec.size in body should be less than 10"]
    assert texts(cr(size=0)) == ["spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"]
    assert texts(cr(size=1.5)) == ['spec.size: Invalid value: 1.5: spec.size in body must be of type integer: "number"']
    assert texts(cr(ratio=0.3)) == ["spec.ratio: Invalid value: 0.3: spec.ratio in body should be a multiple of 0.5"]
    assert texts(cr(mode="c")) == ['spec.mode: Unsupported value: "c": supported values: "a", "b"']
    assert texts(cr(port=[1])) == ['spec.port: Invalid value: []interface {}{1}: spec.port in body must be of type integer,string: "array"']
    assert texts(cr(tags=["a", "a", "b"])) == [
        "spec.tags: Too many: 3: must have at most 2 items",
        'spec.tags: Invalid value: []interface {}{"a", "a", "b"}: spec.tags in body shouldn\'t contain duplicates']
    assert texts(cr(tags=[])) == ["spec.tags: Invalid value: []interface {}{}: spec.tags in body should have at least 1 items"]
    assert texts(cr(tags=[1])) == ['spec.tags[0]: Invalid value: 1: spec.tags[0] in body must be of type string: "integer"']
    assert texts(cr(labels={"a": "1", "b": 2})) == [
        "spec.labels: Too many: 2: must have at most 1 item",
        'spec.labels.b: Invalid value: 2: spec.labels.b in body must be of type string: "integer"']
    assert texts(cr(free={"known": {"x": "y"}})) == [
        'spec.free.known.x: Invalid value: "y": spec.free.known.x in body must be of type integer: "string"']
    assert texts({"apiVersion": "x.io/v1", "kind": "X", "metadata": {}, "spec": {}}) == ["spec.name: Required value"]
    assert texts({"kind": "X", "spec": "no"}) == ['spec: Invalid value: "no": spec in body must be of type object: "string"']


def test_pruning_drops_what_the_schema_does_not_name() -> None:
    obj = cr(unknown=1, free={"kept": {"deep": 1}, "known": {"x": 1, "gone": 2}},
             labels={"any-key": "kept"}, items=[{"n": 1, "m": 2}])
    obj["status"] = {"s": 1}
    obj["metadata"]["whatever"] = 1      # metadata is ObjectMeta's business, not the schema's
    dropped = structural.prune(SCHEMA, obj)
    assert dropped == ["spec.unknown", "spec.free.known.gone", "spec.items[0].m", "status"]
    assert obj["spec"]["free"] == {"kept": {"deep": 1}, "known": {"x": 1}}
    assert obj["spec"]["labels"] == {"any-key": "kept"}
    assert obj["metadata"] == {"name": "n", "whatever": 1} and "status" not in obj
    bare = {"apiVersion": "v", "kind": "K", "spec": {"a": 1}}
    assert structural.prune({"type": "object"}, bare) == ["spec"]


def test_defaulting_fills_absent_and_non_nullable_nulls() -> None:
    obj = cr(items=[{}, {"n": 3}], mode=None, maybe=None)
    structural.default(SCHEMA, obj)
    spec = obj["spec"]
    assert spec["mode"] == "a" and spec["nested"] == {"deep": "d"}   # defaults inside defaults
    assert spec["items"] == [{"n": 7}, {"n": 3}]
    assert spec["maybe"] is None                                       # nullable keeps its null
    obj = cr(size=None)
    structural.default(SCHEMA, obj)
    assert "size" not in obj["spec"]                                   # a null without default goes
    again = copy.deepcopy(obj)
    structural.default(SCHEMA, again)
    assert again == obj                                                # idempotent


CRD: dict[str, Any] = {
    "metadata": {"name": "things.x.io"},
    "spec": {"group": "x.io", "scope": "Namespaced", "names": {"plural": "things", "kind": "Thing"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object"}}}]}}


def crd_errors(change: Any) -> list[str]:
    crd = copy.deepcopy(CRD)
    change(crd)
    return [str(e) for e in crd_validation.validate_crd(crd)]


def test_a_crd_is_checked_as_kube_apiserver_checks_it() -> None:
    assert crd_errors(lambda c: None) == []
    assert crd_errors(lambda c: c["spec"].update(group="xio")) == [
        'metadata.name: Invalid value: "things.x.io": must be spec.names.plural+"."+spec.group',
        'spec.group: Invalid value: "xio": should be a domain with at least one dot']
    assert crd_errors(lambda c: c["spec"].update(scope="Global")) == [
        'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"']
    assert crd_errors(lambda c: c["spec"]["versions"][0].pop("schema")) == [
        "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"]
    assert crd_errors(lambda c: c["spec"]["versions"][0]["schema"].update(
        openAPIV3Schema={"type": "object", "properties": {"spec": {"properties": {}}, "l": {"type": "array"}}})) == [
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields",
        "spec.versions[0].schema.openAPIV3Schema.properties[l].items: Required value: must be specified"]
    assert crd_errors(lambda c: c["spec"].update(conversion={"strategy": "Webhook"})) == [
        "spec.conversion.strategy: Forbidden: conversion webhooks are not supported by pykube: every "
        'version must convert with strategy "None" (apiVersion changes only)']
    two_storage = crd_errors(lambda c: c["spec"]["versions"].append(dict(c["spec"]["versions"][0], name="v2")))
    assert two_storage == ['spec.versions: Invalid value: []string{"v1", "v2"}: must have exactly one version marked as storage version']
    assert crd_errors(lambda c: c["spec"]["versions"][0].update(selectableFields=[{"jsonPath": ".spec.x"}])) == [
        'spec.versions[0].selectableFields[0].jsonPath: Invalid value: ".spec.x": is an invalid path: does not refer to a valid field']
    assert crd_errors(lambda c: c["spec"]["versions"][0].update(
        subresources={"scale": {"specReplicasPath": ".status.r", "statusReplicasPath": ".status.r"}})) == [
        'spec.versions[0].subresources.scale.specReplicasPath: Invalid value: ".status.r": should be a json path under .spec']
