"""The resource table: every kind pykube serves, and how it is addressed.

Owns `ResourceInfo` (group, version, kind, plural, short names, namespaced, subresources,
categories, verbs) and the lookups over the table. The apiserver builds its routes and
discovery documents from it; the client and pykubectl resolve `deploy`, `deployments.apps`
or `Deployment` through it. Adding a built-in kind means one row in `RESOURCES` and one
model in api/models.

The table also takes rows at run time: the apiserver `register`s the resources of each
established CustomResourceDefinition (one row per served version) and `unregister`s them
when the CRD goes. A registered row never shadows a built-in one. Lookups stay dict hits
(`by_kind`, `by_plural`); `resolve` scans the rows, built-ins first. Each change bumps
`generation()`, so documents derived from the table (discovery, OpenAPI) know to rebuild.
"""
from __future__ import annotations

import re
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
    #: the version objects are stored at, for a kind served at several versions (a CRD's
    #: storage version); empty: only `version`, stored as served
    storage_version: str = ""
    #: the singular name, when it is not the lowercased kind (a CRD's names.singular)
    singular_name: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.singular_name or self.kind.lower()

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

    @property
    def stored_api_version(self) -> str:
        """The apiVersion objects of this resource carry in the store."""
        v = self.storage_version or self.version
        return f"{self.group}/{v}" if self.group else v

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
    ResourceInfo("", "v1", "Node", "nodes", False, ("no",), ("status", "proxy")),
    ResourceInfo("", "v1", "Pod", "pods", True, ("po",),
                 ("status", "binding", "log", "exec", "attach", "portforward", "proxy", "eviction",
                  "ephemeralcontainers"), ("all",)),
    ResourceInfo("", "v1", "Service", "services", True, ("svc",), ("status", "proxy"), ("all",)),
    ResourceInfo("", "v1", "Endpoints", "endpoints", True, ("ep",), (), (), list_kind="EndpointsList"),
    ResourceInfo("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
    ResourceInfo("", "v1", "Secret", "secrets", True),
    ResourceInfo("", "v1", "Event", "events", True, ("ev",)),
    ResourceInfo("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",), ("token",)),
    ResourceInfo("", "v1", "ResourceQuota", "resourcequotas", True, ("quota",), _SUB_STATUS),
    ResourceInfo("", "v1", "LimitRange", "limitranges", True, ("limits",)),
    ResourceInfo("", "v1", "ReplicationController", "replicationcontrollers", True, ("rc",),
                 ("status", "scale"), ("all",)),
    ResourceInfo("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), _SUB_STATUS, ("all",)),
    ResourceInfo("apps", "v1", "Deployment", "deployments", True, ("deploy",),
                 ("status", "scale"), ("all",)),
    ResourceInfo("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",),
                 ("status", "scale"), ("all",)),
    ResourceInfo("apps", "v1", "StatefulSet", "statefulsets", True, ("sts",),
                 ("status", "scale"), ("all",)),
    ResourceInfo("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    ResourceInfo("", "v1", "PersistentVolume", "persistentvolumes", False, ("pv",), _SUB_STATUS),
    ResourceInfo("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",),
                 _SUB_STATUS),
    ResourceInfo("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",)),
    ResourceInfo("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",),
                 _SUB_STATUS),
    ResourceInfo("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True),
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
    ResourceInfo("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
                 "customresourcedefinitions", False, ("crd", "crds"), _SUB_STATUS,
                 ("api-extensions",)),
)

_BUILTIN_GVK: dict[tuple[str, str], ResourceInfo] = {(r.api_version, r.kind): r for r in RESOURCES}
_BUILTIN_GR: dict[tuple[str, str], ResourceInfo] = {(r.group, r.plural): r for r in RESOURCES}

# the run-time rows (CRDs): by (apiVersion, kind), by (group, version, plural), and the
# preferred row of each (group, plural)
_DYNAMIC: dict[tuple[str, str], ResourceInfo] = {}
_DYNAMIC_GVR: dict[tuple[str, str, str], ResourceInfo] = {}
_DYNAMIC_GR: dict[tuple[str, str], ResourceInfo] = {}
_generation = 0


