"""The ClusterRoles and ClusterRoleBindings Kubernetes creates at start (its
plugin/pkg/auth/authorizer/rbac/bootstrappolicy), reconciled by the apiserver each start.

The user-facing roles `cluster-admin`, `admin`, `edit` and `view` (the last three aggregated
from the `system:aggregate-to-*` roles by label, so a CRD's roles join them the Kubernetes
way), discovery and self-review for every authenticated user, and the component roles.
Two choices differ from Kubernetes and are said here:
- nodes: pykube's agents authenticate with the shared join token (group `system:nodes`), so
  the `system:node` role is bound to that group (as Kubernetes did before its Node
  authorizer) and a kubelet can read what any node's pods need;
- the controller-manager runs every controller under one identity, so
  `system:kube-controller-manager` may do everything (Kubernetes gives each controller its
  own service account instead);
- each node runs the local-path provisioner (kubelet/localpath), so `system:nodes` may make
  and remove PersistentVolumes and create StorageClasses (k3s gives its provisioner a
  service account with the same rules).
"""
from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
RBAC = "rbac.authorization.k8s.io"
AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]


def rule(verbs: list[str], groups: list[str], resources: list[str]) -> Obj:
    return {"verbs": verbs, "apiGroups": groups, "resources": resources}


def url_rule(verbs: list[str], urls: list[str]) -> Obj:
    return {"verbs": verbs, "nonResourceURLs": urls}


def cluster_role(name: str, rules: list[Obj], labels: dict[str, str] | None = None,
                 aggregate_from: str | None = None) -> Obj:
    role: Obj = {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole",
                 "metadata": {"name": name, "labels": {**BOOTSTRAP_LABELS, **(labels or {})},
                              "annotations": dict(AUTOUPDATE)},
                 "rules": rules}
    if aggregate_from:
        role["aggregationRule"] = {"clusterRoleSelectors": [
            {"matchLabels": {f"{RBAC}/aggregate-to-{aggregate_from}": "true"}}]}
        role["rules"] = []
    return role


def binding(name: str, role: str, subjects: list[tuple[str, str]]) -> Obj:
    subs = [{"kind": k, "apiGroup": RBAC, "name": n} for k, n in subjects]
    return {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": name, "labels": dict(BOOTSTRAP_LABELS), "annotations": dict(AUTOUPDATE)},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
            "subjects": subs}


_VIEW_CORE = ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status",
              "pods", "pods/log", "pods/status", "replicationcontrollers",
              "replicationcontrollers/scale", "replicationcontrollers/status", "serviceaccounts",
              "services", "services/status", "bindings", "events", "limitranges",
              "namespaces/status", "resourcequotas", "resourcequotas/status", "namespaces"]
_VIEW_APPS = ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments",
              "deployments/scale", "deployments/status", "replicasets", "replicasets/scale",
              "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"]
