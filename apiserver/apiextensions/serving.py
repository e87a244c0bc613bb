"""What an established CRD serves (pure): its resource-table rows and their strategies.

`served(crd)` gives one `ResourceInfo` per served version (the highest-priority version
first, as discovery prefers it), named by the CRD's accepted names, with the `status` and
`scale` subresources the version declares and the storage version recorded when there are
several versions; each row comes with its `CustomResourceStrategy`.
"""
from __future__ import annotations

from typing import Any

from api.resources import ALL_VERBS, ResourceInfo
from apiserver.apiextensions import naming
from apiserver.apiextensions.cr_strategy import CustomResourceStrategy
from apiserver.apiextensions.crd_strategy import storage_version
from apiserver.discovery import version_priority

Obj = dict[str, Any]


def served(crd: Obj) -> list[tuple[ResourceInfo, CustomResourceStrategy]]:
    names = naming.served_names(crd)
    if names is None:
        return []
    spec = crd.get("spec") or {}
    versions = [v for v in spec.get("versions") or [] if v.get("served")]
    if not versions:
        return []
    versions.sort(key=lambda v: version_priority(str(v.get("name"))))
    all_versions = spec.get("versions") or []
    stored = storage_version(crd) if len(all_versions) > 1 else ""
    terminating = bool((crd.get("metadata") or {}).get("deletionTimestamp"))
    out = []
    for v in versions:
        subs = v.get("subresources") or {}
        sub_names = tuple(s for s in ("status", "scale") if subs.get(s) is not None)
        kind = names["kind"]
        info = ResourceInfo(
            group=spec.get("group", ""), version=str(v["name"]), kind=kind,
            plural=names["plural"], namespaced=spec.get("scope") == "Namespaced",
            short_names=tuple(names.get("shortNames") or ()), subresources=sub_names,
            categories=tuple(names.get("categories") or ()), verbs=ALL_VERBS,
            list_kind=names.get("listKind") or f"{kind}List", storage_version=stored or "")
        out.append((info, CustomResourceStrategy(info, v, terminating)))
    return out
