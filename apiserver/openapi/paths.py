"""OpenAPI v3 `paths`: the operations of every resource and subresource, as kube-apiserver
publishes them, so generic clients (kubectl's validation probe, code generators, property
testers) can call each one.

Per resource: the collection (`list`, `create`, `deletecollection`; and `list` across
namespaces for a namespaced kind), the object (`read`, `replace`, `patch`, `delete`), each
only when the resource has the verb, with kube's operationIds (`listCoreV1NamespacedPod`,
`patchAppsV1NamespacedDeploymentScale`), tags (`apps_v1`), `x-kubernetes-action`,
`x-kubernetes-group-version-kind`, the query parameters pykube honours (`fieldValidation`,
`fieldManager`, `dryRun`, selectors, `watch`...), request bodies and responses.
"""
from __future__ import annotations

from typing import Any

from api.resources import ResourceInfo
from apiserver.openapi.common import STRING
from apiserver.openapi.schemas import Definitions, ref

Obj = dict[str, Any]
JSON = "application/json"
PATCH_TYPES = ("application/apply-patch+yaml", "application/json-patch+json",
               "application/merge-patch+json", "application/strategic-merge-patch+json")

_PARAMS: dict[str, tuple[str, str]] = {
    "allowWatchBookmarks": ("boolean", "allowWatchBookmarks requests watch events with type \"BOOKMARK\"."),
    "continue": ("string", "The continue token of a previous paginated list."),
    "dryRun": ("string", "When present (\"All\"), the modification is checked but not persisted."),
    "fieldManager": ("string", "The name of the actor making the change, kept in managedFields."),
    "fieldSelector": ("string", "Restricts the returned objects by their fields."),
    "fieldValidation": ("string", "What to do with unknown or duplicate fields in the body: "
                                  "Ignore, Warn (the default) or Strict."),
    "force": ("boolean", "Force an apply request, taking the conflicting fields from other managers."),
    "gracePeriodSeconds": ("integer", "The duration in seconds before the object should be deleted."),
    "labelSelector": ("string", "Restricts the returned objects by their labels."),
    "limit": ("integer", "The maximum number of items a list returns."),
    "orphanDependents": ("boolean", "Deprecated: use propagationPolicy."),
    "propagationPolicy": ("string", "Whether and how garbage collection is performed: "
                                    "Orphan, Background or Foreground."),
    "resourceVersion": ("string", "Which version of the resource a read or watch starts from."),
    "resourceVersionMatch": ("string", "How resourceVersion is applied to a list call."),
    "sendInitialEvents": ("boolean", "With watch=true, send the current objects first, then a bookmark."),
    "timeoutSeconds": ("integer", "Timeout for the list or watch call."),
    "watch": ("boolean", "Watch for changes to the described resources."),
    "pretty": ("string", "If 'true', the output is pretty printed."),
}
LIST = ("allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "resourceVersion",
        "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch")
WRITE = ("dryRun", "fieldManager", "fieldValidation")
DELETE = ("dryRun", "gracePeriodSeconds", "orphanDependents", "propagationPolicy")
LOG = {"container": "string", "follow": "boolean", "limitBytes": "integer", "previous": "boolean",
       "sinceSeconds": "integer", "tailLines": "integer", "timestamps": "boolean"}
EXEC = {"command": "string", "container": "string", "stderr": "boolean", "stdin": "boolean",
        "stdout": "boolean", "tty": "boolean"}


def query(*names: str) -> list[Obj]:
    out = []
    for n in names:
        typ, desc = _PARAMS[n]
        out.append({"name": n, "in": "query", "description": desc,
                    "schema": {"type": typ, "uniqueItems": True}})
    return out


def _plain_query(params: dict[str, str]) -> list[Obj]:
    return [{"name": n, "in": "query", "schema": {"type": t, "uniqueItems": True}} for n, t in params.items()]


def _path_param(name: str, desc: str) -> Obj:
    return {"name": name, "in": "path", "required": True, "description": desc,
            "schema": {"type": "string", "uniqueItems": True}}


def group_prefix(group: str, version: str) -> str:
    """`CoreV1`, `AppsV1`, `RbacAuthorizationV1`, `StableExampleComV1` (operationIds)."""
    words = group.removesuffix(".k8s.io").split(".") if group else ["core"]
    return "".join(w[:1].upper() + w[1:] for w in words) + version[:1].upper() + version[1:]


