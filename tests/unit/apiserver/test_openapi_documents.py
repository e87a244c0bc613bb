"""The OpenAPI documents built from the resource table: valid OpenAPI 3.0 and Swagger 2.0 (checked
by openapi-spec-validator), one schema and list per kind with its group-version-kind, every
verb of every resource as a path with kube's operationId, the cache following the table (a
custom kind comes and goes), and the gnostic protobuf form of v2."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_spec_validator import validate

from api.resources import RESOURCES, ResourceInfo, register, unregister
from apiserver import protobuf, strategies
from apiserver.openapi import documents, invalidate, proto_v2
from apiserver.openapi.paths import group_prefix
from apiserver.openapi.schemas import definition_name

Obj = dict[str, Any]


def v3(path: str) -> Obj:
    doc = documents.v3(path)
    assert doc is not None, path
    return json.loads(doc.body)


def test_every_document_is_valid_openapi() -> None:
    for g, v in documents.group_versions():
        validate(v3(documents.gv_path(g, v)))
    validate(json.loads(documents.v2().body))


def test_every_builtin_kind_has_its_schema_list_and_paths() -> None:
    from api.models import MODELS
    models = {m.RESOURCE: m for m in MODELS}
    for r in RESOURCES:
        doc = v3(documents.gv_path(r.group, r.version))
        name = definition_name(models[r])
        gvk = {"group": r.group, "version": r.version, "kind": r.kind}
        assert doc["components"]["schemas"][name]["x-kubernetes-group-version-kind"] == [gvk], r
        listed = doc["components"]["schemas"][name + "List"]
        assert listed["x-kubernetes-group-version-kind"][0]["kind"] == r.list_kind
        ops = {op["operationId"]: (path, method) for path, item in doc["paths"].items()
               for method, op in item.items() if method != "parameters"}
        ns = "Namespaced" if r.namespaced else ""
        prefix = group_prefix(r.group, r.version)
        want = {"list": f"list{prefix}{ns}{r.kind}", "create": f"create{prefix}{ns}{r.kind}",
                "get": f"read{prefix}{ns}{r.kind}", "update": f"replace{prefix}{ns}{r.kind}",
                "patch": f"patch{prefix}{ns}{r.kind}", "delete": f"delete{prefix}{ns}{r.kind}",
                "deletecollection": f"delete{prefix}Collection{ns}{r.kind}",
                "watch": f"list{prefix}{ns}{r.kind}"}          # watch=true on the list
        for verb in r.verbs:
            assert want[verb] in ops, (r.kind, verb)
        for sub in set(r.subresources) & {"status", "scale"}:
            assert f"read{prefix}{ns}{r.kind}{sub.capitalize()}" in ops


def test_operation_ids_are_unique_and_writes_take_field_validation() -> None:
    v2 = json.loads(documents.v2().body)
    seen: list[str] = []
    for item in v2["paths"].values():
        for method, op in item.items():
            if method == "parameters":
                continue
            seen.append(op["operationId"])
            if method in ("post", "put", "patch") and "Binding" not in op["operationId"]:
                names = {p["name"] for p in op.get("parameters", [])}
                if op["x-kubernetes-action"] != "connect":
                    assert "fieldValidation" in names, op["operationId"]
    assert len(seen) == len(set(seen))


def test_descriptions_and_scalar_definitions() -> None:
    schemas = v3("api/v1")["components"]["schemas"]
    assert schemas["io.k8s.api.core.v1.Container"]["description"] == \
        "A single application container that you want to run within a pod."
    assert schemas["io.k8s.api.core.v1.Container"]["properties"]["image"]["description"].startswith(
        "Container image name.")
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"
    quantity = schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]
    assert quantity["oneOf"] == [{"type": "string"}, {"type": "number"}]
    finalizers = schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]["finalizers"]
    assert finalizers["x-kubernetes-list-type"] == "set" and finalizers["x-kubernetes-patch-strategy"] == "merge"
    volumes = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["volumes"]
    assert volumes["x-kubernetes-patch-strategy"] == "merge,retainKeys"
    addresses = schemas["io.k8s.api.core.v1.NodeStatus"]["properties"]["addresses"]
    assert addresses["x-kubernetes-list-type"] == "atomic" and addresses["x-kubernetes-patch-merge-key"] == "type"
    v2 = json.loads(documents.v2().body)["definitions"]
    assert v2["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["type"] == "string"
    strategy = v2["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"]
    assert strategy["$ref"] == "#/definitions/io.k8s.api.apps.v1.DeploymentStrategy"


WIDGET = ResourceInfo("example.com", "v1", "Widget", "widgets", True)
SCHEMA = {"type": "object", "properties": {"spec": {"type": "object", "required": ["size"], "properties": {
    "size": {"type": "integer"}, "colour": {"type": "string", "enum": ["red", "blue"]}}}}}


class WidgetStrategy(strategies.Strategy):
    def openapi_schema(self) -> dict[str, Any] | None:
        return SCHEMA


@pytest.fixture
def widget() -> Iterator[None]:
    register([WIDGET])
    strategies.register(WidgetStrategy(WIDGET))
    try:
        yield
    finally:
        unregister(WIDGET.group, WIDGET.plural)
        strategies.unregister(WIDGET)


def test_a_custom_kind_comes_and_goes_with_the_table() -> None:
    root = json.loads(documents.v3_root().body)["paths"]
    assert "apis/example.com/v1" not in root
    register([WIDGET])
    strategies.register(WidgetStrategy(WIDGET))
    try:
        root = json.loads(documents.v3_root().body)["paths"]
        doc = v3("apis/example.com/v1")
        validate(doc)
        widget = doc["components"]["schemas"]["com.example.v1.Widget"]
        assert widget["properties"]["spec"] == SCHEMA["properties"]["spec"]
        assert widget["x-kubernetes-group-version-kind"] == [{"group": "example.com", "version": "v1",
                                                              "kind": "Widget"}]
        assert "apis/example.com/v1" in root
        patch_types = doc["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"][
            "requestBody"]["content"]
        assert "application/strategic-merge-patch+json" not in patch_types      # as for any custom kind
    finally:
        unregister(WIDGET.group, WIDGET.plural)
        strategies.unregister(WIDGET)
    assert documents.v3("apis/example.com/v1") is None


def test_invalidate_rebuilds_what_a_strategy_publishes(widget: None) -> None:
    first = documents.v3("apis/example.com/v1")
    assert first is not None and documents.v3("apis/example.com/v1") is first        # cached
    SCHEMA["properties"]["spec"]["properties"]["weight"] = {"type": "number"}
    try:
        assert documents.v3("apis/example.com/v1") is first
        invalidate()
        second = documents.v3("apis/example.com/v1")
        assert second is not None and second.etag != first.etag
        assert "weight" in json.loads(second.body)["components"]["schemas"]["com.example.v1.Widget"][
            "properties"]["spec"]["properties"]
    finally:
        del SCHEMA["properties"]["spec"]["properties"]["weight"]
        invalidate()


def test_swagger_protobuf_carries_the_definitions() -> None:
    body, etag = proto_v2.document()
    top = {num: value for num, _, value in protobuf.fields(body) if num in (1, 2, 9)}
    assert top[1] == b"2.0"
    names = [dict((n, v) for n, _, v in protobuf.fields(entry))[1].decode()
             for _, _, entry in protobuf.fields(top[9])]               # Definitions.additional_properties
    assert names == sorted(json.loads(documents.v2().body)["definitions"])
    assert len(etag) == 128 and proto_v2.document()[0] is body
