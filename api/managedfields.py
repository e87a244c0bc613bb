"""Field management, pure: which manager owns which fields (`metadata.managedFields`), and
server-side apply's merge, conflicts and removals (Kubernetes' structured-merge-diff, on
wire dicts, with the list keys of api/patch_schema.py).

A field set is a set of paths; a path is a tuple of Kubernetes' FieldsV1 elements:
`f:<field>` (a struct or map field), `k:{"name":"nginx"}` (an item of a list keyed by its
merge keys), `v:"x"` (an item of a set), and `.` (the node itself: a map or a list item
is owned as a whole). `fields_v1` and `from_fields_v1` convert to and from the nested
dicts stored in managedFields.

- `field_set(obj, kind)`: every leaf of an object (server-owned metadata, apiVersion, kind
  and status excluded);
- `track_update(new, old, manager, ...)`: an Update gives its manager the fields it
  changed, taking them from any other manager; fields it removed leave every set;
- `apply(live, applied, manager, ...)`: merge the applied configuration into the live
  object, refusing (ApplyConflict) to change a field another manager owns with another
  value unless forced, and removing what this manager applied before and no longer does
  when nobody else owns it.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Iterator

from api import patch_schema

Obj = dict[str, Any]
Path = tuple[str, ...]
#: metadata fields the server owns: never tracked
SERVER_META = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
               "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink",
               "generateName"}
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
CSA_MANAGER = "kubectl-client-side-apply"
#: dict-valued fields that are maps (owned as a whole, `.`), not structs
MAPS = {"labels", "annotations", "data", "binaryData", "stringData", "nodeSelector", "matchLabels",
        "limits", "requests", "hard", "used", "capacity", "allocatable", "selector"}


def _meta(node: Any, field: str) -> patch_schema.PatchMeta:
    """How `field` of a value of `node` merges: `node` is a type name of api/patch_schema.py,
    or (a CRD's) OpenAPI schema node, whose `x-kubernetes-list-type` / `-list-map-keys` say it."""
    if not isinstance(node, dict):
        return patch_schema.lookup(node, field)
    child = (node.get("properties") or {}).get(field)
    if child is None and isinstance(node.get("additionalProperties"), dict):
        child = node["additionalProperties"]
    child = child or {}
    if child.get("type") == "array":
        items = child.get("items") or {}
        kind = child.get("x-kubernetes-list-type")
        if kind == "map":
            return patch_schema.PatchMeta(items, "merge", (child.get("x-kubernetes-list-map-keys") or [""])[0])  # type: ignore[arg-type]
        if kind == "set":
            return patch_schema.PatchMeta(items, "merge", "")  # type: ignore[arg-type]
        return patch_schema.PatchMeta(items)  # type: ignore[arg-type]
    return patch_schema.PatchMeta(child)  # type: ignore[arg-type]


def _root(kind: str | None, schema: Obj | None) -> Any:
    return schema if schema is not None else patch_schema.root_type(kind)


def _key_fields(meta_key: str, item: Obj) -> list[str]:
    """The list-map keys of an item: the merge key, plus `protocol` for ports (as Kubernetes'
    `x-kubernetes-list-map-keys: [containerPort, protocol]`)."""
    keys = [meta_key]
    if meta_key in ("containerPort", "port") and "protocol" in item:
        keys.append("protocol")
    return keys


def _item_key(meta_key: str, item: Any) -> str | None:
    if not isinstance(item, dict) or meta_key not in item:
        return None
    return "k:" + json.dumps({k: item[k] for k in _key_fields(meta_key, item)}, separators=(",", ":"))


def _walk(value: Obj, type_name: Any, prefix: Path) -> Iterator[Path]:
    for f, v in value.items():
        p = prefix + (f"f:{f}",)
        meta = _meta(type_name, f)
        if isinstance(v, dict):
            if f in MAPS or not v:
                yield p + (".",) if v else p
            if v:
                yield from _walk(v, meta.type, p)
        elif isinstance(v, list) and meta.strategy == "merge" and v:
            for item in v:
                if meta.key and isinstance(item, dict):
                    ip = p + (_item_key(meta.key, item) or f"v:{json.dumps(item, sort_keys=True)}",)
                    yield ip + (".",)
                    yield from _walk(item, meta.type, ip)
                else:
                    yield p + ("v:" + json.dumps(item, separators=(",", ":")),)
        else:
            yield p


def field_set(obj: Obj, kind: str | None, schema: Obj | None = None) -> set[Path]:
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "status", "metadata")}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in SERVER_META}
    out = set(_walk(body, _root(kind, schema), ()))
    if meta:
        out |= {("f:metadata",) + p for p in _walk(meta, "ObjectMeta", ())}
    return out


def status_set(obj: Obj, kind: str | None, schema: Obj | None = None) -> set[Path]:
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return set()
    st = _meta(_root(kind, schema), "status").type
    return {("f:status",) + p for p in _walk(status, st, ())}


