"""The ClusterRole aggregation controller: writes into each aggregated ClusterRole (one with
an `aggregationRule`, such as `admin`, `edit`, `view`) the rules of every ClusterRole its
selectors match, so `kubectl get clusterrole edit -o yaml` shows what it grants and a CRD's
`aggregate-to-edit` role extends it.

`aggregated_rules` is pure (the rules in a stable order, duplicates dropped); a change of any
ClusterRole re-queues every aggregated one.
"""
from __future__ import annotations

from typing import Any

from api import selectors
from api.resources import by_kind
from client.errors import Conflict, NotFound
from controllers.base import Controller

CLUSTER_ROLE = by_kind("rbac.authorization.k8s.io/v1", "ClusterRole")


def aggregated_rules(role: dict[str, Any], roles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    name = role["metadata"]["name"]
    for sel in (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []:
        selector = selectors.selector_from_model(sel)
        for other in sorted(roles, key=lambda r: r["metadata"]["name"]):
            if other["metadata"]["name"] == name or not selector.matches(other["metadata"].get("labels") or {}):
                continue
            for r in other.get("rules") or []:
                if r not in rules:
                    rules.append(r)
    return rules


def _as_dict(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


class ClusterRoleAggregationController(Controller):
    NAME = "clusterrole-aggregation"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.roles = self.watch(CLUSTER_ROLE, key_fn=self._aggregated_keys)

    def _aggregated_keys(self, _: Any) -> list[str]:
        return [k for k, r in ((k, _as_dict(self.roles.store.get(k) or {})) for k in self.roles.store.keys())
                if r.get("aggregationRule")]

    async def reconcile(self, key: str) -> None:
        cur = self.roles.store.get(key)
        if cur is None:
            return
        role = _as_dict(cur)
        if not role.get("aggregationRule"):
            return
        want = aggregated_rules(role, [_as_dict(r) for r in self.roles.store.list()])
        if (role.get("rules") or []) == want:
            return
        role["rules"] = want
        try:
            await self.client.update(role)
        except (NotFound, Conflict):
            self.requeue_after(key, 0.5)
