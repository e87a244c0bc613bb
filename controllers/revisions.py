"""The I/O half of ControllerRevision history, shared by the DaemonSet and StatefulSet
controllers (Kubernetes' constructHistory / controlledHistories / truncateHistory).

Owns `RevisionKeeper`: claim the owner's revisions (adopt matching orphans, release owned
ones that stopped matching), drop duplicates of the current one, renumber or create the
current revision (a name taken by another template bumps `status.collisionCount` and
retries), and delete history beyond revisionHistoryLimit. Decisions are in
controllers.history; this only writes.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from api.models.apps_sets import ControllerRevision
from client.errors import AlreadyExists, NotFound
from client.informer import Informer
from client.rest import Client
from controllers import history as hist
from controllers.refmanager import adopt_patch, claim_objects, release_patch

log = logging.getLogger(__name__)

#: (owner, revision number, collision count) -> the revision to create
Snapshot = Callable[[Any, int, int | None], ControllerRevision]


class RevisionKeeper:
    def __init__(self, client: Client, informer: Informer, owner_model: type[Any]) -> None:
        self.client = client
        self.informer = informer
        self.owner_model = owner_model

    async def claim(self, owner: Any, selector: Any) -> list[ControllerRevision]:
        """The revisions `owner` controls, adopting and releasing as ControllerRefManager."""
        cached = self.informer.store.by_index("namespace", owner.metadata.namespace or "")
        claim = claim_objects(owner, cached, selector)
        owned = list(claim.owned)
        for rev in claim.adopt:
            try:
                await self.client.patch(ControllerRevision, rev.name, adopt_patch(owner, rev),
                                        rev.metadata.namespace)
            except NotFound:
                owned.remove(rev)
        for rev in claim.release:
            try:
                await self.client.patch(ControllerRevision, rev.name,
                                        release_patch(owner.metadata.uid, rev), rev.metadata.namespace)
            except NotFound:
                pass
        return owned

    async def construct(self, owner: Any, selector: Any,
                        snapshot: Snapshot) -> tuple[ControllerRevision, list[ControllerRevision]]:
        """(current revision, old revisions), creating or renumbering the current one."""
        h = hist.split_history(owner, await self.claim(owner, selector))
        for dup in h.duplicates:
            await self._delete(dup)
        if h.current is None:
            return await self._create(owner, h.next_revision, snapshot), h.old
        if h.needs_renumber:
            fresh = h.current.model_copy(deep=True)
            fresh.revision = h.next_revision
            return await self.client.update(fresh), h.old
        return h.current, h.old

    async def _create(self, owner: Any, revision: int, snapshot: Snapshot) -> ControllerRevision:
        collisions = owner.status.collision_count if owner.status else None
        rev = snapshot(owner, revision, collisions)
        try:
            return await self.client.create(rev)
        except AlreadyExists:
            existing = await self.client.get(ControllerRevision, rev.name, rev.metadata.namespace)
            if hist.matches(owner, existing) and \
                    any(r.uid == owner.metadata.uid for r in existing.metadata.owner_references or []):
                return existing
            fresh = await self.client.get(self.owner_model, owner.name, owner.metadata.namespace)
            fresh.status.collision_count = (fresh.status.collision_count or 0) + 1
            await self.client.update_status(fresh)
            log.info("hash collision for %s: collisionCount now %d", owner.key, fresh.status.collision_count)
            raise

    async def truncate(self, old: list[ControllerRevision], limit: int, live: set[str],
                       by_name: bool = False) -> None:
        for rev in hist.revisions_to_clean(old, limit, live, by_name):
            await self._delete(rev)

    async def _delete(self, rev: ControllerRevision) -> None:
        try:
            await self.client.delete(ControllerRevision, rev.name, rev.metadata.namespace)
        except NotFound:
            pass
