"""The strategy of a custom resource: one served version of an established CRD.

Owns what kube-apiserver's customResourceStrategy does for a version, over the generic
registry:
- decode: metadata kept to ObjectMeta's fields, then structural pruning; each dropped field
  is a warning (`unknown field "spec.colour"`), as in fieldValidation=Warn;
- default: the schema's defaults; validate / validate_update / validate_status_update:
  ObjectMeta rules (names are DNS subdomains), then the schema, every cause named;
- with a `status` subresource, create drops status, a main-resource write keeps the stored
  status and only /status changes it; metadata.generation counts changes of anything but
  metadata (and status, when it is a subresource);
- `scale`: the version's specReplicasPath, statusReplicasPath and labelSelectorPath;
- the table from additionalPrinterColumns, the field selectors (metadata.name,
  metadata.namespace and the version's selectableFields), the OpenAPI schema;
- while its CRD is terminating, creates are refused (405) as kube-apiserver refuses them.
"""
from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError

from api import jsonpath, scheme, tables
from api.field import FieldError, InvalidError, child
from api.models.base import ObjectMeta
from api.names import is_dns1123_subdomain
from api.resources import ResourceInfo
from api.validation_meta import immutable, validate_object_meta
from apiserver import errors
from apiserver.apiextensions import structural, validation
from apiserver.apiextensions.printer import PrinterColumns
from apiserver.strategies import Obj, Strategy

_META_FIELDS = frozenset(("metadata.name", "metadata.namespace"))


class CustomResourceStrategy(Strategy):
    def __init__(self, resource: ResourceInfo, version: Obj, terminating: bool = False) -> None:
        super().__init__(resource)
        self.schema: Obj = ((version.get("schema") or {}).get("openAPIV3Schema")) or {}
        subs = version.get("subresources") or {}
        self.has_status = subs.get("status") is not None
        self.reset_status = self.has_status
        self.scale_spec: Obj | None = subs.get("scale")
        self.printer = PrinterColumns(version.get("additionalPrinterColumns"))
        self.selectable = {sf["jsonPath"].lstrip("."): sf["jsonPath"]
                           for sf in version.get("selectableFields") or [] if sf.get("jsonPath")}
        self.terminating = terminating

    # ------------------------------------------------------------------ decode, default
    def decode(self, body: Obj) -> tuple[Obj, list[str]]:
        if not isinstance(body, dict):
            raise InvalidError([FieldError("Invalid", "", "the object must be a JSON object")])
        obj = copy.deepcopy(body)
        warnings: list[str] = []
        meta = obj.get("metadata")
        if meta is not None:
            try:
                clean = ObjectMeta.model_validate(meta).to_dict()
            except ValidationError as exc:
                raise InvalidError([FieldError(e.type, child("metadata", e.field) if e.field else "metadata",
                                               e.message, e.bad_value)
                                    for e in scheme.field_errors(ObjectMeta, exc)]) from None
            warnings.extend(f'unknown field "{child("metadata", p)}"'
                            for p in scheme.unknown_fields(meta, clean))
            obj["metadata"] = clean
        warnings.extend(f'unknown field "{p}"' for p in structural.prune(self.schema, obj))
        return obj, warnings

    def default(self, obj: Obj) -> None:
        structural.default(self.schema, obj)

    # ------------------------------------------------------------------ create / update
    def initial_status(self, obj: Obj) -> Obj | None:
        return None     # a custom resource with a status subresource starts without one

    def prepare_for_create(self, obj: Obj) -> None:
        if self.terminating:
            raise errors.method_not_allowed(
                "create not allowed while custom resource definition is terminating")
        super().prepare_for_create(obj)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        if self.has_status:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        ometa, meta = old["metadata"], new["metadata"]
        if "generation" in ometa:
            changed = _content(new) != _content(old)
            meta["generation"] = ometa["generation"] + (1 if changed else 0)

    def validate(self, obj: Obj) -> list[FieldError]:
        errs = validate_object_meta(obj.get("metadata"), self.resource.namespaced, is_dns1123_subdomain)
        errs.extend(validation.validate(self.schema, obj))
        return errs

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        errs = self.validate(new)
        nmeta, ometa = new.get("metadata") or {}, old.get("metadata") or {}
        for fld in ("name", "namespace", "uid"):
            if fld == "uid" and not nmeta.get("uid"):
                continue
            errs.extend(immutable(nmeta.get(fld) or "", ometa.get(fld) or "", f"metadata.{fld}"))
        return errs

    def validate_status_update(self, new: Obj, old: Obj) -> list[FieldError]:
        return self.validate_update(new, old)

    # ------------------------------------------------------------------ scale, selectors
    def scale_of(self, obj: Obj) -> tuple[int, int, str]:
        assert self.scale_spec is not None
        spec_n = _first(obj, self.scale_spec.get("specReplicasPath"))
        status_n = _first(obj, self.scale_spec.get("statusReplicasPath"))
        sel = _first(obj, self.scale_spec.get("labelSelectorPath"))
        return (spec_n if isinstance(spec_n, int) else 0, status_n if isinstance(status_n, int) else 0,
                sel if isinstance(sel, str) else "")

    def set_replicas(self, obj: Obj, replicas: int) -> None:
        assert self.scale_spec is not None
        parts = [p for p in str(self.scale_spec["specReplicasPath"]).split(".") if p]
        node = obj
        for p in parts[:-1]:
            nxt = node.get(p)
            if not isinstance(nxt, dict):
                nxt = node[p] = {}
            node = nxt
        node[parts[-1]] = replicas

    def field_labels(self) -> frozenset[str] | None:
        return _META_FIELDS | frozenset(self.selectable)

    # ------------------------------------------------------------------ schema, tables
    def openapi_schema(self) -> dict[str, Any] | None:
        return self.schema

    def table_columns(self) -> list[tables.Column]:
        return self.printer.columns

    def table_row(self, obj: Obj) -> list[Any]:
        return self.printer.row(obj)


def _content(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k != "metadata"}


def _first(obj: Obj, path: str | None) -> Any:
    if not path:
        return None
    values = jsonpath.evaluate(jsonpath.parse(jsonpath.relaxed(path))[0].path, obj)  # type: ignore[attr-defined]
    return values[0] if values else None
