"""A CRD's accepted names and conditions, its table, and the rows it serves (pure parts)."""
from __future__ import annotations

from typing import Any

from api import crds, resources
from api.resources import ResourceInfo, version_priority
from apiserver.apiextensions import naming
from apiserver.apiextensions.printer import PrinterColumns

NOW = "2026-01-01T00:00:00Z"


def crd(plural: str, kind: str, short: list[str] | None = None, accepted: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": f"{plural}.x.io"},
            "spec": {"group": "x.io", "names": {"plural": plural, "kind": kind, "shortNames": short or []},
                     "scope": "Namespaced",
                     "versions": [{"name": "v1beta1", "served": True, "storage": False},
                                  {"name": "v1", "served": True, "storage": True},
                                  {"name": "v2alpha1", "served": False, "storage": False}]},
            "status": {"acceptedNames": accepted or {"plural": "", "kind": ""}}}


def test_fresh_names_are_accepted_with_defaults() -> None:
    names, cond = naming.accepted_names(crd("things", "Thing", ["th"]), naming.UsedNames())
    assert names == {"plural": "things", "singular": "thing", "kind": "Thing", "listKind": "ThingList",
                     "shortNames": ["th"]}
    assert cond == {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                    "message": "no conflicts found"}


def test_names_in_use_are_refused_and_earlier_ones_kept() -> None:
    used = naming.UsedNames()
    used.add({"plural": "things", "singular": "thing", "shortNames": ["th"], "kind": "Thing", "listKind": "ThingList"})
    names, cond = naming.accepted_names(crd("others", "Other", ["th"]), used)
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", "ShortNamesConflict", '"th" is already in use')
    assert "shortNames" not in names and names["plural"] == "others"
    accepted = {"plural": "stuffs", "singular": "stuff", "kind": "Stuff", "listKind": "StuffList"}
    names, cond = naming.accepted_names(crd("stuffs", "Thing", accepted=accepted), used)
    assert cond["reason"] == "ListKindConflict" and names["kind"] == "Stuff"   # keeps what it had


def test_conditions_move_their_time_only_on_change() -> None:
    status = naming.desired_status(crd("things", "Thing"), naming.UsedNames(), NOW)
    est = naming.find(status["conditions"], "Established")
    assert est == {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                   "message": "the initial names have been accepted", "lastTransitionTime": NOW}
    again = naming.desired_status(dict(crd("things", "Thing"), status=status), naming.UsedNames(), "later")
    assert again == status
    term = naming.set_condition(status["conditions"], naming.terminating(True, 3), "t")
    assert [c["type"] for c in term] == ["NamesAccepted", "Established", "Terminating"]
    assert naming.terminating(True, 0)["reason"] == "InstanceDeletionCompleted"


def test_rows_of_a_crd() -> None:
    rows = crds.served_rows(crd("things", "Thing"), {"plural": "things", "kind": "Thing", "listKind": "ThingList"})
    assert [r.version for r in rows] == ["v1", "v1beta1"]          # served ones, preferred first
    assert all(r.storage_version == "v1" and r.stored_api_version == "x.io/v1" for r in rows)
    assert crds.accepted_rows(crd("things", "Thing")) == []          # not established yet
    assert sorted(["v1", "v2", "v1beta1", "v1alpha1", "v10", "v2beta3", "foo"], key=version_priority) == \
        ["v10", "v2", "v1", "v2beta3", "v1beta1", "v1alpha1", "foo"]


def test_run_time_rows_in_the_resource_table() -> None:
    rows = [ResourceInfo("x.io", "v1", "Thing", "things", True, ("th",)),
            ResourceInfo("x.io", "v1beta1", "Thing", "things", True, ("th",))]
    gen = resources.generation()
    resources.register(rows)
    try:
        assert resources.generation() > gen
        assert resources.by_plural("x.io", "things") == rows[0]
        assert resources.by_plural("x.io", "things", "v1beta1") == rows[1]
        assert resources.by_kind("x.io/v1beta1", "Thing") == rows[1]
        assert resources.resolve("th") == rows[0]
        assert resources.resolve("things.v1beta1.x.io") == rows[1]
        assert resources.resolve("pods").kind == "Pod"                 # built-ins come first
    finally:
        assert resources.unregister("x.io", "things") == rows
    assert resources.by_plural("x.io", "things") is None


def test_printer_columns_cells() -> None:
    table = PrinterColumns([{"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
                            {"name": "N", "type": "integer", "jsonPath": ".spec.n", "priority": 1},
                            {"name": "Tags", "type": "string", "jsonPath": ".spec.tags"},
                            {"name": "On", "type": "boolean", "jsonPath": ".spec.on"}])
    obj = {"metadata": {"name": "a"}, "spec": {"n": 3.0, "tags": ["x", "y"], "on": "yes"},
           "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    assert table.row(obj) == ["a", "True", 3, '["x","y"]', None]
    assert [c.name for c in table.columns] == ["Name", "Ready", "N", "Tags", "On"]
    assert table.columns[2].priority == 1
    assert [c.name for c in PrinterColumns(None).columns] == ["Name", "Age"]
