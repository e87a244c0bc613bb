"""RBAC decisions, pure: does a rule cover a request, which bindings name a user, what a set
of roles and bindings grants (Kubernetes' pkg/registry/rbac/validation and
plugin/pkg/auth/authorizer/rbac, on wire dicts).

`Attributes` is what a request asks to do; `rule_allows` matches one PolicyRule;
`RBACIndex` holds Roles, ClusterRoles and bindings (as read from the store) and answers
`rules_for(user, namespace)` and `allowed(attributes)`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from api import selectors
from apiserver.auth.user import MASTERS, UserInfo

Obj = dict[str, Any]


@dataclass(frozen=True)
class Attributes:
    user: UserInfo
    verb: str
    namespace: str = ""
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""
    resource_request: bool = True


def _has(values: Iterable[str] | None, want: str) -> bool:
    vs = values or ()
    return "*" in vs or want in vs


def rule_allows(attrs: Attributes, rule: Obj) -> bool:
    verbs = rule.get("verbs") or []
    if not _has(verbs, attrs.verb):
        return False
    if not attrs.resource_request:
        for url in rule.get("nonResourceURLs") or []:
            if url == "*" or url == attrs.path or (url.endswith("*") and attrs.path.startswith(url[:-1])):
                return True
        return False
    if rule.get("nonResourceURLs") and not rule.get("resources"):
        return False
    if not _has(rule.get("apiGroups"), attrs.api_group):
        return False
    resources = rule.get("resources") or []
    wanted = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    if not ("*" in resources or wanted in resources or
            (attrs.subresource and f"*/{attrs.subresource}" in resources)):
        return False
    names = rule.get("resourceNames") or []
    return not names or (bool(attrs.name) and attrs.name in names)


def subject_matches(subject: Obj, user: UserInfo, binding_namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == user.name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_namespace
        return user.name == f"system:serviceaccount:{ns}:{name}"
    return False


class RBACIndex:
    """Roles and bindings by name, from lists of stored objects."""

    def __init__(self, roles: Iterable[Obj], cluster_roles: Iterable[Obj],
                 role_bindings: Iterable[Obj], cluster_role_bindings: Iterable[Obj]) -> None:
        self.roles = {(r["metadata"].get("namespace"), r["metadata"]["name"]): r for r in roles}
        self.cluster_roles = {r["metadata"]["name"]: r for r in cluster_roles}
        self.role_bindings: dict[str, list[Obj]] = {}
        for b in role_bindings:
            self.role_bindings.setdefault(b["metadata"].get("namespace") or "", []).append(b)
        self.cluster_role_bindings = list(cluster_role_bindings)

    def cluster_role_rules(self, name: str, _seen: frozenset[str] = frozenset()) -> list[Obj]:
        """A ClusterRole's rules, with an aggregationRule's matching roles gathered in (as the
        clusterrole-aggregation controller writes them, so aggregates of aggregates work)."""
        role = self.cluster_roles.get(name)
        if role is None or name in _seen:
            return []
        rules = list(role.get("rules") or [])
        agg = role.get("aggregationRule") or {}
        for sel in agg.get("clusterRoleSelectors") or []:
            selector = selectors.selector_from_model(sel)
            for other_name, other in self.cluster_roles.items():
                if other_name != name and selector.matches((other["metadata"].get("labels") or {})):
                    for r in self.cluster_role_rules(other_name, _seen | {name}):
                        if r not in rules:
                            rules.append(r)
        return rules

    def _binding_rules(self, binding: Obj) -> list[Obj]:
        ref = binding.get("roleRef") or {}
        if ref.get("kind") == "ClusterRole":
            return self.cluster_role_rules(ref.get("name", ""))
        role = self.roles.get((binding["metadata"].get("namespace"), ref.get("name", "")))
        return list((role or {}).get("rules") or [])

    def rules_for(self, user: UserInfo, namespace: str = "") -> list[Obj]:
        """Every rule granted to `user` cluster-wide, plus in `namespace` when given."""
        rules: list[Obj] = []
        for b in self.cluster_role_bindings:
            if any(subject_matches(s, user, "") for s in b.get("subjects") or []):
                rules.extend(self._binding_rules(b))
        if namespace:
            for b in self.role_bindings.get(namespace, []):
                if any(subject_matches(s, user, namespace) for s in b.get("subjects") or []):
                    rules.extend(self._binding_rules(b))
        return rules

    def allowed(self, attrs: Attributes) -> bool:
        if MASTERS in attrs.user.groups:
            return True
        return any(rule_allows(attrs, r) for r in self.rules_for(attrs.user, attrs.namespace))


def covers(owner_rules: list[Obj], requested: list[Obj], namespace: str, user: UserInfo) -> list[Obj]:
    """Escalation check (ConfirmNoEscalation): the requested rules `owner_rules` do not cover,
    each broken down to single verb/resource/name requests as Kubernetes compares them."""
    missing: list[Obj] = []
    for rule in requested:
        for attrs, piece in _atoms(rule, namespace, user):
            if not any(rule_allows(attrs, r) for r in owner_rules):
                missing.append(piece)
    return missing


def _atoms(rule: Obj, namespace: str, user: UserInfo) -> Iterable[tuple[Attributes, Obj]]:
    for verb in rule.get("verbs") or []:
        if rule.get("nonResourceURLs"):
            for url in rule["nonResourceURLs"]:
                yield (Attributes(user, verb, path=url.rstrip("*") if url != "*" else "*", resource_request=False),
                       {"verbs": [verb], "nonResourceURLs": [url]})
            continue
        for group in rule.get("apiGroups") or []:
            for res in rule.get("resources") or []:
                resource, _, sub = res.partition("/")
                for name in rule.get("resourceNames") or [""]:
                    piece: Obj = {"verbs": [verb], "apiGroups": [group], "resources": [res]}
                    if name:
                        piece["resourceNames"] = [name]
                    yield (Attributes(user, verb, namespace, group, resource, sub, name), piece)
