"""api.selectors: label selector syntax, LabelSelector models, field selectors."""
from __future__ import annotations

import pytest

from api.models import LabelSelector
from api.selectors import (
    EVERYTHING,
    NOTHING,
    field_matches,
    field_value,
    parse_field_selector,
    parse_label_selector,
    selector_from_model,
    selector_from_set,
)

LABELS = {"app": "web", "tier": "fe", "env": "prod", "n": "3"}


@pytest.mark.parametrize(("text", "expected"), [
    ("app=web", True),
    ("app==web", True),
    ("app=api", False),
    ("app!=api", True),
    ("missing!=x", True),
    ("env in (prod,staging)", True),
    ("env in (dev)", False),
    ("env notin (dev, qa)", True),
    ("env notin (prod)", False),
    ("absent notin (x)", True),
    ("tier", True),
    ("!tier", False),
    ("!absent", True),
    ("absent", False),
    ("n>2", True),
    ("n<3", False),
    ("app=web,tier=fe,!legacy", True),
    ("app=web,tier=be", False),
    ("  app = web , tier ", True),
    ("", True),
    ("example.com/role=x", False),
])
def test_parse_and_match(text: str, expected: bool) -> None:
    assert parse_label_selector(text).matches(LABELS) is expected


def test_string_form_is_canonical_and_round_trips() -> None:
    sel = parse_label_selector("tier in (b,a), app=web,!old, env , x!=y,n>1")
    assert str(sel) == "app=web,env,n>1,!old,tier in (a,b),x!=y"
    assert parse_label_selector(str(sel)) == sel
    assert str(parse_label_selector("a==b")) == "a==b"


def test_empty_and_nothing() -> None:
    assert parse_label_selector("").empty
    assert parse_label_selector(None).empty
    assert EVERYTHING.matches({}) and EVERYTHING.matches(None)
    assert not NOTHING.empty and not NOTHING.matches({"a": "b"})
    assert not parse_label_selector("a").empty


@pytest.mark.parametrize(("text", "fragment"), [
    ("a=b,", "found 'end of string', expected: identifier"),
    ("a in b", "expected: '('"),
    ("a in (b", "expected: ',' or ')'"),
    ("a in ()", "values set can't be empty"),
    ("a b", "found 'b', expected: '=', '!=', '=='"),
    ("=b", "expected: identifier"),
    ("a=b=c", "expected: ',' or 'end of string'"),
    ("bad key!=x", "expected"),
    ("Bad_Key_=x", "invalid label key"),
    ("a=has space", "expected: ',' or 'end of string'"),
    ("a=-bad-", "invalid label value"),
    ("n>x", "integer"),
    ("!a=b", "expected: ',' or 'end of string'"),
])
def test_parse_errors_are_clear(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=None) as exc:
        parse_label_selector(text)
    assert fragment in str(exc.value)


def test_empty_value_and_empty_set_member_are_allowed() -> None:
    assert parse_label_selector("a=").matches({"a": ""})
    assert parse_label_selector("a in (x,)").matches({"a": ""})


def test_selector_from_model_and_dict() -> None:
    model = LabelSelector.model_validate({
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "qa"]},
                             {"key": "legacy", "operator": "DoesNotExist"},
                             {"key": "tier", "operator": "Exists"},
                             {"key": "zone", "operator": "NotIn", "values": ["z1"]}]})
    sel = selector_from_model(model)
    assert sel.matches(LABELS)
    assert str(sel) == "app=web,env in (prod,qa),!legacy,tier,zone notin (z1)"
    assert selector_from_model(model.to_dict()) == sel
    assert not sel.matches({**LABELS, "legacy": "1"})


def test_selector_from_model_none_and_empty() -> None:
    assert not selector_from_model(None).matches({})
    assert selector_from_model({}).empty
    assert selector_from_model(LabelSelector()).matches({"any": "thing"})


@pytest.mark.parametrize(("expr", "fragment"), [
    ({"key": "a", "operator": "Equals", "values": ["x"]}, '"Equals" is not a valid label selector'),
    ({"key": "a", "operator": "In", "values": []}, "can't be empty"),
    ({"key": "a", "operator": "Exists", "values": ["x"]}, "must be empty"),
])
def test_selector_from_model_errors(expr: dict, fragment: str) -> None:
    with pytest.raises(ValueError) as exc:
        selector_from_model({"matchExpressions": [expr]})
    assert fragment in str(exc.value)


def test_selector_from_set() -> None:
    sel = selector_from_set({"b": "2", "a": "1"})
    assert str(sel) == "a=1,b=2"
    assert sel.matches({"a": "1", "b": "2", "c": "3"}) and not sel.matches({"a": "1"})
    assert selector_from_set(None).empty


def test_parse_field_selector() -> None:
    assert parse_field_selector("metadata.name=x,spec.nodeName!=y,status.phase==Running") == [
        ("metadata.name", "=", "x"), ("spec.nodeName", "!=", "y"), ("status.phase", "=", "Running")]
    assert parse_field_selector("") == [] and parse_field_selector(None) == []
    assert parse_field_selector("spec.nodeName=") == [("spec.nodeName", "=", "")]
    assert parse_field_selector(r"metadata.name=a\,b") == [("metadata.name", "=", "a,b")]


@pytest.mark.parametrize("text", ["metadata.name", "=x", "a=b,c", r"a=b\q"])
def test_field_selector_errors(text: str) -> None:
    with pytest.raises(ValueError, match="invalid field selector"):
        parse_field_selector(text)


def test_field_matches_resolves_dotted_paths() -> None:
    pod = {"metadata": {"name": "p1", "namespace": "default"},
           "spec": {"nodeName": "n1", "hostNetwork": False}, "status": {"phase": "Running"}}
    assert field_matches(pod, parse_field_selector("metadata.name=p1,status.phase=Running"))
    assert not field_matches(pod, parse_field_selector("spec.nodeName!=n1"))
    assert field_matches(pod, parse_field_selector("spec.hostNetwork=false"))
    unscheduled = {"metadata": {"name": "p2"}, "spec": {}}
    assert field_matches(unscheduled, parse_field_selector("spec.nodeName="))
    assert not field_matches(pod, parse_field_selector("spec.nodeName="))
    assert field_value(pod, "status.missing.deep") == ""
    assert field_matches(pod, [])
