"""A CRD's accepted names and status conditions (pure): kube-apiserver's naming,
establishing and finalizing controllers' decisions.

Owns:
- `accepted_names(crd, used)`: each requested name (plural, singular, short names, kind,
  listKind) is accepted when it is already this CRD's or no other resource of the group
  uses it; a name in use keeps the previously accepted one and makes `NamesAccepted` False
  (`PluralConflict`, `KindConflict`, ... with `"x" is already in use`).
- `conditions(...)`: NamesAccepted, Established (True once names were accepted; it stays)
  and Terminating, with lastTransitionTime moved only when a status changes.
- `defaulted_names(names)`: singular (the lowercased kind) and listKind (`<Kind>List`).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def defaulted_names(names: Obj) -> Obj:
    out = dict(names)
    if not out.get("singular") and out.get("kind"):
        out["singular"] = str(out["kind"]).lower()
    if not out.get("listKind") and out.get("kind"):
        out["listKind"] = f"{out['kind']}List"
    return out


@dataclass
class UsedNames:
    """Names taken in one group: resource names (plural, singular, short) and kinds."""

    resources: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)

    def add(self, names: Obj) -> None:
        for k in ("plural", "singular"):
            if names.get(k):
                self.resources.add(names[k])
        self.resources.update(names.get("shortNames") or [])
        for k in ("kind", "listKind"):
            if names.get(k):
                self.kinds.add(names[k])


def _fresh(requested: str | None, accepted: str | None, used: set[str]) -> str | None:
    """None when `requested` may be taken, else why not."""
    if not requested or requested == accepted or requested not in used:
        return None
    return f'"{requested}" is already in use'


def accepted_names(crd: Obj, used: UsedNames) -> tuple[Obj, Obj]:
    """(the names to accept, the NamesAccepted condition) for `crd` given the names the
    other resources of its group hold."""
    requested = defaulted_names((crd.get("spec") or {}).get("names") or {})
    accepted: Obj = copy.deepcopy(((crd.get("status") or {}).get("acceptedNames")) or {})
    new = copy.deepcopy(accepted)
    problem: tuple[str, str] | None = None
    for name, reason, pool in (("plural", "PluralConflict", used.resources),
                               ("singular", "SingularConflict", used.resources)):
        why = _fresh(requested.get(name), accepted.get(name), pool)
        if why:
            problem = (reason, why)
        elif requested.get(name):
            new[name] = requested[name]
    req_short, acc_short = requested.get("shortNames") or [], accepted.get("shortNames") or []
    if req_short != acc_short:
        whys = [w for s in req_short if s not in acc_short
                for w in [_fresh(s, None, used.resources)] if w]
        if whys:
            problem = ("ShortNamesConflict", whys[0] if len(whys) == 1 else "[" + ", ".join(whys) + "]")
        else:
            if req_short:
                new["shortNames"] = list(req_short)
            else:
                new.pop("shortNames", None)
    for name, reason in (("kind", "KindConflict"), ("listKind", "ListKindConflict")):
        why = _fresh(requested.get(name), accepted.get(name), used.kinds)
        if why:
            problem = (reason, why)
        elif requested.get(name):
            new[name] = requested[name]
    if requested.get("categories"):
        new["categories"] = list(requested["categories"])
    else:
        new.pop("categories", None)
    if problem:
        cond = {"type": "NamesAccepted", "status": "False", "reason": problem[0], "message": problem[1]}
    else:
        cond = {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                "message": "no conflicts found"}
    return new, cond


def served_names(crd: Obj) -> Obj | None:
    """The names a CRD is served under: its accepted ones, once a plural and kind are."""
    names = ((crd.get("status") or {}).get("acceptedNames")) or {}
    return names if names.get("plural") and names.get("kind") else None


def find(conditions: list[Obj], typ: str) -> Obj | None:
    return next((c for c in conditions if c.get("type") == typ), None)


def set_condition(conditions: list[Obj], cond: Obj, now: str) -> list[Obj]:
    """`conditions` with `cond` in place; lastTransitionTime kept unless the status moved."""
    old = find(conditions, cond["type"])
    new = dict(cond)
    new["lastTransitionTime"] = old["lastTransitionTime"] if (
        old is not None and old.get("status") == cond["status"] and old.get("lastTransitionTime")) else now
    out = [c for c in conditions if c.get("type") != cond["type"]]
    out.append(new)
    order = {"NamesAccepted": 0, "Established": 1, "Terminating": 2}
    return sorted(out, key=lambda c: order.get(c.get("type", ""), 9))


def desired_status(crd: Obj, used: UsedNames, now: str) -> Obj:
    """The status the naming and establishing controllers would write for `crd`."""
    status = copy.deepcopy(crd.get("status") or {})
    names, names_cond = accepted_names(crd, used)
    conds: list[Obj] = list(status.get("conditions") or [])
    conds = set_condition(conds, names_cond, now)
    established = find(conds, "Established")
    if names_cond["status"] == "True" or (established and established.get("status") == "True"):
        conds = set_condition(conds, {"type": "Established", "status": "True",
                                      "reason": "InitialNamesAccepted",
                                      "message": "the initial names have been accepted"}, now)
    elif established is None:
        conds = set_condition(conds, {"type": "Established", "status": "False",
                                      "reason": "NotAccepted",
                                      "message": "not all names are accepted"}, now)
    status["conditions"] = conds
    status["acceptedNames"] = names
    return status


def terminating(deleting: bool, left: int) -> Obj:
    """The Terminating condition while instances are deleted (`left` of them remain)."""
    if not deleting:
        return {"type": "Terminating", "status": "False", "reason": "NotTerminating",
                "message": "the CustomResourceDefinition is not being deleted"}
    if left:
        return {"type": "Terminating", "status": "True", "reason": "InstanceDeletionInProgress",
                "message": "CustomResource deletion is in progress"}
    return {"type": "Terminating", "status": "False", "reason": "InstanceDeletionCompleted",
            "message": "removed all instances"}
