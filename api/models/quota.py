"""v1 ResourceQuota and LimitRange: what a namespace may use, and the defaults and bounds of
its containers' resources."""
from __future__ import annotations

from typing import Any, Literal

from api.models.base import K8sModel, K8sObject


class ResourceQuotaSpec(K8sModel):
    hard: dict[str, Any] | None = None
    scopes: list[str] | None = None
    scope_selector: dict[str, Any] | None = None


class ResourceQuotaStatus(K8sModel):
    hard: dict[str, Any] | None = None
    used: dict[str, Any] | None = None


class ResourceQuota(K8sObject):
    api_version: Literal["v1"] = "v1"
    kind: Literal["ResourceQuota"] = "ResourceQuota"
    spec: ResourceQuotaSpec | None = None
    status: ResourceQuotaStatus | None = None


class LimitRangeItem(K8sModel):
    type: str
    max: dict[str, Any] | None = None
    min: dict[str, Any] | None = None
    default: dict[str, Any] | None = None
    default_request: dict[str, Any] | None = None
    max_limit_request_ratio: dict[str, Any] | None = None


class LimitRangeSpec(K8sModel):
    limits: list[LimitRangeItem] = []


class LimitRange(K8sObject):
    api_version: Literal["v1"] = "v1"
    kind: Literal["LimitRange"] = "LimitRange"
    spec: LimitRangeSpec | None = None
