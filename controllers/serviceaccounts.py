"""The ServiceAccount controller and the root-CA publisher: what every namespace is given.

- `ServiceAccountsController` (kube-controller-manager's serviceaccount-controller): a
  `default` ServiceAccount in every active namespace, re-created if deleted.
- `RootCACertPublisher` (root-ca-cert-publisher): a ConfigMap `kube-root-ca.crt` holding
  the cluster CA (`ca.crt`) in every active namespace, put back if changed or deleted; pods
  verify the apiserver with it (their token volume projects it).
Both are keyed by namespace name; a Terminating namespace is left alone.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from api.models import ConfigMap, Namespace, ServiceAccount
from client.errors import AlreadyExists, Forbidden, NotFound
from controllers.base import Controller

log = logging.getLogger(__name__)

ROOT_CA = "kube-root-ca.crt"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
               "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
               "guaranteed across distributions of Kubernetes clusters.")


def _namespace_of(obj: Any) -> str | None:
    return obj.metadata.namespace


def _active(ns: Namespace | None) -> bool:
    return ns is not None and not ns.metadata.deletion_timestamp and \
        (ns.status is None or ns.status.phase != "Terminating")


def root_ca_configmap(namespace: str, ca_pem: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": ROOT_CA, "namespace": namespace,
                         "annotations": {"kubernetes.io/description": DESCRIPTION}},
            "data": {"ca.crt": ca_pem}}


class ServiceAccountsController(Controller):
    NAME = "serviceaccount"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.namespaces = self.watch(Namespace)
        self.accounts = self.watch(ServiceAccount, key_fn=lambda sa: sa.metadata.namespace
                                   if sa.metadata.name == "default" else None)

    async def reconcile(self, key: str) -> None:
        if not _active(self.namespaces.store.get(key)) or self.accounts.store.get(f"{key}/default"):
            return
        try:
            await self.client.create({"apiVersion": "v1", "kind": "ServiceAccount",
                                      "metadata": {"name": "default", "namespace": key}})
        except (AlreadyExists, NotFound, Forbidden):   # raced, or the namespace went away
            return
        log.info("created ServiceAccount %s/default", key)


class RootCACertPublisher(Controller):
    NAME = "root-ca-cert-publisher"

    def __init__(self, *args: Any, ca_file: Path, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.ca_pem = ca_file.read_text()
        self.namespaces = self.watch(Namespace)
        self.configmaps = self.watch(ConfigMap, key_fn=lambda cm: cm.metadata.namespace
                                     if cm.metadata.name == ROOT_CA else None)

    async def reconcile(self, key: str) -> None:
        if not _active(self.namespaces.store.get(key)):
            return
        want = root_ca_configmap(key, self.ca_pem)
        cur = self.configmaps.store.get(f"{key}/{ROOT_CA}")
        try:
            if cur is None:
                await self.client.create(want)
            elif (cur.data or {}) != want["data"]:
                body = cur.to_dict()
                body["data"] = want["data"]
                await self.client.update(body)
        except (AlreadyExists, NotFound, Forbidden):
            return
