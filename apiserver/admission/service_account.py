"""ServiceAccount admission: every pod runs as a ServiceAccount, with its token mounted.

A pod without `spec.serviceAccountName` gets `default`. A pod naming a ServiceAccount that
does not exist is refused, as Kubernetes refuses it. Unless automounting is off (the pod's
or the ServiceAccount's `automountServiceAccountToken: false`), the pod gets the projected
volume `kube-api-access-<random>` (a bound token refreshed by the kubelet, the cluster CA
from the `kube-root-ca.crt` ConfigMap, the namespace) mounted read-only at
/var/run/secrets/kubernetes.io/serviceaccount in every container.

One choice differs from Kubernetes and is said here: a namespace whose `default`
ServiceAccount does not exist yet (no controller-manager running, as in some tests and
labs that take the cluster apart) admits its pods without a token instead of refusing them.
"""
from __future__ import annotations

import random
from typing import Any

from api.resources import ResourceInfo
from apiserver import errors, wire
from apiserver.admission import AdmissionPlugin, Obj, Reservation
from apiserver.storage.interface import Backend
from apiserver.watchcache import ResourceCache

MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def token_volume(name: str) -> Obj:
    return {"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
            "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}


def add_token_volume(spec: Obj, volume_name: str) -> None:
    """Mount the token volume in every container that has nothing at MOUNT_PATH (pure)."""
    containers: list[dict[str, Any]] = (spec.get("initContainers") or []) + (spec.get("containers") or [])
    if all(any(m.get("mountPath") == MOUNT_PATH for m in c.get("volumeMounts") or []) for c in containers):
        return
    spec.setdefault("volumes", []).append(token_volume(volume_name))
    for c in containers:
        mounts = c.setdefault("volumeMounts", [])
        if not any(m.get("mountPath") == MOUNT_PATH for m in mounts):
            mounts.append({"name": volume_name, "readOnly": True, "mountPath": MOUNT_PATH})


class ServiceAccountAdmission(AdmissionPlugin):
    NAME = "ServiceAccount"
    MUTATING = True

    def __init__(self, accounts: ResourceCache, backend: Backend) -> None:
        self.accounts, self.backend = accounts, backend

    def handles(self, resource: ResourceInfo) -> bool:
        return resource.group == "" and resource.kind == "Pod"

    async def _account(self, namespace: str, name: str) -> Obj | None:
        key = self.accounts.resource.storage_key(namespace, name)
        co = self.accounts.objects.get(key)
        if co is not None:
            return co.obj
        kv = await self.backend.get(key)
        return wire.loads(kv.value) if kv is not None else None

    async def admit_create(self, resource: ResourceInfo, obj: Obj, res: Reservation) -> None:
        meta, spec = obj.get("metadata") or {}, obj.setdefault("spec", {})
        ns = meta.get("namespace") or "default"
        name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        spec["serviceAccountName"] = spec["serviceAccount"] = name
        account = await self._account(ns, name)
        if account is None:
            if name == "default":
                return
            raise errors.forbidden(f'pods "{meta.get("name") or meta.get("generateName", "")}" is forbidden: '
                                   f'error looking up service account {ns}/{name}: serviceaccount "{name}" not found',
                                   resource, meta.get("name"))
        automount = spec.get("automountServiceAccountToken")
        if automount is None:
            automount = account.get("automountServiceAccountToken")
        if automount is False:
            return
        add_token_volume(spec, "kube-api-access-" + "".join(random.choices(_CHARS, k=5)))
