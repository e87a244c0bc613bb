"""Strategy of the legacy v1 ReplicationController: like a ReplicaSet, it starts with the
status kube-apiserver returns on create (`{"replicas": 0}`) that only its controller fills;
and, as kube-apiserver keeps v1 for backward compatibility, a delete naming no
propagationPolicy orphans its pods."""
from __future__ import annotations

from apiserver.strategies import Obj, Strategy, builtin


@builtin("", "ReplicationController")
class ReplicationControllerStrategy(Strategy):
    reset_status = True
    default_propagation_policy = "Orphan"

    def initial_status(self, obj: Obj) -> Obj | None:
        return {"replicas": 0}
