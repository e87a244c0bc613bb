"""The strategy of CustomResourceDefinition objects themselves.

Owns: defaulting (names.singular, names.listKind, conversion strategy None), validation
(crd_validation.py), the status a CRD starts with (no conditions, empty accepted names, the
storage version in storedVersions), keeping storedVersions a record of every version ever
stored, and deletion: a delete adds the `customresourcecleanup.apiextensions.k8s.io`
finalizer and a Terminating condition, so the CRD stays until the CRD controller
(controller.py) has deleted its objects.
"""
from __future__ import annotations

import copy

from api.field import FieldError
from api.crds import storage_version
from api.meta import now_rfc3339
from apiserver.apiextensions import crd_validation, naming
from apiserver.strategies import Obj, Strategy, builtin


@builtin("apiextensions.k8s.io", "CustomResourceDefinition")
class CustomResourceDefinitionStrategy(Strategy):
    reset_status = True

    def default(self, obj: Obj) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        if isinstance(spec.get("names"), dict):
            spec["names"] = naming.defaulted_names(spec["names"])
        conversion = spec.setdefault("conversion", {})
        if isinstance(conversion, dict):
            conversion.setdefault("strategy", "None")

    def initial_status(self, obj: Obj) -> Obj | None:
        stored = storage_version(obj)
        return {"acceptedNames": {"plural": "", "kind": ""},
                "storedVersions": [stored] if stored else []}

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        stored = storage_version(new)
        status = new.setdefault("status", {})
        versions = list(status.get("storedVersions") or [])
        if stored and stored not in versions:
            status["storedVersions"] = versions + [stored]

    def validate(self, obj: Obj) -> list[FieldError]:
        return super().validate(obj) + crd_validation.validate_crd(obj)

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        return super().validate_update(new, old) + crd_validation.validate_crd_update(new, old)

    def begin_delete(self, obj: Obj, grace_period_seconds: int | None) -> bool:
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            return True
        fins = list(meta.get("finalizers") or [])
        if naming.FINALIZER not in fins:
            meta["finalizers"] = fins + [naming.FINALIZER]
        status = obj.setdefault("status", {})
        conds = copy.deepcopy(status.get("conditions") or [])
        status["conditions"] = naming.set_condition(conds, {
            "type": "Terminating", "status": "True", "reason": "InstanceDeletionPending",
            "message": "CustomResourceDefinition marked for deletion; CustomResource deletion "
                       "will begin soon"}, now_rfc3339())
        return True
