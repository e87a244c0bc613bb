"""Reading -f inputs: files, directories (-R), stdin, multi-document YAML, JSON, List
kinds, and errors that name the file and the document (nothing loads if one fails)."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from kubectl.manifests import ManifestError, load, parse_documents

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n"


def write(p: Path, text: str) -> str:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return str(p)


def test_multi_document_yaml_skips_empty_documents() -> None:
    text = "---\n" + CM.format("a") + "---\n# only a comment\n---\n" + CM.format("b") + "...\n" * 0
    got = parse_documents(text, "f.yaml")
    assert [m.name for m in got] == ["a", "b"]
    assert [m.document for m in got] == [1, 2]
    assert all(m.source == "f.yaml" for m in got)


def test_json_and_concatenated_json() -> None:
    text = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}\n' \
           '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}'
    assert [m.name for m in parse_documents(text, "f.json")] == ["a", "b"]


def test_list_kinds_expand_to_items() -> None:
    text = ("apiVersion: v1\nkind: List\nitems:\n"
            "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
            "- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n")
    got = parse_documents(text, "l.yaml")
    assert [(m.obj["kind"], m.name, m.document) for m in got] == [("ConfigMap", "a", 1), ("Secret", "b", 1)]


def test_parse_error_names_file_line_and_document() -> None:
    text = CM.format("a") + "---\n" + "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: [\n  name: x\n"
    with pytest.raises(ManifestError) as e:
        parse_documents(text, "bad.yaml")
    msg = str(e.value)
    assert msg.startswith("error parsing bad.yaml: error converting YAML to JSON: yaml: line ")
    assert msg.endswith("(document 2)")


def test_missing_kind_is_a_validation_error() -> None:
    with pytest.raises(ManifestError) as e:
        parse_documents(CM.format("a") + "---\napiVersion: v1\nmetadata: {name: x}\n", "f.yaml")
    assert str(e.value) == 'error validating "f.yaml": error validating data: kind not set (document 2)'


def test_scalar_document_is_rejected() -> None:
    with pytest.raises(ManifestError) as e:
        parse_documents("just a string\n", "f.yaml")
    assert "(document 1)" in str(e.value)


def test_directory_without_and_with_recursion(tmp_path: Path) -> None:
    write(tmp_path / "b.yaml", CM.format("b"))
    write(tmp_path / "a.json", '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}')
    write(tmp_path / "notes.txt", "not a manifest")
    write(tmp_path / "sub" / "c.yml", CM.format("c"))
    assert [m.name for m in load([str(tmp_path)])] == ["a", "b"]
    assert [m.name for m in load([str(tmp_path)], recursive=True)] == ["a", "b", "c"]


def test_stdin() -> None:
    got = load(["-"], stdin=io.StringIO(CM.format("from-stdin")))
    assert [(m.name, m.source) for m in got] == [("from-stdin", "STDIN")]


def test_missing_path() -> None:
    with pytest.raises(ManifestError) as e:
        load(["nope.yaml"])
    assert str(e.value) == 'the path "nope.yaml" does not exist'


def test_a_bad_second_file_loads_nothing(tmp_path: Path) -> None:
    good = write(tmp_path / "good.yaml", CM.format("a"))
    bad = write(tmp_path / "bad.yaml", "kind: [\n")
    with pytest.raises(ManifestError) as e:
        load([good, bad])
    assert str(e.value).startswith(f"error parsing {bad}: ")
