"""coordination.k8s.io/v1 Lease: node heartbeats and leader election."""
from __future__ import annotations

from typing import Literal

from api.models.base import K8sModel, K8sObject


class LeaseSpec(K8sModel):
    holder_identity: str | None = None
    lease_duration_seconds: int | None = None
    acquire_time: str | None = None
    renew_time: str | None = None
    lease_transitions: int | None = None


class Lease(K8sObject):
    api_version: Literal["coordination.k8s.io/v1"] = "coordination.k8s.io/v1"
    kind: Literal["Lease"] = "Lease"
    spec: LeaseSpec | None = None
