"""Parsing kubectl's JSONPath templates (client-go util/jsonpath) into a small AST.

Owns the syntax: literal text between `{...}` actions; in an action `.a.b`, `['a.b']`,
`.a\\.b` (escaped dot), `[0]`, `[-1]`, `[1:3]`, `[*]`, `.*`, `..name` (recursive), unions
`['a','b']` / `[0,2]`, filters `[?(@.x=="y")]` (==, !=, <, <=, >, >=, or bare existence),
`$` / `@`, string literals `{"\\n"}`, and `{range EXPR}...{end}`. Evaluation lives in
api.jsonpath.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Union


class JSONPathError(ValueError):
    pass


# ---------------------------------------------------------------- AST
@dataclass
class Field:
    name: str               # "*" = every value of a map


@dataclass
class Recursive:
    pass


@dataclass
class Index:
    start: int | None
    end: int | None
    step: int | None
    single: bool            # [3] rather than a slice


@dataclass
class Union_:
    branches: list[list[Any]]


@dataclass
class Filter:
    left: list[Any]
    op: str | None
    right: list[Any] | Any  # a path (list of segments) or a literal
    right_is_path: bool


Path = list[Any]            # segments; an empty list is the current object


@dataclass
class Text:
    text: str


@dataclass
class Expr:
    path: Path


@dataclass
class Range:
    path: Path
    body: list[Any] = field(default_factory=list)


Node = Union[Text, Expr, Range]

_STOP = set(" .[]{}(),=!<>\"'@$|")


# ---------------------------------------------------------------- parsing
def parse(template: str) -> list[Node]:
    """A template -> nodes. Raises JSONPathError with kubectl-like wording."""
    nodes: list[Node] = []
    stack: list[Range] = []

    def emit(node: Node) -> None:
        (stack[-1].body if stack else nodes).append(node)

    i, n = 0, len(template)
    while i < n:
        j = template.find("{", i)
        if j < 0:
            emit(Text(template[i:]))
            break
        if j > i:
            emit(Text(template[i:j]))
        k = _matching_brace(template, j)
        if k < 0:
            raise JSONPathError("unclosed action")
        action = template[j + 1:k].strip()
        i = k + 1
        if action.startswith("range ") or action == "range":
            rng = Range(_parse_path(action[5:].strip()))
            emit(rng)
            stack.append(rng)
        elif action == "end":
            if not stack:
                raise JSONPathError("not in range, nothing to end")
            stack.pop()
        elif action.startswith('"') or action.startswith("'"):
            emit(Text(_unquote(action)))
        else:
            emit(Expr(_parse_path(action)))
    if stack:
        raise JSONPathError("unclosed range")
    return nodes


def _matching_brace(s: str, start: int) -> int:
    depth, i, quote = 0, start, ""
    while i < len(s):
        c = s[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[-1] != text[0]:
        raise JSONPathError(f"unterminated string {text}")
    body = text[1:-1]
    return (body.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r")
            .replace('\\"', '"').replace("\\'", "'").replace("\\\\", "\\"))


class _PathParser:
    def __init__(self, text: str) -> None:
        self.s, self.i = text, 0

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def skip_ws(self) -> None:
        while self.peek() == " ":
            self.i += 1

    def path(self, stop: str = "") -> Path:
        segs: Path = []
        self.skip_ws()
        while self.i < len(self.s):
            c = self.peek()
            if c and c in stop:
                break
            if c in "$@":
                self.i += 1
                if c == "$":
                    segs.append(ROOT)
            elif c == "." and self.peek(1) == ".":
                self.i += 2
                segs.append(Recursive())
                if self.peek() not in ("", "[") and self.peek() not in stop:
                    segs.append(Field(self.name()))
            elif c == ".":
                self.i += 1
                if self.peek() == "*":
                    self.i += 1
                    segs.append(Field("*"))
                elif self.peek() in ("", "[") or self.peek() in stop:
                    continue        # `{.}` is the current object
                else:
                    segs.append(Field(self.name()))
            elif c == "[":
                segs.append(self.bracket())
            elif c == " ":
                self.skip_ws()
                if self.i < len(self.s) and self.peek() not in stop:
                    raise JSONPathError(f"unrecognized character in action: {self.s[self.i:]!r}")
            elif not segs and c not in _STOP:
                segs.append(Field(self.name()))     # relaxed: `metadata.name`
            else:
                raise JSONPathError(f"unrecognized character in action: U+{ord(c):04X} '{c}'")
        return segs

    def name(self) -> str:
        out = []
        while self.i < len(self.s):
            c = self.peek()
            if c == "\\" and self.peek(1):
                out.append(self.peek(1))
                self.i += 2
                continue
            if c in _STOP:
                break
            out.append(c)
            self.i += 1
        if not out:
            raise JSONPathError(f"invalid field name at {self.s[self.i:]!r}")
        return "".join(out)

    def bracket(self) -> Any:
        end = self._closing(self.i)
        inner = self.s[self.i + 1:end].strip()
        self.i = end + 1
        if inner.startswith("?"):
            return _parse_filter(inner[1:].strip())
        if inner == "*":
            return Index(None, None, None, False)
        parts = _split_top(inner, ",")
        if len(parts) > 1:
            branches: list[list[Any]] = []
            for p in parts:
                p = p.strip()
                if p[:1] in "\"'":
                    branches.append([Field(_unquote(p))])
                else:
                    branches.append([_parse_index(p)])
            return Union_(branches)
        if inner[:1] in "\"'":
            return Field(_unquote(inner))
        return _parse_index(inner)

    def _closing(self, start: int) -> int:
        depth, i, quote = 0, start, ""
        while i < len(self.s):
            c = self.s[i]
            if quote:
                if c == "\\":
                    i += 2
                    continue
                if c == quote:
                    quote = ""
            elif c in "\"'":
                quote = c
            elif c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
                if depth == 0:
                    return i
            i += 1
        raise JSONPathError("unterminated array")


ROOT = Field("$")


def _split_top(text: str, sep: str) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    depth, quote = 0, ""
    for c in text:
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == sep and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    out.append("".join(cur))
    return out


def _parse_index(text: str) -> Index:
    parts = text.split(":")
    if len(parts) > 3:
        raise JSONPathError(f"invalid array index {text}")
    try:
        nums = [int(p) if p.strip() else None for p in parts]
    except ValueError:
        raise JSONPathError(f"invalid array index {text}") from None
    if len(parts) == 1:
        if nums[0] is None:
            raise JSONPathError(f"invalid array index {text}")
        return Index(nums[0], None, None, True)
    return Index(nums[0], nums[1], nums[2] if len(nums) == 3 else None, False)


_FILTER = re.compile(r"^\((.*)\)$", re.S)
_OPS = ("==", "!=", "<=", ">=", "<", ">")


def _parse_filter(text: str) -> Filter:
    m = _FILTER.match(text)
    if not m:
        raise JSONPathError(f"unclosed filter {text}")
    body = m.group(1).strip()
    quote, i = "", 0
    while i < len(body):
        c = body[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        else:
            for op in _OPS:
                if body.startswith(op, i):
                    left, right = body[:i].strip(), body[i + len(op):].strip()
                    lp = _PathParser(left).path()
                    if right.startswith(("@", "$")):
                        return Filter(lp, op, _PathParser(right).path(), True)
                    return Filter(lp, op, _literal(right), False)
        i += 1
    return Filter(_PathParser(body).path(), None, None, False)


def _literal(text: str) -> Any:
    if text[:1] in "\"'":
        return _unquote(text)
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise JSONPathError(f"unrecognized filter value {text}") from None


def _parse_path(text: str) -> Path:
    p = _PathParser(text)
    segs = p.path()
    if p.i < len(p.s):
        raise JSONPathError(f"unrecognized character in action: {text[p.i:]!r}")
    return segs
