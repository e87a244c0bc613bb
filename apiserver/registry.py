"""The generic registry: create, update, patch and delete of any resource over the store.

Owns the write path every resource shares (Kubernetes' `genericregistry.Store`):
metadata stamping (uid, creationTimestamp, generateName), the status/spec split between
the main resource and the `status` subresource, compare-and-swap on resourceVersion,
no-op updates that write nothing, finalizers and deletionTimestamp, and propagationPolicy
finalizers. What differs by kind (status reset, generation, validation, graceful deletion)
is asked of the kind's `Strategy` (apiserver/strategies/); what admission takes for a write
is held on a `Reservation` that a failed write gives back. This module names no kind.

Objects are wire dicts. resourceVersion is never stored: it is the key's mod_revision,
set on every read.
"""
from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from api import field
from api.resources import ResourceInfo
from apiserver import errors, fieldmanager, strategies, wire
from apiserver.admission import AdmissionChain, reservation
from apiserver.storage.interface import (Backend, ConflictError, KeyExistsError, KeyValue,
                                         NotFoundError)

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_IMMUTABLE_META = ("uid", "creationTimestamp", "deletionTimestamp",
                   "deletionGracePeriodSeconds", "generation")


_now_cache: tuple[int, str] = (0, "")


def now() -> str:
    """The current UTC time as RFC 3339 with second precision (formatted once a second)."""
    global _now_cache
    sec = int(time.time())
    if _now_cache[0] != sec:
        _now_cache = (sec, datetime.fromtimestamp(sec, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _now_cache[1]


def encode(obj: dict[str, Any]) -> bytes:
    meta = obj.get("metadata") or {}
    rv = meta.pop("resourceVersion", None)
    try:
        return wire.dumps(obj)
    finally:
        if rv is not None:
            meta["resourceVersion"] = rv


def decode(kv: KeyValue) -> dict[str, Any]:
    obj = wire.loads(kv.value)
    obj.setdefault("metadata", {})["resourceVersion"] = str(kv.mod_revision)
    return obj


@dataclass
class DeleteOptions:
    propagation_policy: str | None = None
    grace_period_seconds: int | None = None
    precondition_uid: str | None = None
    precondition_rv: str | None = None
    dry_run: bool = False

    @classmethod
    def from_body(cls, body: dict[str, Any], query: dict[str, str]) -> "DeleteOptions":
        pre = body.get("preconditions") or {}
        if not isinstance(pre, dict):
            raise errors.bad_request("preconditions must be an object")
        policy = body.get("propagationPolicy") or query.get("propagationPolicy")
        if policy is None and body.get("orphanDependents") is not None:
            policy = "Orphan" if body["orphanDependents"] else "Background"
        grace = body.get("gracePeriodSeconds", query.get("gracePeriodSeconds"))
        if policy not in (None, "Background", "Foreground", "Orphan"):
            raise errors.bad_request(f'invalid propagationPolicy "{policy}"')
        dry = body.get("dryRun") or []
        if not isinstance(dry, list):
            raise errors.bad_request("dryRun must be a list")
        return cls(policy, errors.integer("gracePeriodSeconds", grace) if grace is not None else None,
                   pre.get("uid"), pre.get("resourceVersion"),
                   dry_run=is_dry_run(query.get("dryRun")) or any(is_dry_run(d) for d in dry))


def is_dry_run(value: str | None) -> bool:
    """The `dryRun` parameter: "All" (do everything but persist) or absent."""
    if value in (None, ""):
        return False
    if value != "All":
        raise errors.bad_request(f'Invalid dryRun value "{value}": supported values: "All"')
    return True


class Registry:
    def __init__(self, backend: Backend, admission: AdmissionChain) -> None:
        self.backend = backend
        self.admission = admission

    # ------------------------------------------------------------------ reads
    async def get(self, resource: ResourceInfo, namespace: str | None, name: str) -> dict[str, Any]:
        return decode(await self._get_kv(resource, namespace, name))

    async def _get_kv(self, resource: ResourceInfo, namespace: str | None, name: str) -> KeyValue:
        kv = await self.backend.get(resource.storage_key(namespace, name))
        if kv is None:
            raise errors.not_found(resource, name)
        return kv

    # ------------------------------------------------------------------ create
    async def create(self, resource: ResourceInfo, namespace: str | None,
                     obj: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        """Stamp, default, validate, admit and store `obj`. dry_run: all of it but the write
        (the object comes back without a resourceVersion, as from kube-apiserver)."""
        strategy = strategies.for_resource(resource)
        meta = obj.setdefault("metadata", {})
        if resource.namespaced:
            if meta.get("namespace") and namespace and meta["namespace"] != namespace:
                raise errors.bad_request("the namespace of the provided object does not match "
                                         "the namespace sent on the request")
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(random.choices(_NAME_CHARS, k=5))
        if not meta.get("name"):
            raise errors.invalid(resource, resource.kind, "", [
                field.required("metadata.name", "name or generateName is required")])
        for k in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
            meta.pop(k, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        key = resource.storage_key(meta.get("namespace"), meta["name"])
        with reservation() as res:
            # as kube-apiserver: mutating admission, then the strategy and validation, then
            # validating admission (quota, allocations) on the final object
            strategy.default(obj)
            await self.admission.admit_create(resource, obj, res, mutating=True)
            strategy.prepare_for_create(obj)
            strategy.default(obj)
            errs = strategy.validate(obj)
            if errs:
                raise errors.invalid(resource, resource.kind, meta.get("name") or "", errs)
            await self.admission.admit_create(resource, obj, res, mutating=False)
            fieldmanager.track(obj, None, resource, None, now())
            if dry_run:
                res.abort()
                if await self.backend.get(key) is not None:
                    raise errors.already_exists(resource, meta["name"])
                return obj
            try:
                kv = await self.backend.create(key, encode(obj))
            except KeyExistsError:
                raise errors.already_exists(resource, meta["name"]) from None
        meta["resourceVersion"] = str(kv.mod_revision)
        return obj

    # ------------------------------------------------------------------ update
    async def update(self, resource: ResourceInfo, namespace: str | None, name: str,
                     new: dict[str, Any], subresource: str | None = None,
                     dry_run: bool = False) -> dict[str, Any]:
        new_meta = new.get("metadata") or {}
        if new_meta.get("name") and new_meta["name"] != name:
            raise errors.bad_request(
                f'the name of the object ({new_meta["name"]}) does not match the name on the URL ({name})')
        kv = await self._get_kv(resource, namespace, name)
        want_rv = new_meta.get("resourceVersion")
        if want_rv and str(want_rv) != str(kv.mod_revision):
            raise errors.conflict(resource, name)
        return await self._write_update(resource, kv, new, subresource, dry_run)

    async def guaranteed_update(self, resource: ResourceInfo, namespace: str | None, name: str,
                                mutate: Callable[[dict[str, Any]], dict[str, Any]],
                                subresource: str | None = None, attempts: int = 8,
                                dry_run: bool = False) -> dict[str, Any]:
        """Read, mutate, CAS-write; retried when the object changed in between (patch, scale,
        binding use it). `mutate` may raise APIError (e.g. a resourceVersion precondition in
        the patch), which is never retried."""
        for _ in range(attempts):
            kv = await self._get_kv(resource, namespace, name)
            new = mutate(decode(kv))
            try:
                return await self._write_update(resource, kv, new, subresource, dry_run)
            except errors.StaleObjectError:
                continue
        raise errors.conflict(resource, name)

    async def _write_update(self, resource: ResourceInfo, kv: KeyValue, new: dict[str, Any],
                            subresource: str | None, dry_run: bool = False) -> dict[str, Any]:
        strategy = strategies.for_resource(resource)
        old = decode(kv)
        name = old["metadata"]["name"]
        merged = self._merge_for_update(strategy, old, new, subresource)
        with reservation() as res:
            if subresource is None:
                strategy.default(merged)
                await self.admission.admit_update(resource, merged, old, res, mutating=True)
                errs = strategy.validate_update(merged, old)
                if errs:
                    raise errors.invalid(resource, resource.kind, name, errs)
                await self.admission.admit_update(resource, merged, old, res, mutating=False)
            elif subresource == "status":
                errs = strategy.validate_status_update(merged, old)
                if errs:
                    raise errors.invalid(resource, resource.kind, name, errs)
            merged["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            fieldmanager.track(merged, old, resource, subresource, now())
            if merged == old:
                return old
            if dry_run:
                res.abort()
                return merged
            meta = merged["metadata"]
            if meta.get("deletionTimestamp") and not meta.get("finalizers") and not strategy.held(merged):
                return await self._delete_now(resource, kv, merged)
            try:
                nkv = await self.backend.update(kv.key, encode(merged), kv.mod_revision)
            except ConflictError:
                raise errors.conflict(resource, name) from None
            except NotFoundError:
                raise errors.not_found(resource, name) from None
        meta["resourceVersion"] = str(nkv.mod_revision)
        return merged

    @staticmethod
    def _merge_for_update(strategy: strategies.Strategy, old: dict[str, Any], new: dict[str, Any],
                          subresource: str | None) -> dict[str, Any]:
        """The object to store: `new` with what the server owns taken from `old`."""
        if subresource == "binding":   # the handler derived `new` from the stored object
            return wire.clone(new)
        if subresource not in (None, "finalize"):   # status, approval, ...: the strategy says
            return strategy.prepare_for_subresource_update(subresource, new, old)
        merged = wire.clone(new)
        meta = merged.setdefault("metadata", {})
        ometa = old["metadata"]
        meta["name"] = ometa["name"]
        if strategy.resource.namespaced:
            meta["namespace"] = ometa.get("namespace")
        for k in _IMMUTABLE_META:
            if k in ometa:
                meta[k] = ometa[k]
            else:
                meta.pop(k, None)
        strategy.prepare_for_update(merged, old)
        return merged

    # ------------------------------------------------------------------ delete
    async def delete(self, resource: ResourceInfo, namespace: str | None, name: str,
                     opts: DeleteOptions) -> dict[str, Any]:
        for _ in range(8):
            kv = await self._get_kv(resource, namespace, name)
            obj = decode(kv)
            meta = obj["metadata"]
            if opts.precondition_uid and opts.precondition_uid != meta.get("uid"):
                raise errors.conflict(resource, name,
                                      f"Precondition failed: UID in precondition: {opts.precondition_uid}, UID in object meta: {meta.get('uid')}")
            if opts.precondition_rv and opts.precondition_rv != meta["resourceVersion"]:
                raise errors.conflict(resource, name,
                                      f"Precondition failed: ResourceVersion in precondition: {opts.precondition_rv}, ResourceVersion in object meta: {meta['resourceVersion']}")
            try:
                return await self._delete_step(resource, kv, obj, opts)
            except errors.StaleObjectError:
                continue
        raise errors.conflict(resource, name)

    async def _delete_step(self, resource: ResourceInfo, kv: KeyValue, obj: dict[str, Any],
                           opts: DeleteOptions) -> dict[str, Any]:
        strategy = strategies.for_resource(resource)
        meta = obj["metadata"]
        before = wire.clone(meta), wire.clone(obj.get("status"))
        hold = strategy.begin_delete(obj, opts.grace_period_seconds)
        finalizers = list(meta.get("finalizers") or [])
        policy = opts.propagation_policy or strategy.default_propagation_policy
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        elif policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        if finalizers:
            meta["finalizers"] = finalizers
        if not (hold or finalizers):
            return obj if opts.dry_run else await self._delete_now(resource, kv, obj)
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = now()
            meta.setdefault("deletionGracePeriodSeconds", 0)
        if opts.dry_run or (meta, obj.get("status")) == before:
            return obj
        try:
            nkv = await self.backend.update(kv.key, encode(obj), kv.mod_revision)
        except ConflictError:
            raise errors.conflict(resource, meta["name"]) from None
        meta["resourceVersion"] = str(nkv.mod_revision)
        return obj

    async def _delete_now(self, resource: ResourceInfo, kv: KeyValue, obj: dict[str, Any]) -> dict[str, Any]:
        try:
            dkv = await self.backend.delete(kv.key, kv.mod_revision)
        except ConflictError:
            raise errors.conflict(resource, obj["metadata"]["name"]) from None
        except NotFoundError:
            raise errors.not_found(resource, obj["metadata"]["name"]) from None
        self.admission.deleted(resource, obj)
        obj["metadata"]["resourceVersion"] = str(dkv.mod_revision)
        return obj
