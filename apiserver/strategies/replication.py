"""Strategy of the legacy v1 ReplicationController: like a ReplicaSet, it starts with the
status kube-apiserver returns on create (`{"replicas": 0}`) that only its controller fills."""
from __future__ import annotations

from apiserver.strategies import Obj, Strategy, builtin


@builtin("", "ReplicationController")
class ReplicationControllerStrategy(Strategy):
    reset_status = True

    def initial_status(self, obj: Obj) -> Obj | None:
        return {"replicas": 0}