def fields_v1(paths: set[Path]) -> Obj:
    root: Obj = {}
    for p in sorted(paths):
        node = root
        for el in p:
            node = node.setdefault(el, {})
    return root


def from_fields_v1(tree: Obj, prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    for k, v in (tree or {}).items():
        p = prefix + (k,)
        if k == "." or not v:
            out.add(p)
        else:
            out |= from_fields_v1(v, p)
    return out


# ------------------------------------------------------------------ values at paths
_MISSING = object()


def value_at(obj: Obj, path: Path) -> Any:
    node: Any = obj
    for el in path:
        if el == ".":
            return node
        if el.startswith("f:") and isinstance(node, dict):
            node = node.get(el[2:], _MISSING)
        elif el.startswith("k:") and isinstance(node, list):
            want = json.loads(el[2:])
            node = next((i for i in node if isinstance(i, dict) and all(i.get(k) == v for k, v in want.items())),
                        _MISSING)
        elif el.startswith("v:") and isinstance(node, list):
            val = json.loads(el[2:])
            node = val if val in node else _MISSING
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def remove_path(obj: Obj, path: Path) -> None:
    """Delete the field (or list item, for a `.` path of an item) a path names."""
    if path and path[-1] == ".":
        path = path[:-1]
        if not path or not path[-1].startswith(("k:", "v:")):
            parent = value_at(obj, path[:-1]) if path else _MISSING
            if isinstance(parent, dict) and path and path[-1].startswith("f:"):
                node = parent.get(path[-1][2:])
                if isinstance(node, dict) and not node:
                    parent.pop(path[-1][2:], None)
            return
    parent = value_at(obj, path[:-1])
    last = path[-1]
    if last.startswith("f:") and isinstance(parent, dict):
        parent.pop(last[2:], None)
    elif last.startswith(("k:", "v:")) and isinstance(parent, list):
        target = value_at(obj, path)
        if target is not _MISSING:
            parent.remove(target)


def path_text(path: Path) -> str:
    """`.spec.template.spec.containers[name="nginx"].image`, as conflicts name fields."""
    out = ""
    for el in path:
        if el.startswith("f:"):
            out += "." + el[2:]
        elif el.startswith("k:"):
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in json.loads(el[2:]).items()) + "]"
        elif el.startswith("v:"):
            out += f"[{el[2:]}]"
    return out


# ------------------------------------------------------------------ managedFields entries
@dataclass
class Entry:
    manager: str
    operation: str
    api_version: str
    time: str
    fields: set[Path]
    subresource: str = ""

    def to_wire(self) -> Obj:
        out: Obj = {"manager": self.manager, "operation": self.operation, "apiVersion": self.api_version,
                    "time": self.time, "fieldsType": "FieldsV1", "fieldsV1": fields_v1(self.fields)}
        if self.subresource:
            out["subresource"] = self.subresource
        return out

    @staticmethod
    def from_wire(d: Obj) -> "Entry":
        return Entry(d.get("manager", ""), d.get("operation", "Update"), d.get("apiVersion", ""),
                     d.get("time", ""), from_fields_v1(d.get("fieldsV1") or {}), d.get("subresource", ""))


def entries(obj: Obj) -> list[Entry]:
    return [Entry.from_wire(d) for d in (obj.get("metadata") or {}).get("managedFields") or []]


def set_entries(obj: Obj, es: list[Entry]) -> None:
    kept = [e for e in es if e.fields]
    meta = obj.setdefault("metadata", {})
    if kept:
        meta["managedFields"] = [e.to_wire() for e in kept]
    else:
        meta.pop("managedFields", None)


def _own(es: list[Entry], manager: str, operation: str, api_version: str, subresource: str, now: str,
         paths: set[Path]) -> list[Entry]:
    """Give `paths` to (manager, operation, subresource), taking them from everyone else."""
    out = []
    mine = None
    for e in es:
        if (e.manager, e.operation, e.subresource) == (manager, operation, subresource):
            mine = e
            continue
        e.fields -= paths
        out.append(e)
    if mine is None:
        mine = Entry(manager, operation, api_version, now, set(), subresource)
    if paths - mine.fields or operation == "Apply":
        mine.time, mine.api_version = now, api_version
    mine.fields |= paths
    return out + [mine]


def _sets(obj: Obj, kind: str | None, subresource: str, schema: Obj | None = None) -> set[Path]:
    return status_set(obj, kind, schema) if subresource == "status" else field_set(obj, kind, schema)


def track_update(new: Obj, old: Obj | None, manager: str, api_version: str, kind: str | None, now: str,
                 subresource: str = "", schema: Obj | None = None) -> None:
    """managedFields of `new` after an Update (create, update, patch) by `manager`
    (`schema`: a CRD's OpenAPI schema, whose list types say how lists merge)."""
    es = entries(old) if old is not None else []
    new_set = _sets(new, kind, subresource, schema)
    old_set = _sets(old, kind, subresource, schema) if old is not None else set()
    # a map or list item ("." path) changes hands only when it is new; a leaf when its value changes
    changed = {p for p in new_set if p not in old_set or
               (p[-1] != "." and value_at(new, p) != value_at(old or {}, p))}
    removed = old_set - new_set
    if not changed and not removed and old is not None:
        set_entries(new, es)
        return
    for e in es:
        e.fields -= removed
    set_entries(new, _own(es, manager, "Update", api_version, subresource, now, changed))


