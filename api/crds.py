"""The resources a CustomResourceDefinition defines (pure), for the apiserver that serves
them and the controllers that watch them.

`served_rows(crd, names)` gives one `ResourceInfo` per served version, the highest
priority first (the version discovery prefers), named by `names` (the CRD's accepted
names), with the `status` and `scale` subresources each version declares and, when the kind
has several versions, the storage version. `accepted_rows(crd)` does it with the names in
the CRD's status, for clients that see only established CRDs.
"""
from __future__ import annotations

from typing import Any

from api.resources import ALL_VERBS, ResourceInfo, version_priority

Obj = dict[str, Any]


def storage_version(crd: Obj) -> str | None:
    for v in (crd.get("spec") or {}).get("versions") or []:
        if v.get("storage"):
            return str(v.get("name"))
    return None


def served_versions(crd: Obj) -> list[Obj]:
    """The served versions, highest priority first."""
    versions = [v for v in (crd.get("spec") or {}).get("versions") or [] if v.get("served")]
    return sorted(versions, key=lambda v: version_priority(str(v.get("name"))))


def served_rows(crd: Obj, names: Obj) -> list[ResourceInfo]:
    if not names.get("plural") or not names.get("kind"):
        return []
    spec = crd.get("spec") or {}
    several = len(spec.get("versions") or []) > 1
    stored = (storage_version(crd) or "") if several else ""
    kind = names["kind"]
    rows = []
    for v in served_versions(crd):
        subs = v.get("subresources") or {}
        rows.append(ResourceInfo(
            group=spec.get("group", ""), version=str(v["name"]), kind=kind,
            plural=names["plural"], namespaced=spec.get("scope") == "Namespaced",
            short_names=tuple(names.get("shortNames") or ()),
            subresources=tuple(s for s in ("status", "scale") if subs.get(s) is not None),
            categories=tuple(names.get("categories") or ()), verbs=ALL_VERBS,
            list_kind=names.get("listKind") or f"{kind}List", storage_version=stored,
            singular_name=names.get("singular") or ""))
    return rows


def is_established(crd: Obj) -> bool:
    return any(c.get("type") == "Established" and c.get("status") == "True"
               for c in (crd.get("status") or {}).get("conditions") or [])


def accepted_rows(crd: Obj) -> list[ResourceInfo]:
    """The rows an established CRD is served at (none before it is established)."""
    if not is_established(crd):
        return []
    return served_rows(crd, (crd.get("status") or {}).get("acceptedNames") or {})
