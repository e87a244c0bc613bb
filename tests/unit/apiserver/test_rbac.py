"""RBAC decisions: rule matching, bindings, aggregation, escalation checks, Forbidden text."""
from __future__ import annotations

from apiserver.auth.authorizer import attributes_for, forbidden
from apiserver.auth.bootstrap_policy import cluster_role_bindings, cluster_roles
from apiserver.auth.rbac import Attributes, RBACIndex, covers, rule_allows
from apiserver.auth.user import UserInfo
from api.resources import by_kind

ALICE = UserInfo("alice", ("team-a", "system:authenticated"))


def _role(ns: str, name: str, rules: list[dict]) -> dict:
    return {"metadata": {"namespace": ns, "name": name}, "rules": rules}


def _rb(ns: str, name: str, kind: str, role: str, subjects: list[dict]) -> dict:
    return {"metadata": {"namespace": ns, "name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
            "subjects": subjects}


def test_rule_matching_verbs_groups_subresources_names() -> None:
    rule = {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "pods/log"]}
    assert rule_allows(Attributes(ALICE, "get", "a", "", "pods", "log", "web"), rule)
    assert not rule_allows(Attributes(ALICE, "create", "a", "", "pods", "exec", "web"), rule)
    assert not rule_allows(Attributes(ALICE, "get", "a", "apps", "pods"), rule)
    named = {"verbs": ["get"], "apiGroups": ["apps"], "resources": ["deployments/scale"], "resourceNames": ["web"]}
    assert rule_allows(Attributes(ALICE, "get", "a", "apps", "deployments", "scale", "web"), named)
    assert not rule_allows(Attributes(ALICE, "get", "a", "apps", "deployments", "scale", "db"), named)
    assert not rule_allows(Attributes(ALICE, "get", "a", "apps", "deployments", "scale"), named)
    url = {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/apis/*"]}
    assert rule_allows(Attributes(ALICE, "get", path="/apis/apps/v1", resource_request=False), url)
    assert not rule_allows(Attributes(ALICE, "get", path="/metrics", resource_request=False), url)
    assert not rule_allows(Attributes(ALICE, "get", "", "", "pods"), url)


def test_bindings_by_user_group_and_serviceaccount() -> None:
    idx = RBACIndex(
        [_role("a", "reader", [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}])],
        [], [_rb("a", "r1", "Role", "reader", [{"kind": "Group", "name": "team-a"}]),
             _rb("a", "r2", "Role", "reader", [{"kind": "ServiceAccount", "name": "bot"}]),
             _rb("a", "r3", "Role", "missing", [{"kind": "User", "name": "alice"}])], [])
    assert idx.allowed(Attributes(ALICE, "list", "a", "", "pods"))
    assert not idx.allowed(Attributes(ALICE, "list", "b", "", "pods"))
    assert not idx.allowed(Attributes(ALICE, "delete", "a", "", "pods", name="x"))
    bot = UserInfo("system:serviceaccount:a:bot", ("system:serviceaccounts",))
    assert idx.allowed(Attributes(bot, "get", "a", "", "pods", name="x"))
    other_bot = UserInfo("system:serviceaccount:b:bot")
    assert not idx.allowed(Attributes(other_bot, "get", "a", "", "pods", name="x"))


def test_default_roles_aggregate_view_into_edit_into_admin() -> None:
    idx = RBACIndex([], cluster_roles(), [_rb("a", "alice-admin", "ClusterRole", "admin",
                                                 [{"kind": "User", "name": "alice"}])],
                    cluster_role_bindings())
    assert idx.allowed(Attributes(ALICE, "list", "a", "", "pods"))               # view
    assert idx.allowed(Attributes(ALICE, "create", "a", "apps", "deployments"))  # edit
    assert idx.allowed(Attributes(ALICE, "create", "a", "rbac.authorization.k8s.io", "rolebindings"))  # admin
    assert not idx.allowed(Attributes(ALICE, "list", "b", "", "pods"))
    assert not idx.allowed(Attributes(ALICE, "list", "", "", "nodes"))
    assert idx.allowed(Attributes(ALICE, "get", path="/apis", resource_request=False))   # discovery
    assert idx.allowed(Attributes(ALICE, "create", "", "authorization.k8s.io", "selfsubjectaccessreviews"))
    admin = UserInfo("system:admin", ("system:masters",))
    assert idx.allowed(Attributes(admin, "delete", "", "", "nodes", name="n1"))


def test_escalation_covers_every_atom() -> None:
    held = [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]
    assert covers(held, [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}], "a", ALICE) == []
    missing = covers(held, [{"verbs": ["get", "delete"], "apiGroups": [""], "resources": ["pods"]}], "a", ALICE)
    assert missing == [{"verbs": ["delete"], "apiGroups": [""], "resources": ["pods"]}]
    assert covers(held, [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}], "a", ALICE)


def test_request_attributes_and_forbidden_wording() -> None:
    pods = by_kind("v1", "Pod")
    attrs = attributes_for(ALICE, "GET", "/api/v1/namespaces/team-b/pods", {}, pods, "team-b", None, None)
    assert (attrs.verb, attrs.namespace, attrs.resource) == ("list", "team-b", "pods")
    assert forbidden(attrs).message == ('pods is forbidden: User "alice" cannot list resource "pods" '
                                        'in API group "" in the namespace "team-b"')
    watch = attributes_for(ALICE, "GET", "/x", {"watch": "true"}, pods, "a", None, None)
    assert watch.verb == "watch"
    deploy = by_kind("apps/v1", "Deployment")
    attrs = attributes_for(ALICE, "PATCH", "/x", {}, deploy, "a", "web", "scale")
    e = forbidden(attrs)
    assert e.message == ('deployments.apps "web" is forbidden: User "alice" cannot patch resource '
                         '"deployments/scale" in API group "apps" in the namespace "a"')
    assert e.details == {"name": "web", "group": "apps", "kind": "deployments"}
    nodes = attributes_for(ALICE, "GET", "/api/v1/nodes", {}, by_kind("v1", "Node"), None, None, None)
    assert forbidden(nodes).message.endswith('cannot list resource "nodes" in API group "" at the cluster scope')
    url = attributes_for(ALICE, "GET", "/metrics", {}, None, None, None, None)
    assert forbidden(url).message == 'forbidden: User "alice" cannot get path "/metrics"'


def test_aggregation_controller_gathers_labelled_roles() -> None:
    from controllers.clusterroleaggregation import aggregated_rules
    roles = cluster_roles()
    edit = next(r for r in roles if r["metadata"]["name"] == "edit")
    rules = aggregated_rules(edit, roles)
    assert {"verbs": ["create", "delete", "deletecollection", "patch", "update"], "apiGroups": ["apps"],
            "resources": ["daemonsets", "deployments", "deployments/rollback", "deployments/scale",
                          "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"]} in rules
    assert all("rbac.authorization.k8s.io" not in r.get("apiGroups", []) for r in rules)   # admin-only stays out
    crd_role = {"metadata": {"name": "crontabs-edit", "labels": {
        "rbac.authorization.k8s.io/aggregate-to-edit": "true"}},
        "rules": [{"verbs": ["*"], "apiGroups": ["stable.example.com"], "resources": ["crontabs"]}]}
    assert crd_role["rules"][0] in aggregated_rules(edit, roles + [crd_role])
