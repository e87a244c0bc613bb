"""RBAC escalation prevention (Kubernetes' ConfirmNoEscalation and the `bind` check).

Nobody grants what they do not hold: creating or updating a Role or ClusterRole needs every
rule it lists to be held already (in the Role's namespace, or cluster-wide), unless the user
may `escalate` roles; creating or updating a binding needs the referenced role's rules held,
unless the user may `bind` that role. `system:masters` holds everything. Writes the
apiserver makes itself (no current user) are not checked.
"""
from __future__ import annotations

from api.resources import ResourceInfo
from apiserver import errors
from apiserver.admission import AdmissionPlugin, Obj, Reservation
from apiserver.auth.authorizer import Authorizer
from apiserver.auth.rbac import Attributes, covers
from apiserver.auth.user import MASTERS, current_user

GROUP = "rbac.authorization.k8s.io"


class RBACEscalation(AdmissionPlugin):
    NAME = "RBACEscalation"

    def __init__(self, authorizer: Authorizer) -> None:
        self.authorizer = authorizer

    def handles(self, resource: ResourceInfo) -> bool:
        return resource.group == GROUP

    async def admit_create(self, resource: ResourceInfo, obj: Obj, res: Reservation) -> None:
        self._check(resource, obj)

    async def admit_update(self, resource: ResourceInfo, new: Obj, old: Obj, res: Reservation) -> None:
        self._check(resource, new)

    def _check(self, resource: ResourceInfo, obj: Obj) -> None:
        user = current_user.get()
        if user is None or MASTERS in user.groups:
            return
        meta = obj.get("metadata") or {}
        ns = meta.get("namespace") or "" if resource.namespaced else ""
        name = meta.get("name") or ""
        index = self.authorizer.index()
        held = index.rules_for(user, ns)
        if resource.plural in ("roles", "clusterroles"):
            if index.allowed(Attributes(user, "escalate", ns, GROUP, resource.plural, "", name)):
                return
            wanted = list(obj.get("rules") or [])
        else:
            ref = obj.get("roleRef") or {}
            ref_plural = "clusterroles" if ref.get("kind") == "ClusterRole" else "roles"
            if index.allowed(Attributes(user, "bind", ns, GROUP, ref_plural, "", ref.get("name", ""))):
                return
            if ref_plural == "clusterroles":
                wanted = index.cluster_role_rules(ref.get("name", ""))
            else:
                wanted = list((index.roles.get((ns, ref.get("name", ""))) or {}).get("rules") or [])
        missing = covers(held, wanted, ns, user)
        if missing:
            gr = f"{resource.plural}.{GROUP}"
            raise errors.APIError(
                403, "Forbidden",
                f'{gr} "{name}" is forbidden: user "{user.name}" (groups={_groups(user.groups)}) is attempting '
                f"to grant RBAC permissions not currently held:\n{_rules_text(missing)}",
                {"name": name, "group": GROUP, "kind": resource.plural})


def _groups(groups: tuple[str, ...]) -> str:
    return "[" + " ".join(f'"{g}"' for g in groups) + "]"


def _rules_text(rules: list[Obj]) -> str:
    lines = []
    for r in rules:
        if r.get("nonResourceURLs"):
            lines.append(f"{{NonResourceURLs:{r['nonResourceURLs']}, Verbs:{r['verbs']}}}")
        else:
            names = f" ResourceNames:{r['resourceNames']}," if r.get("resourceNames") else ""
            groups = "[" + " ".join(f'"{g}"' for g in r["apiGroups"]) + "]"
            lines.append(f"{{APIGroups:{groups}, Resources:[\"{r['resources'][0]}\"],{names} Verbs:[\"{r['verbs'][0]}\"]}}")
    return "\n".join(lines)
