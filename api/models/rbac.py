"""rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding.

A Role (namespaced) or ClusterRole lists PolicyRules: verbs on resources of API groups
(optionally only some resourceNames), or verbs on non-resource URLs (ClusterRoles only).
A ClusterRole may instead carry an aggregationRule: the rules of every ClusterRole whose
labels match are gathered into it by the clusterrole-aggregation controller. A binding
grants a role to subjects (User, Group, ServiceAccount).
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.models.base import K8sModel, K8sObject, LabelSelector


class PolicyRule(K8sModel):
    verbs: list[str] = []
    api_groups: list[str] | None = None
    resources: list[str] | None = None
    resource_names: list[str] | None = None
    non_resource_urls: list[str] | None = Field(default=None, alias="nonResourceURLs")


class AggregationRule(K8sModel):
    cluster_role_selectors: list[LabelSelector] | None = None


class Subject(K8sModel):
    kind: str
    api_group: str | None = None
    name: str
    namespace: str | None = None


class RoleRef(K8sModel):
    api_group: str
    kind: str
    name: str


class Role(K8sObject):
    api_version: Literal["rbac.authorization.k8s.io/v1"] = "rbac.authorization.k8s.io/v1"
    kind: Literal["Role"] = "Role"
    rules: list[PolicyRule] | None = None


class ClusterRole(K8sObject):
    api_version: Literal["rbac.authorization.k8s.io/v1"] = "rbac.authorization.k8s.io/v1"
    kind: Literal["ClusterRole"] = "ClusterRole"
    rules: list[PolicyRule] | None = None
    aggregation_rule: AggregationRule | None = None


class RoleBinding(K8sObject):
    api_version: Literal["rbac.authorization.k8s.io/v1"] = "rbac.authorization.k8s.io/v1"
    kind: Literal["RoleBinding"] = "RoleBinding"
    subjects: list[Subject] | None = None
    role_ref: RoleRef | None = None


class ClusterRoleBinding(K8sObject):
    api_version: Literal["rbac.authorization.k8s.io/v1"] = "rbac.authorization.k8s.io/v1"
    kind: Literal["ClusterRoleBinding"] = "ClusterRoleBinding"
    subjects: list[Subject] | None = None
    role_ref: RoleRef | None = None
