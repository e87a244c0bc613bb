"""policy/v1 PodDisruptionBudget, and the Eviction body of the pods/eviction subresource."""
from __future__ import annotations

from typing import Literal

from api.models.base import K8sModel, K8sObject, LabelSelector
from api.models.base import IntOrString

DISRUPTION_ALLOWED = "DisruptionAllowed"


class PodDisruptionBudgetSpec(K8sModel):
    min_available: IntOrString | None = None
    selector: LabelSelector | None = None
    max_unavailable: IntOrString | None = None
    unhealthy_pod_eviction_policy: str | None = None


class PodDisruptionBudgetCondition(K8sModel):
    type: str
    status: str
    observed_generation: int | None = None
    last_transition_time: str | None = None
    reason: str | None = None
    message: str | None = None


class PodDisruptionBudgetStatus(K8sModel):
    observed_generation: int | None = None
    disrupted_pods: dict[str, str] | None = None
    disruptions_allowed: int = 0
    current_healthy: int = 0
    desired_healthy: int = 0
    expected_pods: int = 0
    conditions: list[PodDisruptionBudgetCondition] | None = None


class PodDisruptionBudget(K8sObject):
    api_version: Literal["policy/v1"] = "policy/v1"
    kind: Literal["PodDisruptionBudget"] = "PodDisruptionBudget"
    spec: PodDisruptionBudgetSpec | None = None
    status: PodDisruptionBudgetStatus | None = None


class Eviction(K8sObject):
    """Body of pods/eviction; not a stored kind."""

    api_version: str = "policy/v1"
    kind: str = "Eviction"
    delete_options: dict[str, object] | None = None
