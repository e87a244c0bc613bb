"""The base of every API model, and the metadata shared by all kinds.

Owns `K8sModel` (camelCase on the wire, unknown fields dropped, `None` never serialised),
`K8sObject` (apiVersion/kind/metadata plus the row of the resource table), and the
metadata types: ObjectMeta, OwnerReference, LabelSelector, Condition-like helpers, and the
two scalar types Kubernetes publishes under their own OpenAPI names: `IntOrString` and
`Quantity` (an `OpenAPIType` marker in the annotation names them; parsing is unchanged).

Models are parsed once, on write, by the apiserver; `to_dict()` gives the wire form.
Subtrees pykube does not interpret are typed `dict[str, Any]` so they round-trip intact.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from api.resources import ResourceInfo, by_kind


@dataclass(frozen=True)
class OpenAPIType:
    """Annotation marker: the value is published in OpenAPI as the named definition."""

    name: str
    schema: str     # its OpenAPI v3 schema, as JSON text (the marker must stay hashable)


INT_OR_STRING = OpenAPIType("io.k8s.apimachinery.pkg.util.intstr.IntOrString",
                            '{"format": "int-or-string", "oneOf": [{"type": "integer"}, {"type": "string"}]}')
QUANTITY = OpenAPIType("io.k8s.apimachinery.pkg.api.resource.Quantity",
                       '{"oneOf": [{"type": "string"}, {"type": "number"}]}')
IntOrString = Annotated[int | str, INT_OR_STRING]
Quantity = Annotated[int | str, QUANTITY]


class K8sModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True,
                              extra="ignore", validate_assignment=False)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls.model_validate(data)


class OwnerReference(K8sModel):
    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ManagedFieldsEntry(K8sModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class ObjectMeta(K8sModel):
    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: int | None = None
    creation_timestamp: str | None = None
    deletion_timestamp: str | None = None
    deletion_grace_period_seconds: int | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    owner_references: list[OwnerReference] | None = None
    finalizers: list[str] | None = None
    managed_fields: list[dict[str, Any]] | None = None


class LabelSelectorRequirement(K8sModel):
    key: str
    operator: str
    values: list[str] | None = None


class LabelSelector(K8sModel):
    match_labels: dict[str, str] | None = None
    match_expressions: list[LabelSelectorRequirement] | None = None


class K8sObject(K8sModel):
    """A top-level object. Subclasses set `api_version`/`kind` defaults."""

    RESOURCE: ClassVar[ResourceInfo]

    api_version: str = ""
    kind: str = ""
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)

    @classmethod
    def __pydantic_init_subclass__(cls, **kw: Any) -> None:
        super().__pydantic_init_subclass__(**kw)
        av = cls.model_fields["api_version"].default
        kind = cls.model_fields["kind"].default
        if av and kind:
            try:
                cls.RESOURCE = by_kind(av, kind)
            except LookupError:
                pass  # a body type (Binding), not a stored kind

    @property
    def name(self) -> str:
        return self.metadata.name or ""

    @property
    def namespace(self) -> str | None:
        return self.metadata.namespace

    @property
    def key(self) -> str:
        """`namespace/name` (or `name` for cluster-scoped), the work-queue key."""
        ns = self.metadata.namespace
        return f"{ns}/{self.metadata.name}" if ns else (self.metadata.name or "")
