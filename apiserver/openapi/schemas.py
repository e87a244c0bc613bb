"""OpenAPI v3 schemas (`components.schemas`) from the project's models and CRD schemas.

Owns the definition names Kubernetes uses (`io.k8s.api.apps.v1.Deployment`,
`io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`, `com.example.stable.v1.CronTab` for a
custom kind), the mapping of Python types to schemas (a nested model becomes a `$ref` behind
`allOf`, as kube-openapi writes a described reference; `IntOrString` and `Quantity` become
their apimachinery definitions), descriptions (a model field's own, else the table in
descriptions.json), `required`, `x-kubernetes-group-version-kind` on each kind, and the
list annotations of api/patch_schema.py (`x-kubernetes-patch-strategy`,
`x-kubernetes-patch-merge-key`, `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`).

`Definitions` collects the schemas one document needs; everything here is pure.
"""
from __future__ import annotations

import json
import types
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from api import patch_schema
from api.models.base import OpenAPIType, ObjectMeta
from api.resources import ResourceInfo

Obj = dict[str, Any]
META = "io.k8s.apimachinery.pkg.apis.meta.v1"
REF = "#/components/schemas/"

#: api/models module -> the Kubernetes package its types belong to
PACKAGES = {"base": META, "core": "io.k8s.api.core.v1", "pod": "io.k8s.api.core.v1",
            "quota": "io.k8s.api.core.v1", "replication": "io.k8s.api.core.v1",
            "apps": "io.k8s.api.apps.v1", "batch": "io.k8s.api.batch.v1",
            "coordination": "io.k8s.api.coordination.v1", "rbac": "io.k8s.api.rbac.v1",
            "certificates": "io.k8s.api.certificates.v1", "networking": "io.k8s.api.networking.v1",
            "policy": "io.k8s.api.policy.v1", "storage": "io.k8s.api.storage.v1",
            "autoscaling": "io.k8s.api.autoscaling.v2", "discovery": "io.k8s.api.discovery.v1",
            "persistentvolume": "io.k8s.api.core.v1",
            "apps_sets": "io.k8s.api.apps.v1",
            "scheduling": "io.k8s.api.scheduling.v1", "node": "io.k8s.api.node.v1",
            "apiextensions": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1"}
#: classes that live in another package than their module's
CLASS_PACKAGES = {"Scale": "io.k8s.api.autoscaling.v1", "ScaleSpec": "io.k8s.api.autoscaling.v1",
                  "ScaleStatus": "io.k8s.api.autoscaling.v1", "Status": META,
                  "StatusDetails": META, "StatusCause": META}
#: a value of any JSON type (an empty schema would read as "no schema" to kubectl's templates)
ANY: Obj = {"x-kubernetes-preserve-unknown-fields": True}
#: where Kubernetes' list-map keys are more than the strategic merge key
LIST_MAP_KEYS = {("Container", "ports"): ["containerPort", "protocol"],
                 ("ServiceSpec", "ports"): ["port", "protocol"],
                 ("PodSpec", "topologySpreadConstraints"): ["topologyKey", "whenUnsatisfiable"]}
#: merged by key for patches, but atomic for server-side apply (duplicates allowed)
ATOMIC = {("NodeStatus", "addresses")}


def definition_name(model: type[BaseModel]) -> str:
    name = model.__name__
    package = CLASS_PACKAGES.get(name)
    if package is None:
        module = model.__module__.rsplit(".", 1)[-1]
        package = PACKAGES.get(module, f"io.k8s.api.{module}.v1")
    return f"{package}.{name}"


def custom_definition_name(r: ResourceInfo) -> str:
    """A custom kind's name, as kube-apiserver gives it: the group reversed."""
    return f"{'.'.join(reversed(r.group.split('.')))}.{r.version}.{r.kind}"


def ref(name: str) -> Obj:
    return {"$ref": REF + name}


def described_ref(name: str, description: str | None) -> Obj:
    out: Obj = {"allOf": [ref(name)]}
    if description:
        out["description"] = description
    return out


@lru_cache(maxsize=1)
def _descriptions() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(
        (Path(__file__).with_name("descriptions.json")).read_text())
    return data


def description(definition: str, field: str = "") -> str | None:
    """Kubernetes' text for a definition (field "") or one of its fields."""
    return _descriptions().get(definition, {}).get(field)


class Definitions:
    """The schemas of one document, added on demand with everything they reference."""

    def __init__(self) -> None:
        self.schemas: Obj = {}

    # ------------------------------------------------------------------ models
    def add_model(self, model: type[BaseModel]) -> str:
        name = definition_name(model)
        if name in self.schemas:
            return name
        self.schemas[name] = {}          # placeholder: models may refer to themselves
        props: Obj = {}
        required: list[str] = []
        for attr, info in model.model_fields.items():
            wire = info.alias or attr
            desc = info.description or description(name, wire) or (
                description(f"{META}.TypeMeta", wire) if _is_object(model) else None)
            if wire in ("apiVersion", "kind") and issubclass(model, BaseModel) and \
                    get_origin(info.annotation) is Literal:
                props[wire] = _with_description({"type": "string"}, desc)
            else:
                markers = [m for m in info.metadata if isinstance(m, OpenAPIType)]
                tp = Annotated[info.annotation, markers[0]] if markers else info.annotation
                props[wire] = self._field(tp, model.__name__, wire, desc)
            if info.is_required():
                required.append(wire)
        schema: Obj = {"type": "object", "properties": dict(sorted(props.items()))}
        own = description(name)
        if own:
            schema = {"description": own, **schema}
        if required:
            schema["required"] = required
        self.schemas[name] = schema
        return name

    def _field(self, tp: Any, owner: str, field: str, desc: str | None) -> Obj:
        schema = self.type_schema(tp)
        if owner == "ObjectMeta" and field == "managedFields":
            schema = {"type": "array", "items": described_ref(self.add_managed_fields_entry(), None)}
        _patch_annotations(schema, owner, field)
        return _with_description(schema, desc)

    def type_schema(self, tp: Any) -> Obj:
        """The schema of a Python annotation (models become references)."""
        origin = get_origin(tp)
        if origin is Annotated:
            base, *meta = get_args(tp)
            for m in meta:
                if isinstance(m, OpenAPIType):
                    self.schemas.setdefault(m.name, {**_own_description(m.name), **json.loads(m.schema)})
                    return described_ref(m.name, None)
            return self.type_schema(base)
        if origin in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) == 1:
                return self.type_schema(members[0])
            return dict(ANY)
        if origin is Literal:
            values = list(get_args(tp))
            return {"type": _json_type(type(values[0])), "enum": values}
        if origin is list:
            (item,) = get_args(tp) or (Any,)
            return {"type": "array", "items": self.type_schema(item)}
        if origin is dict:
            _, value = get_args(tp) or (str, Any)
            if value is Any:
                return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            return {"type": "object", "additionalProperties": self.type_schema(value)}
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp.model_config.get("extra") == "allow" and not tp.model_fields:
                return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            return described_ref(self.add_model(tp), None)
        if tp is Any:
            return dict(ANY)
        if tp in (dict, list):
            return {"type": "object" if tp is dict else "array"}
        return {"type": _json_type(tp), **({"format": "double"} if tp is float else {})}

    # ------------------------------------------------------------------ kinds
    def add_kind(self, r: ResourceInfo, model: type[BaseModel] | None, custom: Obj | None) -> str:
        """The definition of `r`'s objects (from its model, or a CRD's schema) and of its
        list, each with its group-version-kind. Returns the object definition's name."""
        gvk = {"group": r.group, "version": r.version, "kind": r.kind}
        if model is not None and custom is None:
            name = self.add_model(model)
        else:
            name = custom_definition_name(r)
            self.schemas[name] = self._custom(custom or {"type": "object",
                                                         "x-kubernetes-preserve-unknown-fields": True})
        self.schemas[name]["x-kubernetes-group-version-kind"] = [gvk]
        self.add_list(name, r)
        return name

    def _custom(self, schema: Obj) -> Obj:
        """A CRD's schema as kube-apiserver publishes it: apiVersion, kind and metadata added
        (clients computing patches look metadata up in it)."""
        props = dict(schema.get("properties") or {})
        for f in ("apiVersion", "kind"):
            props.setdefault(f, _with_description({"type": "string"}, description(f"{META}.TypeMeta", f)))
        props["metadata"] = described_ref(self.add_model(ObjectMeta),
                                          description(f"{META}.TypeMeta", "metadata"))
        return {**schema, "type": "object", "properties": dict(sorted(props.items()))}

    def add_list(self, item: str, r: ResourceInfo) -> None:
        self.schemas[item + "List"] = {
            "description": description(item + "List") or f"{r.list_kind} is a list of {r.kind} objects.",
            "type": "object", "required": ["items"],
            "properties": {
                "apiVersion": _with_description({"type": "string"}, description(f"{META}.TypeMeta", "apiVersion")),
                "items": {"type": "array", "items": described_ref(item, None),
                          "description": description(item + "List", "items") or f"List of {r.plural}."},
                "kind": _with_description({"type": "string"}, description(f"{META}.TypeMeta", "kind")),
                "metadata": described_ref(self.add_common("ListMeta"), description(f"{META}.TypeMeta", "listMeta"))},
            "x-kubernetes-group-version-kind": [{"group": r.group, "version": r.version, "kind": r.list_kind}]}

    # ------------------------------------------------------------------ meta/v1 bodies
    def add_common(self, short: str) -> str:
        """One of the meta/v1 bodies the paths use (ListMeta, Status, DeleteOptions, Patch,
        WatchEvent), written out here as they have no model."""
        from apiserver.openapi.common import COMMON
        name = f"{META}.{short}"
        if name not in self.schemas:
            self.schemas[name] = {}
            self.schemas[name] = COMMON[short](self)
        return name

    def add_managed_fields_entry(self) -> str:
        return self.add_common("ManagedFieldsEntry")