def tag(group: str, version: str) -> str:
    """`core_v1`, `apps_v1`, `rbacAuthorization_v1`."""
    words = group.removesuffix(".k8s.io").split(".") if group else ["core"]
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:]) + "_" + version


def _content(schema: Obj, *types: str) -> Obj:
    return {t: {"schema": schema} for t in (types or (JSON,))}


def _responses(schema: Obj, *codes: str) -> Obj:
    out: Obj = {c: {"description": {"200": "OK", "201": "Created", "202": "Accepted"}[c],
                    "content": _content(schema)} for c in codes}
    out["401"] = {"description": "Unauthorized"}
    return out


class ResourcePaths:
    """The paths of one resource (row of the table)."""

    def __init__(self, d: Definitions, r: ResourceInfo, item: str, custom: bool) -> None:
        self.d, self.r, self.custom = d, r, custom
        self.item, self.gvk = item, {"group": r.group, "version": r.version, "kind": r.kind}
        self.prefix, self.tags = group_prefix(r.group, r.version), [tag(r.group, r.version)]
        gv = f"/apis/{r.group}/{r.version}" if r.group else f"/api/{r.version}"
        self.ns = "Namespaced" if r.namespaced else ""
        self.collection = f"{gv}/namespaces/{{namespace}}/{r.plural}" if r.namespaced else f"{gv}/{r.plural}"
        self.all_namespaces = f"{gv}/{r.plural}" if r.namespaced else None
        self.scope = [_path_param("namespace", "object name and auth scope, such as for teams and projects")] \
            if r.namespaced else []

    def op(self, verb: str, action: str, what: str = "", **extra: Any) -> Obj:
        out: Obj = {"tags": self.tags, "operationId": f"{verb}{self.prefix}{what or self.ns + self.r.kind}",
                    "x-kubernetes-action": action, "x-kubernetes-group-version-kind": self.gvk}
        out.update(extra)
        return out

    def build(self) -> Obj:
        r, verbs = self.r, set(self.r.verbs)
        obj, lst = ref(self.item), ref(self.item + "List")
        body = {"content": _content(obj), "required": True}
        paths: Obj = {}
        coll: Obj = {"parameters": self.scope + query("pretty")}
        if "list" in verbs:
            coll["get"] = self.op("list", "list", parameters=query(*LIST), responses=_responses(lst, "200"))
        if "create" in verbs:
            coll["post"] = self.op("create", "post", parameters=query(*WRITE), requestBody=body,
                                   responses=_responses(obj, "200", "201", "202"))
        if "deletecollection" in verbs:
            coll["delete"] = self.op("delete", "deletecollection", f"Collection{self.ns}{r.kind}",
                                     parameters=query(*LIST, "gracePeriodSeconds", "orphanDependents",
                                                      "propagationPolicy", "dryRun"),
                                     requestBody=self._delete_body(),
                                     responses=_responses(ref(self.d.add_common("Status")), "200"))
        if len(coll) > 1:
            paths[self.collection] = coll
        if self.all_namespaces and "list" in verbs:
            paths[self.all_namespaces] = {"parameters": query("pretty"), "get": self.op(
                "list", "list", f"{r.kind}ForAllNamespaces", parameters=query(*LIST),
                responses=_responses(lst, "200"))}
        item: Obj = {"parameters": [_path_param("name", f"name of the {r.kind}"), *self.scope, *query("pretty")]}
        if "get" in verbs:
            item["get"] = self.op("read", "get", responses=_responses(obj, "200"))
        if "update" in verbs:
            item["put"] = self.op("replace", "put", parameters=query(*WRITE), requestBody=body,
                                  responses=_responses(obj, "200", "201"))
        if "patch" in verbs:
            item["patch"] = self.op("patch", "patch", parameters=query(*WRITE, "force"),
                                    requestBody=self._patch_body(), responses=_responses(obj, "200", "201"))
        if "delete" in verbs:
            item["delete"] = self.op("delete", "delete", parameters=query(*DELETE),
                                     requestBody=self._delete_body(),
                                     responses=_responses(obj, "200", "202"))
        if len(item) > 1:
            paths[f"{self.collection}/{{name}}"] = item
        for sub in r.subresources:
            built = self.subresource(sub)
            if built:
                paths[f"{self.collection}/{{name}}/{sub}"] = {
                    "parameters": [_path_param("name", f"name of the {sub}"), *self.scope, *query("pretty")],
                    **built}
        return paths

    def _patch_body(self) -> Obj:
        patch = ref(self.d.add_common("Patch"))
        types = [t for t in PATCH_TYPES if not (self.custom and "strategic" in t)]
        return {"content": _content(patch, *types), "required": True}

    def _delete_body(self) -> Obj:
        return {"content": _content(ref(self.d.add_common("DeleteOptions")))}

    def subresource(self, sub: str) -> Obj:
        """The operations of `/{name}/<sub>`, or {} for one not described here."""
        suffix = sub[:1].upper() + sub[1:]
        what = f"{self.ns}{self.r.kind}{suffix}"
        if sub in ("status", "scale", "approval"):
            schema = ref(self._scale()) if sub == "scale" else ref(self.item)
            body = {"content": _content(schema), "required": True}
            return {"get": self.op("read", "get", what, responses=_responses(schema, "200")),
                    "put": self.op("replace", "put", what, parameters=query(*WRITE), requestBody=body,
                                   responses=_responses(schema, "200", "201")),
                    "patch": self.op("patch", "patch", what, parameters=query(*WRITE, "force"),
                                     requestBody=self._patch_body(), responses=_responses(schema, "200", "201"))}
        if sub in ("binding", "eviction", "token"):
            schema = ref(self._body_definition(sub))
            return {"post": self.op("create", "post", what, parameters=query(*WRITE),
                                    requestBody={"content": _content(schema), "required": True},
                                    responses=_responses(schema, "200", "201", "202"))}
        if sub == "finalize":
            body = {"content": _content(ref(self.item)), "required": True}
            return {"put": self.op("replace", "put", what, parameters=query(*WRITE), requestBody=body,
                                   responses=_responses(ref(self.item), "200", "201"))}
        if sub == "log":
            text = {"200": {"description": "OK", "content": {"text/plain": {"schema": STRING}}},
                    "401": {"description": "Unauthorized"}}
            return {"get": self.op("read", "get", what, parameters=_plain_query(LOG), responses=text)}
        if sub == "exec":
            text = {"200": {"description": "OK", "content": {"*/*": {"schema": STRING}}},
                    "401": {"description": "Unauthorized"}}
            return {m: self.op(f"connect{m.capitalize()}", "connect", what, parameters=_plain_query(EXEC),
                               responses=text) for m in ("get", "post")}
        return {}

    def _scale(self) -> str:
        name = self.d.add_model(_scale_model())
        self.d.schemas[name]["x-kubernetes-group-version-kind"] = [
            {"group": "autoscaling", "version": "v1", "kind": "Scale"}]
        return name

    def _body_definition(self, sub: str) -> str:
        from api.models.core import Binding
        if sub == "binding":
            return self.d.add_model(Binding)
        name = {"eviction": "io.k8s.api.policy.v1.Eviction",
                "token": "io.k8s.api.authentication.v1.TokenRequest"}[sub]
        if name not in self.d.schemas:
            meta = self.d.add_model(_object_meta())
            props: Obj = {"apiVersion": STRING, "kind": STRING, "metadata": {"allOf": [ref(meta)]}}
            if sub == "eviction":
                props["deleteOptions"] = {"allOf": [ref(self.d.add_common("DeleteOptions"))]}
            else:
                props["spec"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                props["status"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            kind = name.rsplit(".", 1)[-1]
            group = "policy" if sub == "eviction" else "authentication.k8s.io"
            self.d.schemas[name] = {"type": "object", "properties": props,
                                    "x-kubernetes-group-version-kind": [{"group": group, "version": "v1",
                                                                         "kind": kind}]}
        return name


def _scale_model() -> Any:
    from api.models.apps import Scale
    return Scale


def _object_meta() -> Any:
    from api.models.base import ObjectMeta
    return ObjectMeta


__all__ = ["ResourcePaths", "group_prefix", "query", "tag"]
