"""Models for kinds defined at run time (CRDs): typed metadata, everything else kept as is.

`custom_model(row)` makes (once per row) a `K8sObject` subclass whose RESOURCE is `row`
and which keeps every field besides apiVersion, kind and metadata untouched (`spec`,
`status`, ...), so the typed machinery (informers, the garbage collector's graph, the
client's verbs) handles custom resources as it handles built-in ones.
"""
from __future__ import annotations

from pydantic import ConfigDict
from pydantic.alias_generators import to_camel

from api.models.base import K8sObject
from api.resources import ResourceInfo


class CustomObject(K8sObject):
    """An object of a custom kind: metadata typed, the rest extra fields."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


_MODELS: dict[ResourceInfo, type[CustomObject]] = {}


def custom_model(row: ResourceInfo) -> type[CustomObject]:
    model = _MODELS.get(row)
    if model is None:
        model = type(row.kind, (CustomObject,), {"__module__": __name__})
        model.RESOURCE = row
        _MODELS[row] = model
    return model
