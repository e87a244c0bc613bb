"""What an established CRD serves: its resource-table rows (api/crds.py) and a
`CustomResourceStrategy` for each, built from the version it serves.
"""
from __future__ import annotations

from typing import Any

from api.crds import served_rows
from api.resources import ResourceInfo
from apiserver.apiextensions import naming
from apiserver.apiextensions.cr_strategy import CustomResourceStrategy

Obj = dict[str, Any]


def served(crd: Obj) -> list[tuple[ResourceInfo, CustomResourceStrategy]]:
    names = naming.served_names(crd)
    if names is None:
        return []
    versions = {str(v.get("name")): v for v in (crd.get("spec") or {}).get("versions") or []}
    terminating = bool((crd.get("metadata") or {}).get("deletionTimestamp"))
    return [(row, CustomResourceStrategy(row, versions[row.version], terminating))
            for row in served_rows(crd, names)]
