"""Regenerate descriptions.json: Kubernetes' own descriptions of the types and fields pykube
publishes, taken from the official Python client's generated models (a test dependency).

Run after adding models or fields: `python -m apiserver.openapi.gen_descriptions`. Only the
definitions and fields the documents hold are written; a type the client does not have
(pykube's own helper types) keeps no description. The apiserver never imports this module.
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("descriptions.json")
META = "io.k8s.apimachinery.pkg.apis.meta.v1"
#: definitions written by hand (common.py) and the client class describing each
EXTRA = {f"{META}.{n}": n for n in ("ListMeta", "Status", "StatusDetails", "StatusCause", "DeleteOptions",
                                     "Preconditions", "ManagedFieldsEntry", "WatchEvent", "Patch", "FieldsV1")}


def _client_class(definition: str) -> Any:
    from kubernetes.client import models
    package, name = definition.rsplit(".", 1)
    version = package.rsplit(".", 1)[-1]
    return getattr(models, version[:1].upper() + version[1:] + name, None)


def _class_text(cls: Any) -> str | None:
    doc = inspect.cleandoc(cls.__doc__ or "")
    text = doc.split("\nAttributes:")[0].strip()
    if not text or "auto generated" in text.lower() or text.startswith("NOTE:"):
        return None
    return " ".join(text.split()) if "\n\n" not in text else text


def _field_texts(cls: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    wire_names = getattr(cls, "attribute_map", {}) or {}
    for attr, info in getattr(cls, "model_fields", {}).items():
        wire = info.serialization_alias or wire_names.get(attr) or info.alias or attr
        if info.description:
            out[wire] = info.description
    return out


def collect() -> dict[str, dict[str, str]]:
    from apiserver.openapi import documents
    wanted: dict[str, set[str]] = {}
    for g, v in documents.group_versions():
        doc = documents.build_v3([r for r in documents.all_resources() if (r.group, r.version) == (g, v)])
        for name, schema in doc["components"]["schemas"].items():
            wanted.setdefault(name, set()).update((schema.get("properties") or {}).keys())
    for name in EXTRA:
        wanted.setdefault(name, set())
    out: dict[str, dict[str, str]] = {}
    for name, fields in sorted(wanted.items()):
        cls = _client_class(name)
        if cls is None:
            continue
        entry: dict[str, str] = {}
        text = _class_text(cls)
        if text:
            entry[""] = text
        texts = _field_texts(cls)
        for f in sorted(fields or texts):
            if f in texts:
                entry[f] = texts[f]
        if entry:
            out[name] = entry
    deployment = _field_texts(_client_class("io.k8s.api.apps.v1.Deployment"))
    out[f"{META}.TypeMeta"] = {
        **{k: deployment[k] for k in ("apiVersion", "kind") if k in deployment},
        "metadata": "Standard object's metadata. More info: "
                    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
        "listMeta": "Standard list metadata. More info: "
                    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"}
    return out


def main() -> None:
    OUT.write_text(json.dumps(collect(), indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
