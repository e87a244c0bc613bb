"""apiextensions.k8s.io/v1 CustomResourceDefinition: a kind served from its definition.

The schema (`openAPIV3Schema`) is kept as the plain JSON it is: its own structure is checked
by apiserver/apiextensions/crd_validation.py, and it is interpreted by the schema modules
beside it. Everything else is typed, so unknown fields of a CRD are dropped with a warning.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.models.base import K8sModel, K8sObject


class CustomResourceDefinitionNames(K8sModel):
    plural: str = ""
    singular: str | None = None
    short_names: list[str] | None = None
    kind: str = ""
    list_kind: str | None = None
    categories: list[str] | None = None


class CustomResourceValidation(K8sModel):
    open_apiv3_schema: dict[str, Any] | None = Field(default=None, alias="openAPIV3Schema")


class CustomResourceColumnDefinition(K8sModel):
    name: str
    type: str
    format: str | None = None
    description: str | None = None
    priority: int | None = None
    json_path: str = Field(alias="jsonPath")


class CustomResourceSubresourceScale(K8sModel):
    spec_replicas_path: str
    status_replicas_path: str
    label_selector_path: str | None = None


class CustomResourceSubresources(K8sModel):
    status: dict[str, Any] | None = None
    scale: CustomResourceSubresourceScale | None = None


class SelectableField(K8sModel):
    json_path: str = Field(alias="jsonPath")


class CustomResourceDefinitionVersion(K8sModel):
    name: str
    served: bool
    storage: bool
    deprecated: bool | None = None
    deprecation_warning: str | None = None
    schema_: CustomResourceValidation | None = Field(default=None, alias="schema")
    subresources: CustomResourceSubresources | None = None
    additional_printer_columns: list[CustomResourceColumnDefinition] | None = None
    selectable_fields: list[SelectableField] | None = None


class CustomResourceConversion(K8sModel):
    strategy: str = "None"
    webhook: dict[str, Any] | None = None


class CustomResourceDefinitionSpec(K8sModel):
    group: str = ""
    names: CustomResourceDefinitionNames = Field(default_factory=CustomResourceDefinitionNames)
    scope: str = ""
    versions: list[CustomResourceDefinitionVersion] = Field(default_factory=list)
    conversion: CustomResourceConversion | None = None
    preserve_unknown_fields: bool | None = None


class CustomResourceDefinitionCondition(K8sModel):
    type: str
    status: str
    last_transition_time: str | None = None
    reason: str | None = None
    message: str | None = None


class CustomResourceDefinitionStatus(K8sModel):
    conditions: list[CustomResourceDefinitionCondition] | None = None
    accepted_names: CustomResourceDefinitionNames | None = None
    stored_versions: list[str] | None = None


class CustomResourceDefinition(K8sObject):
    api_version: Literal["apiextensions.k8s.io/v1"] = "apiextensions.k8s.io/v1"
    kind: Literal["CustomResourceDefinition"] = "CustomResourceDefinition"
    spec: CustomResourceDefinitionSpec = Field(default_factory=CustomResourceDefinitionSpec)
    status: CustomResourceDefinitionStatus | None = None
