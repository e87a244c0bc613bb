"""Reading manifests for `-f`: files, directories (`-R`), stdin, multi-document YAML,
JSON, and `List` kinds.

Owns the rule that a bad input applies nothing: every file is read and every document
parsed before any command acts, and an error names the file and the document
(`error parsing FILE: ... (document 2)`). Directories contribute their `.json`, `.yaml`
and `.yml` files in name order (subdirectories only with `-R`). A `List` (or `FooList`)
document contributes its items. Pure apart from reading the files.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

EXTENSIONS = (".json", ".yaml", ".yml")
_SEPARATOR = re.compile(r"^---\s*(#.*)?$")


class ManifestError(Exception):
    """A file could not be read or parsed; the message follows `error: `."""


@dataclass
class Manifest:
    obj: dict[str, Any]
    source: str          # the path as the user gave it (or found under a directory), "STDIN"
    document: int        # 1-based document number in that source

    @property
    def name(self) -> str:
        return str((self.obj.get("metadata") or {}).get("name") or "")

    @property
    def namespace(self) -> str:
        return str((self.obj.get("metadata") or {}).get("namespace") or "")


def expand_paths(filenames: list[str], recursive: bool) -> list[str]:
    """Paths to read, in order; directories expanded. `-` stays `-` (stdin)."""
    out: list[str] = []
    for name in filenames:
        if name == "-":
            out.append(name)
            continue
        if name.startswith(("http://", "https://")):
            raise ManifestError(f'the URL "{name}" cannot be read: pykubectl reads local files only')
        p = Path(name)
        if not p.exists():
            raise ManifestError(f'the path "{name}" does not exist')
        if p.is_dir():
            out.extend(_walk(p, recursive))
        else:
            out.append(name)
    return out


def _walk(root: Path, recursive: bool) -> list[str]:
    found: list[str] = []
    for entry in sorted(os.listdir(root)):
        p = root / entry
        if p.is_dir():
            if recursive:
                found.extend(_walk(p, recursive))
        elif p.suffix in EXTENSIONS:
            found.append(str(p))
    return found


def load(filenames: list[str], recursive: bool = False, stdin: IO[str] | None = None) -> list[Manifest]:
    """Every object in the given files, or ManifestError for the first bad one."""
    if not filenames:
        raise ManifestError("must specify one of -f and -k")
    out: list[Manifest] = []
    for path in expand_paths(filenames, recursive):
        if path == "-":
            import sys
            text = (stdin or sys.stdin).read()
            source = "STDIN"
        else:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                raise ManifestError(f"error reading {path}: {e}") from None
            source = path
        out.extend(parse_documents(text, source))
    return out


def parse_documents(text: str, source: str) -> list[Manifest]:
    """All objects in one file's text (YAML stream or JSON)."""
    docs = _json_documents(text, source) if text.lstrip().startswith(("{", "[")) else \
        _yaml_documents(text, source)
    out: list[Manifest] = []
    for index, doc in docs:
        out.extend(_objects(doc, source, index))
    return out


def _json_documents(text: str, source: str) -> list[tuple[int, Any]]:
    decoder = json.JSONDecoder()
    docs: list[tuple[int, Any]] = []
    pos, index = 0, 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return docs
        index += 1
        try:
            doc, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise ManifestError(f"error parsing {source}: invalid JSON: {e.msg} at line {e.lineno} "
                                f"column {e.colno} (document {index})") from None
        docs.append((index, doc))


def _yaml_documents(text: str, source: str) -> list[tuple[int, Any]]:
    import yaml
    chunks: list[tuple[int, str]] = []      # (first line number, text)
    start, cur = 1, []
    for lineno, line in enumerate(text.splitlines(keepends=True), 1):
        if _SEPARATOR.match(line.rstrip("\r\n")):
            chunks.append((start, "".join(cur)))
            start, cur = lineno + 1, []
        else:
            cur.append(line)
    chunks.append((start, "".join(cur)))
    docs: list[tuple[int, Any]] = []
    index = 0
    for first_line, chunk in chunks:
        if not _has_content(chunk):
            continue
        index += 1
        try:
            doc = yaml.safe_load(chunk)
        except yaml.YAMLError as e:
            raise ManifestError(f"error parsing {source}: {_yaml_message(e, first_line)} "
                                f"(document {index})") from None
        if doc is None:
            continue
        docs.append((index, doc))
    return docs


def _has_content(chunk: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in chunk.splitlines())


def _yaml_message(e: Exception, first_line: int) -> str:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    problem = getattr(e, "problem", None) or str(e)
    if mark is not None:
        return f"error converting YAML to JSON: yaml: line {mark.line + first_line}: {problem}"
    return f"error converting YAML to JSON: yaml: {problem}"


def _objects(doc: Any, source: str, index: int) -> list[Manifest]:
    if not isinstance(doc, dict):
        raise ManifestError(f"error parsing {source}: the document is not an object "
                            f"(got {type(doc).__name__}) (document {index})")
    missing = [f for f in ("apiVersion", "kind") if not doc.get(f)]
    if missing:
        what = ", ".join(f"{m} not set" for m in missing)
        if len(missing) > 1:
            what = f"[{what}]"
        raise ManifestError(f'error validating "{source}": error validating data: {what} '
                            f"(document {index})")
    kind = str(doc["kind"])
    if kind.endswith("List") and isinstance(doc.get("items"), list):
        out: list[Manifest] = []
        for item in doc["items"]:
            out.extend(_objects(item, source, index))
        return out
    meta = doc.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        raise ManifestError(f"error parsing {source}: metadata must be an object (document {index})")
    return [Manifest(doc, source, index)]