class ApplyConflict(Exception):
    def __init__(self, conflicts: list[tuple[str, str, Path]]) -> None:
        self.conflicts = conflicts   # (manager, apiVersion, path)
        super().__init__(self.message())

    def message(self) -> str:
        n = len(self.conflicts)
        by: dict[tuple[str, str], list[Path]] = {}
        for m, av, p in self.conflicts:
            by.setdefault((m, av), []).append(p)
        parts = []
        for (m, av), paths in by.items():
            if len(paths) == 1:
                parts.append(f'conflict with "{m}" using {av}: {path_text(paths[0])}')
            else:
                parts.append(f'conflicts with "{m}" using {av}:\n' + "\n".join(f"- {path_text(p)}" for p in paths))
        return f"Apply failed with {n} conflict{'s' if n > 1 else ''}: " + "\n".join(parts)


def _merge(live: Any, applied: Any, type_name: Any) -> Any:
    if not (isinstance(live, dict) and isinstance(applied, dict)):
        return copy.deepcopy(applied)
    out = dict(live)
    for k, av in applied.items():
        meta = _meta(type_name, k)
        lv = live.get(k, _MISSING)
        if lv is _MISSING:
            out[k] = copy.deepcopy(av)
        elif isinstance(av, list) and isinstance(lv, list) and meta.strategy == "merge":
            if meta.key:
                merged = list(lv)
                for item in av:
                    ik = _item_key(meta.key, item)
                    idx = next((i for i, x in enumerate(merged) if ik is not None and _item_key(meta.key, x) == ik),
                               None)
                    if idx is None:
                        merged.append(copy.deepcopy(item))
                    else:
                        merged[idx] = _merge(merged[idx], item, meta.type)
                out[k] = merged
            else:
                out[k] = list(lv) + [x for x in av if x not in lv]
        else:
            out[k] = _merge(lv, av, meta.type)
    return out


def apply(live: Obj | None, applied: Obj, manager: str, api_version: str, kind: str | None, now: str,
          force: bool = False, schema: Obj | None = None) -> Obj:
    """The object after `manager` applies `applied` to `live` (None: it does not exist yet);
    `schema`: a CRD's OpenAPI schema, whose list types say how its lists merge."""
    base = copy.deepcopy(live) if live is not None else {}
    es = entries(base)
    applied_set = field_set(applied, kind, schema)
    conflicts = []
    for e in es:
        if e.manager == manager and e.operation == "Apply" or e.subresource:
            continue
        for p in sorted(e.fields & applied_set):
            if p[-1] != "." and value_at(base, p) != value_at(applied, p):
                conflicts.append((e.manager, e.api_version, p))
    # the migration from client-side apply (kube-apiserver's last-applied manager): what the
    # last-applied-configuration annotation lists was this applier's, as far as the
    # client-side apply manager is concerned, so those conflicts are taken over silently
    last = ((base.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if conflicts and last:
        try:
            last_set = field_set(json.loads(last), kind, schema)
        except ValueError:
            last_set = set()
        taken = {p for m, _, p in conflicts if m == CSA_MANAGER and p in last_set}
        for e in es:
            if e.manager == CSA_MANAGER:
                e.fields -= taken
        conflicts = [c for c in conflicts if not (c[0] == CSA_MANAGER and c[2] in taken)]
    if conflicts and not force:
        raise ApplyConflict(conflicts)
    previous = next((e.fields for e in es if e.manager == manager and e.operation == "Apply"), set())
    spec_part = {k: v for k, v in applied.items() if k not in ("status", "apiVersion", "kind")}
    meta_applied = {k: v for k, v in (applied.get("metadata") or {}).items() if k not in SERVER_META}
    merged: Obj = _merge({k: v for k, v in base.items()}, {**spec_part, "metadata": meta_applied}, _root(kind, schema))
    merged["metadata"] = {**(base.get("metadata") or {}), **_merge(base.get("metadata") or {}, meta_applied,
                                                                    "ObjectMeta")}
    if live is None:   # a create: the applied object's own name and namespace
        for k in ("name", "namespace", "generateName"):
            if (applied.get("metadata") or {}).get(k):
                merged["metadata"][k] = applied["metadata"][k]
    others = set().union(*(e.fields for e in es if not (e.manager == manager and e.operation == "Apply"))) \
        if es else set()
    for p in sorted(previous - applied_set - others, key=len, reverse=True):
        remove_path(merged, p)
    if force:
        for e in es:
            e.fields -= applied_set
    set_entries(merged, _own(es, manager, "Apply", api_version, "", now, applied_set))
    return merged
