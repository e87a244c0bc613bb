"""NamespaceLifecycle: no new objects in a namespace that is missing or being terminated.

Reads the namespace from the watch cache; one the cache has not seen yet (just created) is
looked up in the store.
"""
from __future__ import annotations

from api.resources import ResourceInfo
from apiserver import errors, wire
from apiserver.admission import AdmissionPlugin, Obj, Reservation
from apiserver.storage.interface import Backend
from apiserver.watchcache import ResourceCache


class NamespaceLifecycle(AdmissionPlugin):
    NAME = "NamespaceLifecycle"
    MUTATING = True

    def __init__(self, namespaces: ResourceCache, backend: Backend) -> None:
        self.namespaces, self.backend = namespaces, backend

    def handles(self, resource: ResourceInfo) -> bool:
        return resource.namespaced

    async def admit_create(self, resource: ResourceInfo, obj: Obj, res: Reservation) -> None:
        namespace = (obj.get("metadata") or {}).get("namespace")
        if not namespace:
            return
        key = self.namespaces.resource.storage_key(None, namespace)
        co = self.namespaces.objects.get(key)
        if co is not None:
            ns = co.obj
        else:
            kv = await self.backend.get(key)
            if kv is None:
                raise errors.namespace_not_found(namespace)
            ns = wire.loads(kv.value)
        if ns.get("metadata", {}).get("deletionTimestamp") or \
                (ns.get("status") or {}).get("phase") == "Terminating":
            raise errors.forbidden(
                f"unable to create new content in namespace {namespace} because it is being terminated",
                resource)
