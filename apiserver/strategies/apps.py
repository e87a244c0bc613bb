"""Strategies of apps/v1 (and coordination.k8s.io) kinds that differ from the default.

Deployment and ReplicaSet start with the empty status kube-apiserver returns on create
(`{}`, and `{"replicas": 0}` for a ReplicaSet) that only their controllers fill in. A Lease
has no spec generation.
"""
from __future__ import annotations

from apiserver.strategies import Obj, Strategy, builtin


@builtin("apps", "Deployment")
class DeploymentStrategy(Strategy):
    reset_status = True


@builtin("apps", "ReplicaSet")
class ReplicaSetStrategy(Strategy):
    reset_status = True

    def initial_status(self, obj: Obj) -> Obj | None:
        return {"replicas": 0}


@builtin("coordination.k8s.io", "Lease")
class LeaseStrategy(Strategy):
    generation = False
