"""What `kubectl explain` prints for an OpenAPI v3 document: its `plaintext` template,
followed step by step, so pykubectl's output is kubectl's byte for byte.

The template (kubectl's explain/v2/templates/plaintext.tmpl) finds the kind through the
resource's paths (`x-kubernetes-group-version-kind` of the first operation), the schema
through `components.schemas`, walks the field path (through `$ref`, `items`,
`additionalProperties` and `allOf`), and prints DESCRIPTION (word-wrapped at 76 columns as
go-wordwrap wraps) and FIELDS (`name<TAB><type>` with `-required-`, enums, and each field's
description, or the nested fields with `--recursive`). All pure.
"""
from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


class ExplainError(Exception):
    """The template's `throw`: the message kubectl prints after `error: `, and what the
    template had printed before it (kubectl shows both)."""

    def __init__(self, message: str, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial


# ---------------------------------------------------------------- text helpers
def wrap(text: str, limit: int) -> str:
    """kubectl's `wrap`: go-wordwrap's WrapString (line breaks kept, words never split)."""
    out: list[str] = []
    current = 0
    word: list[str] = []
    space: list[str] = []
    for ch in text:
        if ch == "\n":
            if not word:
                if current + len(space) <= limit:
                    out += space
            else:
                out += space + word
            space, word = [], []
            out.append(ch)
            current = 0
        elif ch.isspace() and ch != "\xa0":
            if not space or word:
                current += len(space) + len(word)
                out += space + word
                space, word = [], []
            space.append(ch)
        else:
            word.append(ch)
            if current + len(word) + len(space) > limit and len(word) < limit:
                out.append("\n")
                current = 0
                space = []
    if not word:
        if current + len(space) <= limit:
            out += space
    else:
        out += space + word
    return "".join(out)


def indent(amount: int, text: str) -> str:
    pad = " " * amount
    return pad + text.replace("\n", "\n" + pad)


def _resolve(ref: Any, doc: Obj) -> Obj | None:
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return None
    cur: Any = doc
    for part in ref[2:].split("/"):
        if not part:
            continue
        if not isinstance(cur, dict) or not isinstance(cur.get(part), dict):
            return None
        cur = cur[part]
    return cur if cur else None


def _map_value(schema: Obj) -> Obj | None:
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) and extra else None


# ---------------------------------------------------------------- template parts
def type_guess(schema: Obj, doc: Obj) -> str:
    if schema.get("items"):
        return "[]" + type_guess(schema["items"], doc)
    if _map_value(schema):
        return "map[string]" + type_guess(schema["additionalProperties"], doc)
    if schema.get("allOf") and not schema.get("properties") and len(schema["allOf"]) == 1:
        return type_guess(schema["allOf"][0], doc)
    if schema.get("$ref"):
        target = _resolve(schema["$ref"], doc)
        if not target or not target.get("type") or target.get("type") == "object":
            return schema["$ref"].split("/")[-1].split(".")[-1] or "Object"
        return str(target["type"])
    if schema.get("type") == "object":
        return "Object"
    return str(schema.get("type") or "Object")


def _enum_text(value: Any) -> str:
    if value == "":
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def extract_enum(schema: Obj, long_view: bool, limit: int = -1, indent_amount: int = 0) -> str:
    values = schema.get("enum")
    if not values:
        return ""
    out = "ENUM:" if long_view else "\n" + " " * indent_amount + "enum: "
    for i, v in enumerate(values):
        if limit > -1 and i >= limit:
            out += ", ...."
            break
        if i > 0 and not long_view:
            out += ", "
        elif long_view:
            out += "\n    "
        out += _enum_text(v)
    return out


def description(schema: Obj, doc: Obj) -> str:
    s = _resolve(schema.get("$ref"), doc) or schema
    out = (s["description"] + "\n") if s.get("description") else ""
    for sub in s.get("allOf") or []:
        out += description(sub, doc)
    if s.get("items"):
        out += description(s["items"], doc)
    if _map_value(s):
        out += description(s["additionalProperties"], doc)
    return out


def field_detail(name: str, schema: Obj, short: bool, level: int, doc: Obj) -> str:
    amount = level * 2
    field = schema["properties"][name]
    out = indent(amount, name) + f"\t<{type_guess(field, doc)}>"
    if name in (schema.get("required") or []):
        out += " -required-"
    out += extract_enum(field, False, 4, amount) + "\n"
    if not short:
        out += indent(amount + 2, wrap(field.get("description") or "<no description>", 78 - amount)) + "\n"
        docs = field.get("externalDocs") or {}
        if docs:
            out += "\n" + indent(amount + 2, "EXTERNAL DOCS:") + "\n"
            if docs.get("description"):
                out += indent(amount + 4, wrap(docs["description"], 76 - amount)) + "\n"
            if docs.get("url"):
                out += indent(amount + 4, "URL: " + docs["url"]) + "\n"
        out += "\n"
    return out