def _is_object(model: type[BaseModel]) -> bool:
    return {"apiVersion", "kind", "metadata"} <= {i.alias or a for a, i in model.model_fields.items()}


def _json_type(tp: Any) -> str:
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(tp, "string")


def _with_description(schema: Obj, desc: str | None) -> Obj:
    if not desc:
        return schema
    return {"description": desc, **schema}


def _own_description(name: str) -> Obj:
    text = description(name)
    return {"description": text} if text else {}


def _patch_annotations(schema: Obj, owner: str, field: str) -> None:
    """The strategic-merge and list-type markers Kubernetes publishes for a field."""
    meta = patch_schema.lookup(owner, field)
    if schema.get("type") != "array":
        if meta.retain_keys:
            schema["x-kubernetes-patch-strategy"] = "retainKeys"
        return
    if not meta.strategy:
        schema["x-kubernetes-list-type"] = "atomic"
        return
    schema["x-kubernetes-patch-strategy"] = "merge" + (",retainKeys" if meta.retain_keys else "")
    if meta.key:
        schema["x-kubernetes-patch-merge-key"] = meta.key
        if (owner, field) in ATOMIC:
            schema["x-kubernetes-list-type"] = "atomic"
        else:
            schema["x-kubernetes-list-type"] = "map"
            schema["x-kubernetes-list-map-keys"] = LIST_MAP_KEYS.get((owner, field), [meta.key])
    else:
        schema["x-kubernetes-list-type"] = "set"


__all__ = ["Definitions", "META", "REF", "custom_definition_name", "definition_name", "description",
           "described_ref", "ref"]
