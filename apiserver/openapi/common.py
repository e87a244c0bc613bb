"""The meta/v1 bodies that every group-version's paths use and that have no model here:
ListMeta, Status (with StatusDetails and StatusCause), DeleteOptions (with Preconditions),
Patch, WatchEvent, ManagedFieldsEntry (and FieldsV1). Each builder takes the `Definitions`
it adds to (for references) and returns the schema; descriptions come from
descriptions.json like the models'.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from apiserver.openapi.schemas import META, description, described_ref

if TYPE_CHECKING:
    from apiserver.openapi.schemas import Definitions

Obj = dict[str, Any]
STRING: Obj = {"type": "string"}
INT: Obj = {"type": "integer", "format": "int64"}
INT32: Obj = {"type": "integer", "format": "int32"}
BOOL: Obj = {"type": "boolean"}
STRINGS: Obj = {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "atomic"}


def _object(short: str, props: Obj, required: tuple[str, ...] = ()) -> Obj:
    name = f"{META}.{short}"
    described = {}
    for field, schema in sorted(props.items()):
        text = description(name, field)
        described[field] = {"description": text, **schema} if text else schema
    out: Obj = {"type": "object", "properties": described}
    text = description(name)
    if text:
        out = {"description": text, **out}
    if required:
        out["required"] = list(required)
    return out


def _type_meta() -> Obj:
    return {"apiVersion": STRING, "kind": STRING}


def list_meta(d: Definitions) -> Obj:
    return _object("ListMeta", {"continue": STRING, "remainingItemCount": INT, "resourceVersion": STRING,
                                "selfLink": STRING})


def status(d: Definitions) -> Obj:
    return {**_object("Status", {**_type_meta(), "code": INT32,
                                 "details": described_ref(d.add_common("StatusDetails"), None),
                                 "message": STRING, "metadata": described_ref(d.add_common("ListMeta"), None),
                                 "reason": STRING, "status": STRING}),
            "x-kubernetes-group-version-kind": [{"group": "", "kind": "Status", "version": "v1"}]}


def status_details(d: Definitions) -> Obj:
    causes = {"type": "array", "items": described_ref(d.add_common("StatusCause"), None),
              "x-kubernetes-list-type": "atomic"}
    return _object("StatusDetails", {"causes": causes, "group": STRING, "kind": STRING, "name": STRING,
                                     "retryAfterSeconds": INT32, "uid": STRING})


def status_cause(d: Definitions) -> Obj:
    return _object("StatusCause", {"field": STRING, "message": STRING, "reason": STRING})


def delete_options(d: Definitions) -> Obj:
    return {**_object("DeleteOptions", {
        **_type_meta(), "dryRun": STRINGS, "gracePeriodSeconds": INT,
        "ignoreStoreReadErrorWithClusterBreakingPotential": BOOL, "orphanDependents": BOOL,
        "preconditions": described_ref(d.add_common("Preconditions"), None),
        "propagationPolicy": STRING}),
        "x-kubernetes-group-version-kind": [{"group": "", "kind": "DeleteOptions", "version": "v1"}]}


def preconditions(d: Definitions) -> Obj:
    return _object("Preconditions", {"resourceVersion": STRING, "uid": STRING})


def patch(d: Definitions) -> Obj:
    text = description(f"{META}.Patch")
    return {"description": text, "type": "object"} if text else {"type": "object"}


def watch_event(d: Definitions) -> Obj:
    return {**_object("WatchEvent", {"object": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                     "type": STRING}, ("type", "object")),
            "x-kubernetes-group-version-kind": [{"group": "", "kind": "WatchEvent", "version": "v1"}]}


def managed_fields_entry(d: Definitions) -> Obj:
    return _object("ManagedFieldsEntry", {
        "apiVersion": STRING, "fieldsType": STRING,
        "fieldsV1": described_ref(d.add_common("FieldsV1"), None), "manager": STRING,
        "operation": STRING, "subresource": STRING,
        "time": {"type": "string", "format": "date-time"}})


def fields_v1(d: Definitions) -> Obj:
    text = description(f"{META}.FieldsV1")
    return {**({"description": text} if text else {}), "type": "object"}


COMMON: dict[str, Callable[[Definitions], Obj]] = {
    "ListMeta": list_meta, "Status": status, "StatusDetails": status_details,
    "StatusCause": status_cause, "DeleteOptions": delete_options, "Preconditions": preconditions,
    "Patch": patch, "WatchEvent": watch_event, "ManagedFieldsEntry": managed_fields_entry,
    "FieldsV1": fields_v1,
}