class UnknownResourceError(LookupError):
    pass


_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key of Kubernetes' version priority: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 >
    anything not of that form (alphabetically)."""
    m = _KUBE_VERSION.match(version)
    if not m:
        return (3, 0, 0, version)
    major, level, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    rank = {None: 0, "beta": 1, "alpha": 2}[level]
    return (rank, -major, -minor, "")


def by_kind(api_version: str, kind: str) -> ResourceInfo:
    """The row for an object's apiVersion and kind (what a manifest names)."""
    r = _BUILTIN_GVK.get((api_version, kind)) or _DYNAMIC.get((api_version, kind))
    if r is None:
        raise UnknownResourceError(
            f'no matches for kind "{kind}" in version "{api_version}"')
    return r


def by_plural(group: str, plural: str, version: str | None = None) -> ResourceInfo | None:
    """The row for a REST path's group and plural (and version: None gives the preferred
    one, the only one for built-in kinds)."""
    r = _BUILTIN_GR.get((group, plural))
    if r is not None:
        return r if version is None or r.version == version else None
    if version is None:
        return _DYNAMIC_GR.get((group, plural))
    return _DYNAMIC_GVR.get((group, version, plural))


def all_resources() -> list[ResourceInfo]:
    """Every row: the built-in ones, then the registered ones."""
    return [*RESOURCES, *_DYNAMIC.values()]


def preferred_resources() -> list[ResourceInfo]:
    """One row per resource: built-ins, then each registered resource's preferred version."""
    return [*RESOURCES, *_DYNAMIC_GR.values()]


def resolve(name: str) -> ResourceInfo:
    """What a user types: `pods`, `pod`, `po`, `Pod`, `deployments.apps`, `deploy.apps`,
    `crontabs.v1.stable.example.com`."""
    word, _, group = name.partition(".")
    word_l = word.lower()
    version = ""
    if group:
        head, _, rest = group.partition(".")
        if rest and any(r.group == rest and r.version == head for r in all_resources()):
            version, group = head, rest
    for r in preferred_resources() if not version else all_resources():
        if group and r.group != group and not r.group.startswith(group):
            continue
        if version and r.version != version:
            continue
        if word_l in (r.plural, r.singular) or word_l in r.short_names or word == r.kind:
            return r
    raise UnknownResourceError(f'the server doesn\'t have a resource type "{name}"')


def in_category(category: str) -> list[ResourceInfo]:
    return [r for r in preferred_resources() if category in r.categories]


def generation() -> int:
    """Grows with every change of the registered rows."""
    return _generation


def register(rows: list[ResourceInfo]) -> None:
    """Serve one resource at the versions `rows` give (the first is its preferred version),
    replacing what was registered for that (group, plural) before."""
    global _generation
    if not rows:
        return
    group, plural = rows[0].group, rows[0].plural
    if (group, plural) in _BUILTIN_GR:
        raise ValueError(f"{plural}.{group} is a built-in resource")
    _drop(group, plural)
    for r in rows:
        _DYNAMIC[(r.api_version, r.kind)] = r
        _DYNAMIC_GVR[(r.group, r.version, r.plural)] = r
    _DYNAMIC_GR[(group, plural)] = rows[0]
    _generation += 1


def unregister(group: str, plural: str) -> list[ResourceInfo]:
    """Stop serving a registered resource; the rows it had."""
    global _generation
    gone = _drop(group, plural)
    if gone:
        _generation += 1
    return gone


def registered(group: str, plural: str) -> list[ResourceInfo]:
    """The rows registered for (group, plural), preferred version first."""
    first = _DYNAMIC_GR.get((group, plural))
    if first is None:
        return []
    rest = [r for (g, _, p), r in _DYNAMIC_GVR.items() if g == group and p == plural and r != first]
    return [first, *rest]


def _drop(group: str, plural: str) -> list[ResourceInfo]:
    gone = registered(group, plural)
    for r in gone:
        _DYNAMIC.pop((r.api_version, r.kind), None)
        _DYNAMIC_GVR.pop((r.group, r.version, r.plural), None)
    _DYNAMIC_GR.pop((group, plural), None)
    return gone