def field_list(schema: Obj, level: int, history: frozenset[str], recursive: bool, max_depth: int,
               doc: Obj) -> str:
    ref = schema.get("$ref") or ""
    if ref and ref in history:
        return ""
    history = history | {ref}
    resolved = _resolve(ref, doc) or schema
    out = ""
    for name, sub in sorted((resolved.get("properties") or {}).items()):
        out += field_detail(name, resolved, recursive, level, doc)
        if recursive and (max_depth == 0 or level < max_depth):
            out += field_list(sub, level + 1, history, recursive, max_depth, doc)
    for sub in resolved.get("allOf") or []:
        out += field_list(sub, level, history, recursive, max_depth, doc)
    if resolved.get("items"):
        out += field_list(resolved["items"], level, history, recursive, max_depth, doc)
    if _map_value(resolved):
        out += field_list(resolved["additionalProperties"], level, history, recursive, max_depth, doc)
    return out


def output(schema: Obj, history: frozenset[str], path: list[str], recursive: bool, max_depth: int,
           doc: Obj) -> str:
    ref = schema.get("$ref") or ""
    following = history | {ref}
    resolved = _resolve(ref, doc) or schema
    if not path:
        out = "DESCRIPTION:\n" + indent(4, wrap(description(resolved, doc) or "<empty>", 76)) + "\n"
        docs = resolved.get("externalDocs") or {}
        if docs:
            out += "\nEXTERNAL DOCS:\n"
            if docs.get("description"):
                out += indent(4, wrap(docs["description"], 76)) + "\n"
            if docs.get("url"):
                out += indent(4, "URL: " + docs["url"]) + "\n"
        fields = field_list(resolved, 1, frozenset(), recursive, max_depth, doc)
        if fields:
            out += "FIELDS:\n" + fields
        return out
    if ref and ref in history:
        return ""
    props = resolved.get("properties") or {}
    if props.get(path[0]):
        sub = props[path[0]]
        out = ""
        if len(path) == 1:
            out = f"FIELD: {path[0]} <{type_guess(sub, doc)}>\n" + extract_enum(sub, True) + "\n\n"
        return out + output(sub, frozenset(), path[1:], recursive, max_depth, doc)
    if resolved.get("items"):
        return output(resolved["items"], following, path, recursive, max_depth, doc)
    if _map_value(resolved):
        return output(resolved["additionalProperties"], following, path, recursive, max_depth, doc)
    for sub in resolved.get("allOf") or []:
        text = output(sub, following, path, recursive, max_depth, doc)
        if text:
            return text
    return ""


# ---------------------------------------------------------------- the whole page
def find_gvk(doc: Obj, group: str, version: str, plural: str) -> Obj | None:
    prefix = f"/apis/{group}" if group else "/api"
    for path in (f"{prefix}/{version}/{plural}", f"{prefix}/{version}/{plural}/{{name}}",
                 f"{prefix}/{version}/namespaces/{{namespace}}/{plural}",
                 f"{prefix}/{version}/namespaces/{{namespace}}/{plural}/{{name}}"):
        item = (doc.get("paths") or {}).get(path) or {}
        for method in ("get", "post", "put", "patch", "delete"):
            gvk = (item.get(method) or {}).get("x-kubernetes-group-version-kind")
            if gvk:
                return dict(gvk)
    return None


def render(doc: Obj, group: str, version: str, plural: str, path: list[str], recursive: bool = False,
           max_depth: int = 0) -> str:
    """kubectl explain's page for a resource (GVR) and field path. Raises ExplainError."""
    gvk = find_gvk(doc, group, version, plural)
    if gvk is None:
        gvr = f"{group}/{version}, Resource={plural}" if group else f"/{version}, Resource={plural}"
        raise ExplainError(f"GVR ({gvr}) not found in OpenAPI schema")
    head = (f"GROUP:      {gvk['group']}\n" if gvk.get("group") else "") + \
        f"KIND:       {gvk['kind']}\nVERSION:    {gvk['version']}\n\n"
    for _, schema in sorted(((doc.get("components") or {}).get("schemas") or {}).items()):
        if gvk in (schema.get("x-kubernetes-group-version-kind") or []):
            body = output(schema, frozenset(), path, recursive, max_depth, doc)
            if not body:
                raise ExplainError(f'field "{path[-1]}" does not exist', head)
            return head + body + "\n"
    raise ExplainError(f"GVK {gvk} not found in OpenAPI schema", head)


__all__ = ["ExplainError", "extract_enum", "field_list", "find_gvk", "indent", "output", "render",
           "type_guess", "wrap"]
