"""The resource table: every kind pykube serves, and how it is addressed.

Owns `ResourceInfo` (group, version, kind, plural, short names, namespaced, subresources,
categories, verbs) and the lookups over the table. The apiserver builds its routes and
discovery documents from it; the client and pykubectl resolve `deploy`, `deployments.apps`
or `Deployment` through it. Adding a kind means one row here and one model in api/models.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceInfo:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    list_kind: str = field(default="")

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def group_resource(self) -> str:
        """`deployments.apps`, or `pods` for the core group (kubectl's error wording)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def base_path(self) -> str:
        """`/api/v1` or `/apis/apps/v1`."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def path(self, namespace: str | None = None, name: str | None = None,
             subresource: str | None = None) -> str:
        parts = [self.base_path]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{namespace}")
        parts.append(self.plural)
        if name:
            parts.append(name)
            if subresource:
                parts.append(subresource)
        return "/".join(parts)

    def storage_prefix(self, namespace: str | None = None) -> str:
        """Key prefix in the store: `/registry/<group>/<plural>/[<ns>/]`."""
        head = f"/registry/{self.group or 'core'}/{self.plural}/"
        if self.namespaced and namespace:
            return f"{head}{namespace}/"
        return head

    def storage_key(self, namespace: str | None, name: str) -> str:
        if self.namespaced:
            return f"{self.storage_prefix(namespace)}{name}"
        return f"{self.storage_prefix()}{name}"

    def __post_init__(self) -> None:
        if not self.list_kind:
            object.__setattr__(self, "list_kind", self.kind + "List")


_SUB_STATUS = ("status",)

RESOURCES: tuple[ResourceInfo, ...] = (
    ResourceInfo("", "v1", "Namespace", "namespaces", False, ("ns",), ("status", "finalize")),
    ResourceInfo("", "v1", "Node", "nodes", False, ("no",), _SUB_STATUS),
    ResourceInfo("", "v1", "Pod", "pods", True, ("po",),
                 ("status", "binding", "log", "exec", "eviction"), ("all",)),
    ResourceInfo("", "v1", "Service", "services", True, ("svc",), _SUB_STATUS, ("all",)),
    ResourceInfo("", "v1", "Endpoints", "endpoints", True, ("ep",), (), (), list_kind="EndpointsList"),
    ResourceInfo("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
    ResourceInfo("", "v1", "Secret", "secrets", True),
    ResourceInfo("", "v1", "Event", "events", True, ("ev",)),
    ResourceInfo("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",), ("token",)),
    ResourceInfo("", "v1", "ResourceQuota", "resourcequotas", True, ("quota",), _SUB_STATUS),
    ResourceInfo("", "v1", "LimitRange", "limitranges", True, ("limits",)),
    ResourceInfo("", "v1", "ReplicationController", "replicationcontrollers", True, ("rc",),
                 ("status", "scale"), ("all",)),
    ResourceInfo("apps", "v1", "Deployment", "deployments", True, ("deploy",),
                 ("status", "scale"), ("all",)),
    ResourceInfo("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",),
                 ("status", "scale"), ("all",)),
    ResourceInfo("coordination.k8s.io", "v1", "Lease", "leases", True),
    ResourceInfo("batch", "v1", "Job", "jobs", True, (), _SUB_STATUS, ("all",)),
    ResourceInfo("batch", "v1", "CronJob", "cronjobs", True, ("cj",), _SUB_STATUS, ("all",)),
    ResourceInfo("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", False,
                 ("csr",), ("status", "approval")),
    ResourceInfo("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ("netpol",)),
    ResourceInfo("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    ResourceInfo("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    ResourceInfo("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    ResourceInfo("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
)

_BY_GVK: dict[tuple[str, str], ResourceInfo] = {(r.api_version, r.kind): r for r in RESOURCES}
_BY_GROUP_PLURAL: dict[tuple[str, str], ResourceInfo] = {(r.group, r.plural): r for r in RESOURCES}


class UnknownResourceError(LookupError):
    pass


def by_kind(api_version: str, kind: str) -> ResourceInfo:
    """The row for an object's apiVersion and kind (what a manifest names)."""
    try:
        return _BY_GVK[(api_version, kind)]
    except KeyError:
        raise UnknownResourceError(
            f'no matches for kind "{kind}" in version "{api_version}"') from None


def by_plural(group: str, plural: str) -> ResourceInfo | None:
    """The row for a REST path's group and plural."""
    return _BY_GROUP_PLURAL.get((group, plural))


def resolve(name: str) -> ResourceInfo:
    """What a user types: `pods`, `pod`, `po`, `Pod`, `deployments.apps`, `deploy.apps`."""
    word, _, group = name.partition(".")
    word_l = word.lower()
    for r in RESOURCES:
        if group and r.group != group and not r.group.startswith(group):
            continue
        if word_l in (r.plural, r.singular) or word_l in r.short_names or word == r.kind:
            return r
    raise UnknownResourceError(f'the server doesn\'t have a resource type "{name}"')


def in_category(category: str) -> list[ResourceInfo]:
    return [r for r in RESOURCES if category in r.categories]
