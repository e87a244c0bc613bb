"""The replication manager: keeps `spec.replicas` pods running for every legacy v1
ReplicationController, by running it through the ReplicaSet controller
(Kubernetes' pkg/controller/replication does the same with a conversion adapter).

`rc_to_rs` shows a ReplicationController to the ReplicaSet machinery as a ReplicaSet whose
equality selector became `matchLabels`, keeping its apiVersion `v1` and kind
`ReplicationController`, so the pods' controller references and the events name the RC.
Status is written back to the ReplicationController (the fields are the same).
"""
from __future__ import annotations

from typing import Any

from api.models import ReplicaSet, ReplicationController
from api.models.apps import ReplicaSetStatus
from api.models.replication import ReplicationControllerStatus
from client.errors import Conflict
from controllers.replicaset import STATUS_UPDATE_RETRIES, ReplicaSetController


def rc_to_rs(rc: ReplicationController) -> ReplicaSet:
    """The ReplicaSet view of `rc` (apiVersion and kind stay the RC's)."""
    data = rc.to_dict()
    spec = data.get("spec") or {}
    selector = spec.get("selector")
    spec["selector"] = {"matchLabels": dict(selector)} if selector else None
    data.update(apiVersion="apps/v1", kind="ReplicaSet", spec=spec)
    rs = ReplicaSet.from_dict(data)
    return rs.model_copy(update={"api_version": "v1", "kind": "ReplicationController"})


class ReplicationManager(ReplicaSetController):
    NAME = "replicationmanager"
    OWNER = ReplicationController

    def _as_rs(self, obj: Any) -> ReplicaSet:
        return rc_to_rs(obj)

    async def _write_status(self, rs: ReplicaSet, status: ReplicaSetStatus) -> None:
        """update_status on the ReplicationController; on a conflict re-read once."""
        cached = self.rs_informer.store.get(rs.key)
        target = cached.model_copy(deep=True) if cached is not None else \
            await self.client.get(ReplicationController, rs.name, rs.namespace)
        for attempt in range(STATUS_UPDATE_RETRIES + 1):
            target.status = ReplicationControllerStatus.from_dict(status.to_dict())
            try:
                await self.client.update_status(target)
                return
            except Conflict:
                if attempt >= STATUS_UPDATE_RETRIES:
                    raise
                target = await self.client.get(ReplicationController, rs.name, rs.namespace)
                if target.metadata.uid != rs.metadata.uid:
                    return
