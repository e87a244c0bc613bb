"""Label and field selectors: parsing, matching and printing, with Kubernetes' syntax.

Label selectors: `a=b,a==b,c!=d,e in (x,y),f notin (z),g,!h,n>1,n<5`, or a LabelSelector
(`matchLabels` + `matchExpressions` with In/NotIn/Exists/DoesNotExist). A `Selector` is a
set of requirements ANDed together; the empty selector matches everything, the selector
built from a missing LabelSelector (`None`) matches nothing. `str(selector)` gives the
canonical string form (requirements sorted by key), which parses back to the same selector.

Field selectors: `metadata.name=x,spec.nodeName!=y` parse to `(field, op, value)` triples
with op `=` or `!=`; `field_matches` resolves dotted paths in a wire dict (a missing field
is the empty string, so `spec.nodeName=` selects unscheduled pods).

Bad syntax raises ValueError with a readable message; the apiserver turns it into a 400.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from api.names import is_qualified_name, is_valid_label_value

IN, NOT_IN, EXISTS, DOES_NOT_EXIST = "in", "notin", "exists", "!"
EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GT, LT = "=", "==", "!=", "gt", "lt"
_SET_OPS = (IN, NOT_IN)
_OPERATOR_NAMES = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


@dataclass(frozen=True)
class Requirement:
    """One term of a label selector: `key op values`."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return self.key in labels and labels[self.key] in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return self.key not in labels or labels[self.key] not in self.values
        if op == EXISTS:
            return self.key in labels
        if op == DOES_NOT_EXIST:
            return self.key not in labels
        if op in (GT, LT):
            if self.key not in labels:
                return False
            try:
                have, want = int(labels[self.key]), int(self.values[0])
            except ValueError:
                return False
            return have > want if op == GT else have < want
        return False

    def __str__(self) -> str:
        op = self.operator
        if op == EXISTS:
            return self.key
        if op == DOES_NOT_EXIST:
            return f"!{self.key}"
        if op in _SET_OPS:
            return f"{self.key} {op} ({','.join(self.values)})"
        symbol = {GT: ">", LT: "<"}.get(op, op)
        return f"{self.key}{symbol}{self.values[0]}"


