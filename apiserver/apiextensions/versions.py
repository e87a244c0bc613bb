"""Serving one kind at several versions: conversion with strategy None.

A CRD may serve several versions of one kind, all stored at its storage version. With the
None strategy (the only one pykube offers: no webhooks), converting changes `apiVersion`
and nothing else. `VersionedRegistry` is the generic registry with that conversion at its
edges: objects are written with the row's `stored_api_version` and come back with the
`apiVersion` of the row they were asked through. `present` does the same for objects read
from the watch cache. Rows of single-version kinds (every built-in) pass through untouched.
"""
from __future__ import annotations

from typing import Any, Callable

from api.resources import ResourceInfo
from apiserver.registry import DeleteOptions, Registry

Obj = dict[str, Any]


def present(resource: ResourceInfo, obj: Obj) -> Obj:
    """`obj` as `resource`'s version (in place)."""
    if resource.storage_version and obj.get("apiVersion") != resource.api_version:
        obj["apiVersion"] = resource.api_version
    return obj


def to_storage(resource: ResourceInfo, obj: Obj) -> Obj:
    if resource.storage_version:
        obj["apiVersion"] = resource.stored_api_version
    return obj


class VersionedRegistry(Registry):
    async def get(self, resource: ResourceInfo, namespace: str | None, name: str) -> Obj:
        return present(resource, await super().get(resource, namespace, name))

    async def create(self, resource: ResourceInfo, namespace: str | None, obj: Obj,
                     dry_run: bool = False) -> Obj:
        out = await super().create(resource, namespace, to_storage(resource, obj), dry_run)
        return present(resource, out)

    async def update(self, resource: ResourceInfo, namespace: str | None, name: str, new: Obj,
                     subresource: str | None = None, dry_run: bool = False) -> Obj:
        out = await super().update(resource, namespace, name, to_storage(resource, new),
                                   subresource, dry_run)
        return present(resource, out)

    async def guaranteed_update(self, resource: ResourceInfo, namespace: str | None, name: str,
                                mutate: Callable[[Obj], Obj], subresource: str | None = None,
                                attempts: int = 8, dry_run: bool = False) -> Obj:
        if not resource.storage_version:
            return await super().guaranteed_update(resource, namespace, name, mutate,
                                                   subresource, attempts, dry_run)

        def converted(cur: Obj) -> Obj:
            return to_storage(resource, mutate(present(resource, cur)))
        out = await super().guaranteed_update(resource, namespace, name, converted,
                                              subresource, attempts, dry_run)
        return present(resource, out)

    async def delete(self, resource: ResourceInfo, namespace: str | None, name: str,
                     opts: DeleteOptions) -> Obj:
        return present(resource, await super().delete(resource, namespace, name, opts))
