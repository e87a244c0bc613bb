"""Strategies of apps/v1 DaemonSet, StatefulSet and ControllerRevision.

DaemonSet and StatefulSet start with the status kube-apiserver returns on create (the
counters it always serialises, at 0) that only their controllers fill in. A
ControllerRevision has no generation, and its data and revision never change.
"""
from __future__ import annotations

from api.field import FieldError, invalid
from api.validation_meta import immutable
from apiserver.strategies import Obj, Strategy, builtin


TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"


@builtin("apps", "DaemonSet")
class DaemonSetStrategy(Strategy):
    """Also keeps apps/v1's form of spec.templateGeneration, the annotation
    `deprecated.daemonset.template.generation`: 1 on create, +1 with each template change,
    never set by a client."""

    reset_status = True

    def initial_status(self, obj: Obj) -> Obj | None:
        return {"currentNumberScheduled": 0, "numberMisscheduled": 0,
                "desiredNumberScheduled": 0, "numberReady": 0}

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        obj["metadata"].setdefault("annotations", {})[TEMPLATE_GENERATION] = "1"

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        previous = (old["metadata"].get("annotations") or {}).get(TEMPLATE_GENERATION)
        if previous is None:
            return
        value = previous
        if (new.get("spec") or {}).get("template") != (old.get("spec") or {}).get("template"):
            value = str(int(previous) + 1) if previous.isdigit() else previous
        new["metadata"].setdefault("annotations", {})[TEMPLATE_GENERATION] = value


@builtin("apps", "StatefulSet")
class StatefulSetStrategy(Strategy):
    reset_status = True

    def initial_status(self, obj: Obj) -> Obj | None:
        return {"replicas": 0, "availableReplicas": 0}


@builtin("apps", "ControllerRevision")
class ControllerRevisionStrategy(Strategy):
    generation = False

    def validate(self, obj: Obj) -> list[FieldError]:
        errs = super().validate(obj)
        revision = obj.get("revision")
        if isinstance(revision, int) and revision < 0:
            errs.append(invalid("revision", revision, "must be greater than or equal to 0"))
        return errs

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        return super().validate_update(new, old) + immutable(new.get("data"), old.get("data"), "data")
