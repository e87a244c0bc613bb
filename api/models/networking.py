"""networking.k8s.io/v1 NetworkPolicy: which traffic may reach (ingress) and leave (egress)
the pods a policy selects. The rule subtrees stay wire dicts (validated in
api/validation_netpol.py, interpreted by kubelet/netpol/)."""
from __future__ import annotations

from typing import Any, Literal

from api.models.base import K8sModel, K8sObject, LabelSelector


class NetworkPolicySpec(K8sModel):
    pod_selector: LabelSelector | None = None
    policy_types: list[str] | None = None
    ingress: list[dict[str, Any]] | None = None
    egress: list[dict[str, Any]] | None = None


class NetworkPolicy(K8sObject):
    api_version: Literal["networking.k8s.io/v1"] = "networking.k8s.io/v1"
    kind: Literal["NetworkPolicy"] = "NetworkPolicy"
    spec: NetworkPolicySpec | None = None
