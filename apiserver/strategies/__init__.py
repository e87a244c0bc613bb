"""Per-kind strategies: what is particular to a kind on the apiserver's write path.

As kube-apiserver's `RESTCreateStrategy` / `RESTUpdateStrategy` / `RESTDeleteStrategy`, each
kind registers one `Strategy` object beside its `ResourceInfo`; the generic registry calls
it and holds no kind names of its own. A strategy owns:

- decoding (the typed model, or a CRD's schema) and defaulting;
- `prepare_for_create` / `prepare_for_update` / `prepare_for_status_update`: what the
  server resets or keeps (status on create, status across a main-resource update,
  metadata.generation on spec changes, a pod's QoS class);
- `validate` / `validate_update` / `validate_status_update` (a write of /status);
- deletion: whether an object stays after a delete (`begin_delete`: a bound pod's grace
  period, a namespace's Terminating phase), whether it is still held once its
  finalizers are gone (`held`), and the default propagationPolicy;
- what the `scale` subresource reads and writes (`scale_of`, `set_replicas`), and the
  field selectors a list may use (`field_labels`, None: any path);
- the table columns `kubectl get` prints, and (CRDs) the kind's OpenAPI schema.

Kinds with nothing special use the base `Strategy`. `for_resource` finds a kind's strategy;
built-in kinds declare theirs with `@builtin(group, kind)`; `register` adds one per served
version of a CRD at run time (apiserver/apiextensions/controller.py), `unregister` drops it.
"""
from __future__ import annotations

import copy
from typing import Any

from api import defaults as api_defaults
from api import scheme, tables, validation
from api.field import FieldError
from api.resources import ResourceInfo

Obj = dict[str, Any]


class Strategy:
    """The default behaviour of a kind; subclasses override what their kind changes."""

    #: metadata.generation starts at 1 and grows on each change of the spec
    generation: bool = True
    #: on create, the client's status is replaced by `initial_status` (kinds with a status
    #: subresource, whose status only controllers write)
    reset_status: bool = False
    #: the propagationPolicy of a delete that names none (None: background; "Orphan" for
    #: batch/v1 Jobs and v1 ReplicationControllers, as kube-apiserver keeps them)
    default_propagation_policy: str | None = None

    def __init__(self, resource: ResourceInfo) -> None:
        self.resource = resource

    # ------------------------------------------------------------------ decode, default
    def decode(self, body: Obj) -> tuple[Obj, list[str]]:
        """The clean object and warnings for fields dropped (unknown to the kind)."""
        return scheme.decode(self.resource, body)

    def default(self, obj: Obj) -> None:
        api_defaults.apply_defaults(self.resource, obj)

    # ------------------------------------------------------------------ create / update
    def initial_status(self, obj: Obj) -> Obj | None:
        """The status a new object starts with when `reset_status` (None: no status)."""
        return {}

    def prepare_for_create(self, obj: Obj) -> None:
        meta = obj["metadata"]
        if self.generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        if self.reset_status:
            obj.pop("status", None)
            status = self.initial_status(obj)
            if status is not None:
                obj["status"] = status

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        """A write of the main resource: status is the status subresource's alone, and the
        generation counts spec changes."""
        if "status" in self.resource.subresources:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        ometa, meta = old["metadata"], new["metadata"]
        if self.generation and "generation" in ometa:
            meta["generation"] = ometa["generation"] + (1 if spec_of(new) != spec_of(old) else 0)

    def prepare_for_status_update(self, new: Obj, old: Obj) -> Obj:
        """A write of the status subresource: everything but status comes from `old`."""
        merged = copy.deepcopy(old)
        if "status" in new:
            merged["status"] = new["status"]
        else:
            merged.pop("status", None)
        return merged

    def prepare_for_subresource_update(self, subresource: str, new: Obj, old: Obj) -> Obj:
        """A write through a subresource other than the main resource (`status`, a CSR's
        `approval`): the object to store, taking from `new` only what the subresource owns."""
        return self.prepare_for_status_update(new, old)

    def validate(self, obj: Obj) -> list[FieldError]:
        return validation.validate_create(self.resource, obj)

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        return validation.validate_update(self.resource, new, old)

    def validate_status_update(self, new: Obj, old: Obj) -> list[FieldError]:
        """A write of the status subresource (built-in kinds check nothing yet)."""
        return []

    # ------------------------------------------------------------------ scale, selectors
    def scale_of(self, obj: Obj) -> tuple[int, int, str]:
        """(spec replicas, status replicas, label selector text) of the `scale` subresource."""
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        sel = spec.get("selector") or {}
        if sel and not {"matchLabels", "matchExpressions"} & set(sel):   # a ReplicationController's map
            sel = {"matchLabels": sel}
        text = tables.format_label_selector(sel) if sel else ""
        return spec.get("replicas", 0), status.get("replicas", 0), "" if text == "<none>" else text

    def set_replicas(self, obj: Obj, replicas: int) -> None:
        obj.setdefault("spec", {})["replicas"] = replicas

    def field_labels(self) -> frozenset[str] | None:
        """The field selectors a list may use (None: any path of the object)."""
        return None

    # ------------------------------------------------------------------ delete
    def begin_delete(self, obj: Obj, grace_period_seconds: int | None) -> bool:
        """Called on a delete request, may change `obj`; True when the object must stay
        (marked with a deletionTimestamp) even without finalizers."""
        return False

    def held(self, obj: Obj) -> bool:
        """An object marked for deletion whose finalizers are all gone is removed, unless
        this says it is still held (by something other than metadata.finalizers)."""
        return False

    # ------------------------------------------------------------------ schema
    def openapi_schema(self) -> dict[str, Any] | None:
        """The OpenAPI v3 schema of the kind's objects, for kinds not described by a model in
        api/models (a CRD's `openAPIV3Schema`); None: derived from the kind's model."""
        return None

    # ------------------------------------------------------------------ tables
    def table_columns(self) -> list[tables.Column]:
        return tables.columns_for(self.resource.kind)

    def table_row(self, obj: Obj) -> list[Any]:
        return tables.row_for(obj)


