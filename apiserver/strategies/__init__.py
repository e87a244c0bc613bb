"""Per-kind strategies: what is particular to a kind on the apiserver's write path.

As kube-apiserver's `RESTCreateStrategy` / `RESTUpdateStrategy` / `RESTDeleteStrategy`, each
kind registers one `Strategy` object beside its `ResourceInfo`; the generic registry calls
it and holds no kind names of its own. A strategy owns:

- decoding (the typed model, or a CRD's schema) and defaulting;
- `prepare_for_create` / `prepare_for_update` / `prepare_for_status_update`: what the
  server resets or keeps (status on create, status across a main-resource update,
  metadata.generation on spec changes, a pod's QoS class);
- `validate` / `validate_update`;
- deletion: whether an object stays after a delete (`begin_delete`: a bound pod's grace
  period, a namespace's Terminating phase), whether it is still held once its
  finalizers are gone (`held`), and the default propagationPolicy;
- the table columns `kubectl get` prints, and (CRDs) the kind's OpenAPI schema.

Kinds with nothing special use the base `Strategy`. `for_resource` finds a kind's strategy;
`register` adds one (the built-in modules at import, the CRD registry at run time).
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
_BUILTIN: dict[tuple[str, str], type[Strategy]] = {}


def builtin(group: str, kind: str):  # type: ignore[no-untyped-def]
    """Class decorator: the strategy of a built-in kind (group, kind)."""
    def wrap(cls: type[Strategy]) -> type[Strategy]:
        _BUILTIN[(group, kind)] = cls
        return cls
    return wrap


def register(strategy: Strategy) -> None:
    """Serve `strategy.resource` with `strategy` (CRDs call this when they are established)."""
    _STRATEGIES[(strategy.resource.group, strategy.resource.kind)] = strategy


def unregister(resource: ResourceInfo) -> None:
    _STRATEGIES.pop((resource.group, resource.kind), None)


def for_resource(resource: ResourceInfo) -> Strategy:
    """The strategy of `resource`'s kind: a registered one, the built-in class, or the base."""
    key = (resource.group, resource.kind)
    s = _STRATEGIES.get(key)
    if s is None or s.resource != resource:
        s = _BUILTIN.get(key, Strategy)(resource)
        _STRATEGIES[key] = s
    return s


from apiserver.strategies import apps, certificates, core  # noqa: E402,F401  (registers the built-in kinds)
from apiserver.strategies import batch, replication  # noqa: E402,F401