_VIEW_OTHER = [
    (["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
    (["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
    (["discovery.k8s.io"], ["endpointslices"]),
    (["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
    (["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"]),
    (["coordination.k8s.io"], ["leases"]),
]
_EDIT_CORE = ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "configmaps",
              "events", "persistentvolumeclaims", "replicationcontrollers",
              "replicationcontrollers/scale", "secrets", "serviceaccounts", "services",
              "services/proxy"]
_EDIT_APPS = ["daemonsets", "deployments", "deployments/rollback", "deployments/scale",
              "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"]
_EDIT_OTHER = [
    (["autoscaling"], ["horizontalpodautoscalers"]),
    (["batch"], ["cronjobs", "jobs"]),
    (["networking.k8s.io"], ["ingresses", "networkpolicies"]),
    (["policy"], ["poddisruptionbudgets"]),
    (["coordination.k8s.io"], ["leases"]),
]


def cluster_roles() -> list[Obj]:
    view = [rule(READ, [""], _VIEW_CORE), rule(READ, ["apps"], _VIEW_APPS)] + \
        [rule(READ, g, r) for g, r in _VIEW_OTHER]
    edit = [rule(WRITE, [""], _EDIT_CORE),
            rule(READ, [""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets",
                              "services/proxy"]),
            rule(["impersonate"], [""], ["serviceaccounts"]),
            rule(["create"], [""], ["pods/eviction", "serviceaccounts/token"]),
            rule(WRITE, ["apps"], _EDIT_APPS)] + [rule(WRITE, g, r) for g, r in _EDIT_OTHER]
    admin = [rule(WRITE + READ, [RBAC], ["rolebindings", "roles"]),
             rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"])]
    everything = [rule(["*"], ["*"], ["*"]), url_rule(["*"], ["*"])]
    node = [rule(READ + ["create", "update", "patch", "delete"], [""], ["nodes", "nodes/status", "pods", "pods/status"]),
            rule(READ, [""], ["services", "endpoints", "configmaps", "secrets", "persistentvolumeclaims",
                              "persistentvolumes", "namespaces", "serviceaccounts"]),
            rule(["create"], [""], ["pods/eviction", "serviceaccounts/token"]),
            rule(["create", "patch", "update"], [""], ["events"]),
            rule(["create", "patch", "update"], ["events.k8s.io"], ["events"]),
            rule(READ + ["create", "update", "patch", "delete"], ["coordination.k8s.io"], ["leases"]),
            rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
            rule(READ, ["storage.k8s.io"], ["storageclasses", "csidrivers", "volumeattachments"]),
            rule(["create", "get"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
            rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"])]
    proxier = [rule(["list", "watch"], [""], ["endpoints", "services"]),
               rule(READ, [""], ["nodes"]),
               rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
               rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"]),
               rule(["list", "watch"], ["networking.k8s.io"], ["networkpolicies"]),
               rule(["list", "watch"], [""], ["pods", "namespaces"])]
    scheduler = [rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
                 rule(READ + ["create", "update", "patch", "delete"], ["coordination.k8s.io"], ["leases"]),
                 rule(READ + ["delete"], [""], ["pods"]),
                 rule(["create"], [""], ["pods/binding", "bindings"]),
                 rule(["patch", "update"], [""], ["pods/status"]),
                 rule(READ, [""], ["nodes", "namespaces", "persistentvolumeclaims", "persistentvolumes",
                                   "replicationcontrollers", "services", "configmaps"]),
                 rule(READ, ["apps"], ["replicasets", "statefulsets"]),
                 rule(READ, ["policy"], ["poddisruptionbudgets"]),
                 rule(READ, ["storage.k8s.io"], ["csidrivers", "csinodes", "csistoragecapacities",
                                                 "storageclasses", "volumeattachments"]),
                 rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
                 rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"])]
    return [
        cluster_role("cluster-admin", everything),
        cluster_role("admin", [], aggregate_from="admin"),
        cluster_role("edit", [], {f"{RBAC}/aggregate-to-admin": "true"}, aggregate_from="edit"),
        cluster_role("view", [], {f"{RBAC}/aggregate-to-edit": "true"}, aggregate_from="view"),
        cluster_role("system:aggregate-to-admin", admin, {f"{RBAC}/aggregate-to-admin": "true"}),
        cluster_role("system:aggregate-to-edit", edit, {f"{RBAC}/aggregate-to-edit": "true"}),
        cluster_role("system:aggregate-to-view", view, {f"{RBAC}/aggregate-to-view": "true"}),
        cluster_role("system:discovery", [url_rule(["get"], [
            "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
            "/readyz", "/version", "/version/"])]),
        cluster_role("system:basic-user", [
            rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"])]),
        cluster_role("system:public-info-viewer", [url_rule(["get"], [
            "/healthz", "/livez", "/readyz", "/version", "/version/"])]),
        cluster_role("system:monitoring", [url_rule(["get"], [
            "/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis", "/readyz", "/readyz/*"])]),
        cluster_role("system:node", node),
        cluster_role("system:node-proxier", proxier),
        cluster_role("system:kube-scheduler", scheduler),
        cluster_role("system:kube-controller-manager", everything),
        cluster_role("system:coredns", [   # pykube's DNS also registers its own Service and Endpoints
            rule(READ + ["create", "update", "patch"], [""], ["services", "endpoints"]),
            rule(["list", "watch"], [""], ["pods", "namespaces"]),
            rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"]),
            rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"])]),
        cluster_role("system:volume-scheduler", [   # the scheduler's volume binding (Kubernetes' role)
            rule(READ + ["patch", "update"], [""], ["persistentvolumes", "persistentvolumeclaims"]),
            rule(READ, ["storage.k8s.io"], ["storageclasses"])]),
        cluster_role("system:pykube:local-path-provisioner", [   # each node's provisioner (kubelet/localpath)
            rule(READ + ["create", "delete", "patch", "update"], [""], ["persistentvolumes"]),
            rule(READ, [""], ["persistentvolumeclaims"]),
            rule(READ + ["create"], ["storage.k8s.io"], ["storageclasses"]),
            rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"])]),
        cluster_role("system:auth-delegator", [
            rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"])]),
    ]


def cluster_role_bindings() -> list[Obj]:
    return [
        binding("cluster-admin", "cluster-admin", [("Group", "system:masters")]),
        binding("system:discovery", "system:discovery", [("Group", "system:authenticated")]),
        binding("system:basic-user", "system:basic-user", [("Group", "system:authenticated")]),
        binding("system:public-info-viewer", "system:public-info-viewer",
                [("Group", "system:authenticated"), ("Group", "system:unauthenticated")]),
        binding("system:monitoring", "system:monitoring", [("Group", "system:monitoring")]),
        binding("system:node", "system:node", [("Group", "system:nodes")]),
        binding("system:node-proxier", "system:node-proxier",
                [("User", "system:kube-proxy"), ("Group", "system:nodes")]),
        binding("system:kube-scheduler", "system:kube-scheduler", [("User", "system:kube-scheduler")]),
        binding("system:kube-controller-manager", "system:kube-controller-manager",
                [("User", "system:kube-controller-manager")]),
        binding("system:coredns", "system:coredns", [("User", "system:coredns")]),
        binding("system:volume-scheduler", "system:volume-scheduler", [("User", "system:kube-scheduler")]),
        binding("system:pykube:local-path-provisioner", "system:pykube:local-path-provisioner",
                [("Group", "system:nodes")]),
    ]
