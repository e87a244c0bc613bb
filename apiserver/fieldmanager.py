"""Field management on the apiserver's write paths (the pure rules are api/managedfields.py).

Every write records who changed which fields in `metadata.managedFields`: the handlers put
the request's manager on `current_manager` (`?fieldManager=`, else the User-Agent's product
name, as kube-apiserver does: `kubectl`, `OpenAPI-Generator`, ...), and the registry calls
`track` on the object it is about to store, inside its compare-and-swap loop so the old
object is the one really replaced. Writes the apiserver makes itself are recorded as
`kube-apiserver`. A client that sends other `managedFields` than stored replaces them; an
empty list is ignored (clients unaware of the field must not strip it), and `[{}]` strips
them entirely, as in Kubernetes.

`apply` is the server-side apply handler: `PATCH` with `application/apply-patch+yaml`,
creating the object when it does not exist; conflicts are 409 Conflict naming the
managers and fields, unless `force=true`.
"""
from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Callable

import yaml

from api import managedfields
from api.resources import ResourceInfo
from apiserver import errors

Obj = dict[str, Any]
#: (manager, operation) of the request being served; None for the apiserver's own writes
current_manager: ContextVar[tuple[str, str] | None] = ContextVar("current_manager", default=None)
SELF = "kube-apiserver"


def manager_for(query: dict[str, str], user_agent: str) -> str:
    name = query.get("fieldManager")
    if name:
        if len(name) > 128:
            raise errors.bad_request("fieldManager: Too long: may not be longer than 128 characters")
        return name
    return (user_agent.split("/", 1)[0] or "unknown")[:128]


def track(obj: Obj, old: Obj | None, resource: ResourceInfo, subresource: str | None, now: str) -> None:
    """Record the write of `obj` (replacing `old`) in its managedFields."""
    who = current_manager.get()
    manager, operation = who if who is not None else (SELF, "Update")
    if operation == "Apply" and subresource is None:
        return   # the apply handler set them itself
    sent = (obj.get("metadata") or {}).get("managedFields")
    if sent == [{}]:
        obj["metadata"].pop("managedFields", None)   # stripped on request
        return
    base = old
    if old is not None and sent and sent != (old.get("metadata") or {}).get("managedFields"):
        base = {**old, "metadata": {**old["metadata"], "managedFields": sent}}   # the client's own
    managedfields.track_update(obj, base, manager, resource.api_version, resource.kind, now,
                               subresource or "", _schema(resource))


def _schema(resource: ResourceInfo) -> Obj | None:
    """A CRD's OpenAPI schema (its list types drive merging); None for built-in kinds."""
    from apiserver import strategies
    return strategies.for_resource(resource).openapi_schema()


def parse_applied(raw: bytes, resource: ResourceInfo, name: str) -> Obj:
    try:
        applied = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        raise errors.bad_request(f"error decoding YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(applied, dict):
        raise errors.bad_request("the apply configuration must be an object")
    if applied.get("apiVersion") != resource.api_version or applied.get("kind") != resource.kind:
        raise errors.bad_request(f"the API version in the data ({applied.get('apiVersion')}) and kind "
                                 f"({applied.get('kind')}) do not match the resource {resource.api_version}/"
                                 f"{resource.kind}")
    meta = applied.setdefault("metadata", {})
    if meta.get("name") and meta["name"] != name:
        raise errors.bad_request(f'the name of the object ({meta["name"]}) does not match the name on the URL ({name})')
    meta["name"] = name
    return applied


def conflict_error(resource: ResourceInfo, name: str, e: managedfields.ApplyConflict) -> errors.APIError:
    details: dict[str, Any] = {"name": name, "kind": resource.plural, "causes": [
        {"reason": "FieldManagerConflict", "message": f'conflict with "{m}" using {av}',
         "field": managedfields.path_text(p)} for m, av, p in e.conflicts]}
    if resource.group:
        details["group"] = resource.group
    return errors.APIError(409, "Conflict", e.message(), details)


def applier(applied: Obj, resource: ResourceInfo, manager: str, force: bool, now: Callable[[], str],
            clean: Callable[[Obj], Obj]) -> Callable[[Obj | None], Obj]:
    """The mutation of a server-side apply: `live` (None: create) to the object to store."""
    def mutate(live: Obj | None) -> Obj:
        try:
            out = managedfields.apply(live, applied, manager, resource.api_version, resource.kind, now(), force,
                                      _schema(resource))
        except managedfields.ApplyConflict as e:
            raise conflict_error(resource, applied["metadata"]["name"], e) from None
        out["apiVersion"], out["kind"] = resource.api_version, resource.kind
        if live is not None:
            out["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
        mf = out["metadata"].get("managedFields")
        cleaned = clean(out)
        if mf is not None:
            cleaned.setdefault("metadata", {})["managedFields"] = mf
        return cleaned
    return mutate