def spec_of(obj: Obj) -> Any:
    """The part of an object whose change bumps metadata.generation: `spec`, or for kinds
    without one everything but metadata and status."""
    if "spec" in obj:
        return obj["spec"]
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


_STRATEGIES: dict[tuple[str, str], Strategy] = {}
_REGISTERED: dict[tuple[str, str, str], Strategy] = {}
_BUILTIN: dict[tuple[str, str], type[Strategy]] = {}


def builtin(group: str, kind: str):  # type: ignore[no-untyped-def]
    """Class decorator: the strategy of a built-in kind (group, kind)."""
    def wrap(cls: type[Strategy]) -> type[Strategy]:
        _BUILTIN[(group, kind)] = cls
        return cls
    return wrap


def register(strategy: Strategy) -> None:
    """Serve `strategy.resource` (one version of a kind) with `strategy` (the CRD
    controller calls this when a CRD is established or changes)."""
    r = strategy.resource
    _REGISTERED[(r.group, r.version, r.kind)] = strategy


def unregister(resource: ResourceInfo) -> None:
    _REGISTERED.pop((resource.group, resource.version, resource.kind), None)


def for_resource(resource: ResourceInfo) -> Strategy:
    """The strategy of `resource`'s kind: a registered one (the current one, even for a
    request that began before its CRD changed), the built-in class, or the base."""
    s = _REGISTERED.get((resource.group, resource.version, resource.kind))
    if s is not None:
        return s
    key = (resource.group, resource.kind)
    s = _STRATEGIES.get(key)
    if s is None or s.resource != resource:
        s = _BUILTIN.get(key, Strategy)(resource)
        _STRATEGIES[key] = s
    return s


from apiserver.strategies import apps, certificates, core  # noqa: E402,F401  (registers the built-in kinds)
from apiserver.strategies import batch, replication  # noqa: E402,F401
from apiserver.strategies import apps_sets, storage  # noqa: E402,F401
from apiserver.apiextensions import crd_strategy  # noqa: E402,F401