@dataclass(frozen=True)
class Selector:
    """A set of requirements, all of which must match. `nothing` matches no labels at all."""

    requirements: tuple[Requirement, ...] = ()
    nothing: bool = field(default=False)

    @property
    def empty(self) -> bool:
        """True when the selector selects everything."""
        return not self.requirements and not self.nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.nothing:
            return False
        have = labels or {}
        return all(r.matches(have) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


EVERYTHING = Selector()
NOTHING = Selector(nothing=True)


def _new_requirement(key: str, op: str, values: Iterable[str]) -> Requirement:
    """Validate and build a requirement (values of set ops are sorted and deduplicated)."""
    errs = is_qualified_name(key)
    if errs:
        raise ValueError(f'invalid label key "{key}": {"; ".join(errs)}')
    vals = list(values)
    if op in _SET_OPS:
        if not vals:
            raise ValueError("for 'in', 'notin' operators, values set can't be empty")
    elif op in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(vals) != 1:
            raise ValueError("exact-match compatibility requires one single value")
    elif op in (EXISTS, DOES_NOT_EXIST):
        if vals:
            raise ValueError("values set must be empty for exists and does not exist")
    elif op in (GT, LT):
        if len(vals) != 1 or not re.fullmatch(r"-?\d+", vals[0]):
            raise ValueError(f"for 'Gt', 'Lt' operators, exactly one integer value is required, "
                             f"got {vals}")
    else:
        raise ValueError(f'"{op}" is not a valid label selector operator')
    if op not in (GT, LT):
        for v in vals:
            errs = is_valid_label_value(v)
            if errs:
                raise ValueError(f'invalid label value: "{v}": at key: "{key}": {"; ".join(errs)}')
    if op in _SET_OPS:
        vals = sorted(set(vals))
    return Requirement(key, op, tuple(vals))


def _build(requirements: Iterable[Requirement]) -> Selector:
    return Selector(tuple(sorted(requirements, key=lambda r: r.key)))


# ---------------------------------------------------------------- string syntax
_TOKEN = re.compile(r"\s*(?:(?P<op>==|=|!=|\(|\)|,|!|>|<)|(?P<word>[^\s=!(),<>]+))")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:  # pragma: no cover - every char is either a word or an operator
            raise ValueError(f"unable to parse label selector {text!r} at position {pos}")
        out.append(m.group("op") or m.group("word"))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> str | None:
        tok = self.peek()
        self.i += 1
        return tok

    def fail(self, found: str | None, expected: str) -> ValueError:
        shown = "end of string" if found is None else found
        return ValueError(f"unable to parse requirement: found '{shown}', expected: {expected}"
                          f" (in label selector {self.text!r})")

    def identifier(self, what: str = "identifier") -> str:
        tok = self.take()
        if tok is None or tok in ("=", "==", "!=", "(", ")", ",", "!", ">", "<"):
            raise self.fail(tok, what)
        return tok

    def requirement(self) -> Requirement:
        if self.peek() == "!":
            self.take()
            key = self.identifier()
            return _new_requirement(key, DOES_NOT_EXIST, ())
        key = self.identifier()
        nxt = self.peek()
        if nxt is None or nxt == ",":
            return _new_requirement(key, EXISTS, ())
        op = self.take()
        if op in ("=", "==", "!="):
            value = self.peek()
            if value is None or value == ",":
                return _new_requirement(key, op, ("",))
            return _new_requirement(key, op, (self.identifier("identifier"),))
        if op in (">", "<"):
            return _new_requirement(key, GT if op == ">" else LT, (self.identifier(),))
        if op in (IN, NOT_IN):
            return _new_requirement(key, op, self.value_set())
        raise self.fail(op, "'=', '!=', '==', 'in', 'notin', '>' or '<'")

    def value_set(self) -> list[str]:
        tok = self.take()
        if tok != "(":
            raise self.fail(tok, "'('")
        values: list[str] = []
        expect_value = True
        while True:
            tok = self.take()
            if tok == ")":
                if expect_value and values:
                    values.append("")
                return values
            if tok == ",":
                if expect_value:
                    values.append("")
                expect_value = True
                continue
            if tok is None or not expect_value or tok in ("=", "==", "!=", "(", "!", ">", "<"):
                raise self.fail(tok, "',' or ')'" if not expect_value else "identifier")
            values.append(tok)
            expect_value = False

    def parse(self) -> Selector:
        reqs: list[Requirement] = []
        if self.peek() is None:
            return EVERYTHING
        while True:
            reqs.append(self.requirement())
            tok = self.take()
            if tok is None:
                return _build(reqs)
            if tok != ",":
                raise self.fail(tok, "',' or 'end of string'")


def parse_label_selector(text: str | None) -> Selector:
    """Parse the string syntax (`app=web,tier in (a,b),!legacy`); "" selects everything."""
    return _Parser(text or "").parse()


def selector_from_set(labels: Mapping[str, str] | None) -> Selector:
    """`key=value` for every pair (a Service's `spec.selector`); empty selects everything."""
    return _build(_new_requirement(k, EQUALS, (v,)) for k, v in (labels or {}).items())


def selector_from_model(selector: Any) -> Selector:
    """A LabelSelector model or dict. `None` selects nothing; `{}` selects everything."""
    if selector is None:
        return NOTHING
    data = selector if isinstance(selector, Mapping) else selector.to_dict()
    reqs = [_new_requirement(k, EQUALS, (v,)) for k, v in (data.get("matchLabels") or {}).items()]
    for expr in data.get("matchExpressions") or []:
        op_name = expr.get("operator", "")
        op = _OPERATOR_NAMES.get(op_name)
        if op is None:
            raise ValueError(f'"{op_name}" is not a valid label selector operator')
        reqs.append(_new_requirement(expr.get("key", ""), op, expr.get("values") or ()))
    return _build(reqs)


# ---------------------------------------------------------------- field selectors
FieldRequirement = tuple[str, str, str]


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, cur, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            if i + 1 >= len(text) or text[i + 1] not in "\\,=":
                raise ValueError(f"invalid field selector: invalid escape sequence in {text!r}")
            out.append(text[i + 1])
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _find_op(term: str) -> tuple[int, str] | None:
    i = 0
    while i < len(term):
        if term[i] == "\\":
            i += 2
            continue
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return i, op
        i += 1
    return None


def parse_field_selector(text: str | None) -> list[FieldRequirement]:
    """`metadata.name=x,spec.nodeName!=y` -> [("metadata.name", "=", "x"), ...]."""
    if not text or not text.strip():
        return []
    reqs: list[FieldRequirement] = []
    for term in _split_unescaped(text, ","):
        found = _find_op(term)
        if found is None:
            raise ValueError(f"invalid field selector: '{term}'; can't understand '{term}'")
        at, op = found
        key, value = term[:at].strip(), term[at + len(op):]
        if not key:
            raise ValueError(f"invalid field selector: '{term}'; field name is empty")
        reqs.append((_unescape(key), "!=" if op == "!=" else "=", _unescape(value)))
    return reqs


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The value at a dotted path as the string a field selector compares ("" when absent)."""
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return ""
        node = node[part]
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def field_matches(obj: Any, requirements: Iterable[FieldRequirement]) -> bool:
    """True when every (field, op, value) holds for the object (a wire dict or a model)."""
    data = obj if isinstance(obj, Mapping) else obj.to_dict()
    for path, op, value in requirements:
        have = field_value(data, path)
        if (have == value) != (op != "!="):
            return False
    return True


__all__ = [
    "EVERYTHING",
    "NOTHING",
    "FieldRequirement",
    "Requirement",
    "Selector",
    "field_matches",
    "field_value",
    "parse_field_selector",
    "parse_label_selector",
    "selector_from_model",
    "selector_from_set",
]
