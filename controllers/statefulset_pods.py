"""Every side effect of the StatefulSet controller on pods and claims (Kubernetes'
StatefulPodControl), with the events it records, and `FakeStatefulPodControl` beside it.

- `create_pod`: the pod's claims first (each created unless it exists; one being deleted
  is an error), then the pod; then the claims' owner references per the retention policy;
- `delete_pod`, `update_pod` (identity labels back in place), `fix_claims` (owner
  references made to match the retention policy), `create_missing_claims` (for a pending
  pod whose claim was deleted), `claim_is_stale`.
Events, in Kubernetes' words: `SuccessfulCreate` "create Pod web-0 in StatefulSet web
successful", "create Claim www-web-0 Pod web-0 in StatefulSet web success", and the
`Failed...` forms.
"""
from __future__ import annotations

from typing import Any

from api.models import PersistentVolumeClaim, Pod, StatefulSet
from client.errors import AlreadyExists, APIError, NotFound
from client.events import NORMAL, WARNING, EventRecorder
from client.informer import Informer
from client.rest import Client
from controllers import statefulset_util as util


class StatefulPodControl:
    def __init__(self, client: Client, claims: Informer, recorder: EventRecorder | None = None) -> None:
        self.client = client
        self.claims = claims
        self.recorder = recorder

    def _event(self, sts: StatefulSet, verb: str, what: str, err: BaseException | None,
               ok_word: str = "successful") -> None:
        if self.recorder is None:
            return
        if err is None:
            self.recorder.record(sts, NORMAL, f"Successful{verb.title()}", f"{verb} {what} in StatefulSet {sts.name} {ok_word}")
        else:
            self.recorder.record(sts, WARNING, f"Failed{verb.title()}",
                                 f"{verb} {what} in StatefulSet {sts.name} failed error: {err}")

    def _cached_claim(self, namespace: str | None, name: str | None) -> PersistentVolumeClaim | None:
        return self.claims.store.get_by_name(namespace, name or "")

    async def _create_claims(self, sts: StatefulSet, pod: Pod) -> None:
        for claim in util.claims_for(sts, pod).values():
            existing = self._cached_claim(claim.metadata.namespace, claim.metadata.name)
            if existing is None:
                try:
                    existing = await self.client.get(PersistentVolumeClaim, claim.metadata.name or "",
                                                     claim.metadata.namespace)
                except NotFound:
                    existing = None
            if existing is None:
                err: BaseException | None = None
                try:
                    await self.client.create(claim)
                except AlreadyExists:
                    pass
                except APIError as e:
                    err = e
                self._event(sts, "create", f"Claim {claim.metadata.name} Pod {pod.name}", err, "success")
                if err is not None:
                    raise err
            elif existing.metadata.deletion_timestamp:
                raise APIError({"code": 409, "reason": "Conflict",
                                "message": f"pvc {existing.metadata.name} is being deleted"})

    async def create_pod(self, sts: StatefulSet, pod: Pod) -> Pod | None:
        try:
            await self._create_claims(sts, pod)
        except APIError as e:
            self._event(sts, "create", f"Pod {pod.name}", e)
            raise
        try:
            created: Pod | None = await self.client.create(pod)
        except AlreadyExists:
            return None
        except APIError as e:
            self._event(sts, "create", f"Pod {pod.name}", e)
            raise
        if created is not None:
            await self.fix_claims(sts, created)
        self._event(sts, "create", f"Pod {pod.name}", None)
        return created

    async def delete_pod(self, sts: StatefulSet, pod: Pod) -> None:
        try:
            await self.client.delete(Pod, pod.name, pod.namespace)
        except NotFound:
            return
        except APIError as e:
            self._event(sts, "delete", f"Pod {pod.name}", e)
            raise
        self._event(sts, "delete", f"Pod {pod.name}", None)

    async def update_pod(self, sts: StatefulSet, pod: Pod) -> None:
        fixed = util.with_identity(sts, pod)
        try:
            await self.client.update(fixed)
        except APIError as e:
            self._event(sts, "update", f"Pod {pod.name}", e)
            raise
        self._event(sts, "update", f"Pod {pod.name}", None)

    def claims_match_policy(self, sts: StatefulSet, pod: Pod) -> bool:
        for claim in util.claims_for(sts, pod).values():
            cached = self._cached_claim(claim.metadata.namespace, claim.metadata.name)
            if cached is not None and util.claim_owner_refs(cached, sts, pod) is not None:
                return False
        return True

    async def fix_claims(self, sts: StatefulSet, pod: Pod) -> None:
        """UpdatePodClaimForRetentionPolicy: set each claim's owner references."""
        for claim in util.claims_for(sts, pod).values():
            cached = self._cached_claim(claim.metadata.namespace, claim.metadata.name)
            if cached is None:
                try:
                    cached = await self.client.get(PersistentVolumeClaim, claim.metadata.name or "",
                                                   claim.metadata.namespace)
                except NotFound:
                    continue
            refs = util.claim_owner_refs(cached, sts, pod)
            if refs is None:
                continue
            patch: dict[str, Any] = {"metadata": {"ownerReferences": [r.to_dict() for r in refs] or None,
                                                  "resourceVersion": cached.metadata.resource_version}}
            await self.client.patch(PersistentVolumeClaim, cached.name, patch, cached.metadata.namespace)

    async def create_missing_claims(self, sts: StatefulSet, pod: Pod) -> None:
        await self._create_claims(sts, pod)

    def claim_is_stale(self, sts: StatefulSet, pod: Pod) -> bool:
        for claim in util.claims_for(sts, pod).values():
            cached = self._cached_claim(claim.metadata.namespace, claim.metadata.name)
            if cached is not None and util.claim_is_stale(cached, pod):
                return True
        return False


class FakeStatefulPodControl:
    """Records what a sync asked for (Kubernetes' fake StatefulPodControl)."""

    def __init__(self) -> None:
        self.created: list[Pod] = []
        self.deleted: list[str] = []
        self.updated: list[str] = []
        self.claim_fixes: list[str] = []
        self.stale: set[str] = set()
        self.policy_mismatch: set[str] = set()

    async def create_pod(self, sts: StatefulSet, pod: Pod) -> Pod | None:
        self.created.append(pod)
        return pod

    async def delete_pod(self, sts: StatefulSet, pod: Pod) -> None:
        self.deleted.append(pod.name)

    async def update_pod(self, sts: StatefulSet, pod: Pod) -> None:
        self.updated.append(pod.name)

    def claims_match_policy(self, sts: StatefulSet, pod: Pod) -> bool:
        return pod.name not in self.policy_mismatch

    async def fix_claims(self, sts: StatefulSet, pod: Pod) -> None:
        self.claim_fixes.append(pod.name)

    async def create_missing_claims(self, sts: StatefulSet, pod: Pod) -> None:
        return None

    def claim_is_stale(self, sts: StatefulSet, pod: Pod) -> bool:
        return pod.name in self.stale
