"""The RBAC authorizer over the watch cache, request attributes, impersonation, and the
Forbidden answers in Kubernetes' words.

`Authorizer.allowed(attrs)` evaluates the Roles and bindings the apiserver's watch cache
holds (rebuilt into an `RBACIndex` only when one of the four RBAC caches changed);
`system:masters` is always allowed, as in Kubernetes. `attributes_for` turns an HTTP
request into the verb/resource/namespace/name RBAC speaks; `impersonate` applies the
`Impersonate-*` headers after checking the `impersonate` verb.
"""
from __future__ import annotations

from typing import Any, Iterable

from api.resources import ResourceInfo, by_kind
from apiserver import errors
from apiserver.auth.rbac import Attributes, RBACIndex
from apiserver.auth.user import UserInfo
from apiserver.watchcache import ResourceCache, WatchCache

RBAC_GROUP = "rbac.authorization.k8s.io/v1"
_HTTP_VERBS = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
               "DELETE": "delete"}


def attributes_for(user: UserInfo, method: str, path: str, query: dict[str, str],
                   resource: ResourceInfo | None, namespace: str | None, name: str | None,
                   subresource: str | None) -> Attributes:
    if resource is None:
        return Attributes(user, method.lower() if method != "HEAD" else "get", path=path,
                          resource_request=False)
    watch = query.get("watch") in ("1", "true")
    if method in ("GET", "HEAD"):
        verb = "watch" if watch else ("get" if name else "list")
    elif method == "DELETE" and not name:
        verb = "deletecollection"
    else:
        verb = _HTTP_VERBS.get(method, method.lower())
    ns = namespace or ""
    if resource.group == "" and resource.plural == "namespaces" and name:
        ns = name
    return Attributes(user, verb, ns, resource.group, resource.plural, subresource or "", name or "")


def forbidden(attrs: Attributes, reason: str = "") -> errors.APIError:
    """403 Forbidden, worded as kube-apiserver words it."""
    who = f'User "{attrs.user.name}"'
    if not attrs.resource_request:
        msg = f'forbidden: {who} cannot {attrs.verb} path "{attrs.path}"'
        return errors.APIError(403, "Forbidden", msg + (f": {reason}" if reason else ""), {})
    gr = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
    res = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    scope = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    head = f'{gr} "{attrs.name}" is forbidden' if attrs.name else f"{gr} is forbidden"
    msg = f'{head}: {who} cannot {attrs.verb} resource "{res}" in API group "{attrs.api_group}" {scope}'
    details: dict[str, Any] = {}
    if attrs.name:
        details["name"] = attrs.name
    if attrs.api_group:
        details["group"] = attrs.api_group
    details["kind"] = attrs.resource
    return errors.APIError(403, "Forbidden", msg + (f": {reason}" if reason else ""), details)


class Authorizer:
    def __init__(self, cache: WatchCache) -> None:
        self._caches: list[ResourceCache] = [cache.cache(by_kind(RBAC_GROUP, k)) for k in
                                             ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")]
        self._version: tuple[Any, ...] = ()
        self._index = RBACIndex((), (), (), ())

    def index(self) -> RBACIndex:
        version = tuple((c.history[-1].rv if c.history else c.window_start, len(c.objects))
                        for c in self._caches)
        if version != self._version:
            roles, croles, rbs, crbs = ([co.obj for co in c.objects.values()] for c in self._caches)
            self._index = RBACIndex(roles, croles, rbs, crbs)
            self._version = version
        return self._index

    def allowed(self, attrs: Attributes) -> bool:
        return self.index().allowed(attrs)

    def authorize(self, attrs: Attributes) -> None:
        if not self.allowed(attrs):
            raise forbidden(attrs)

    def impersonate(self, user: UserInfo, headers: Iterable[tuple[bytes, bytes]]) -> UserInfo:
        """The user a request acts as, after its Impersonate-* headers (each authorized with
        the `impersonate` verb, as Kubernetes does)."""
        name, groups, uid = None, [], ""
        extra: dict[str, list[str]] = {}
        for k, v in headers:
            key = k.decode("latin-1").lower()
            if key == "impersonate-user":
                name = v.decode()
            elif key == "impersonate-group":
                groups.append(v.decode())
            elif key == "impersonate-uid":
                uid = v.decode()
            elif key.startswith("impersonate-extra-"):
                extra.setdefault(key[len("impersonate-extra-"):], []).append(v.decode())
        if name is None:
            if groups or uid or extra:
                raise errors.bad_request("requested impersonation of groups, uid or extra without impersonating a user")
            return user
        if name.startswith("system:serviceaccount:") and name.count(":") == 3:
            _, _, ns, sa = name.split(":")
            self.authorize(Attributes(user, "impersonate", ns, "", "serviceaccounts", "", sa))
        else:
            self.authorize(Attributes(user, "impersonate", "", "", "users", "", name))
        for g in groups:
            self.authorize(Attributes(user, "impersonate", "", "", "groups", "", g))
        if uid:
            self.authorize(Attributes(user, "impersonate", "", "authentication.k8s.io", "uids", "", uid))
        return UserInfo(name, tuple(groups), uid, extra).with_authenticated()
