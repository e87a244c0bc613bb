"""Output formats of `get` (and friends): table, wide, yaml, json, name, jsonpath,
custom-columns.

Owns turning wire dicts into text exactly as kubectl prints them. Table columns and cells
come from `api.tables` (the same rows the apiserver serves as Tables); this module adds
kubectl's client-side decorations: the NAMESPACE column for `-A`, `kind.group/` name
prefixes when several kinds are printed, LABELS for `--show-labels`, `-L` label columns,
and tabwriter layout (minwidth 6, padding 3, widths remembered across flushes for `-w`).
Pure: objects in, text out.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from api import tables
from api.resources import ResourceInfo, UnknownResourceError, by_kind
from api import jsonpath
from kubectl.tabwriter import TabWriter

Obj = dict[str, Any]

ALLOWED_FORMATS = ("custom-columns,custom-columns-file,go-template,go-template-file,json,"
                   "jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml")


class PrinterError(ValueError):
    """A bad `-o` value or template; the message is what follows `error: `."""


# ---------------------------------------------------------------- names
def info_of(obj: Obj) -> ResourceInfo | None:
    try:
        return by_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
    except UnknownResourceError:
        return None


def kind_prefix(obj_or_info: Obj | ResourceInfo) -> str:
    """`deployment.apps` or `pod`: how kubectl names a kind in its messages."""
    if isinstance(obj_or_info, ResourceInfo):
        info = obj_or_info
        return f"{info.singular}.{info.group}" if info.group else info.singular
    av, kind = obj_or_info.get("apiVersion", ""), obj_or_info.get("kind", "")
    group = av.rsplit("/", 1)[0] if "/" in av else ""
    return f"{kind.lower()}.{group}" if group else kind.lower()


def qualified_name(obj: Obj) -> str:
    """`deployment.apps/nginx` (what `-o name` and most success messages print)."""
    return f"{kind_prefix(obj)}/{(obj.get('metadata') or {}).get('name', '')}"


def format_labels(labels: dict[str, str] | None) -> str:
    if not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


# ---------------------------------------------------------------- options
@dataclass
class PrintOptions:
    output: str = ""
    all_namespaces: bool = False
    show_kind: bool = False
    show_labels: bool = False
    label_columns: list[str] = field(default_factory=list)
    no_headers: bool = False
    sort_by: str = ""
    watch_events: bool = False     # `get -w --output-watch-events`: an EVENT column first

    @property
    def format(self) -> str:
        return self.output.split("=", 1)[0]

    @property
    def template(self) -> str:
        return self.output.split("=", 1)[1] if "=" in self.output else ""


def inline_files(output: str) -> str:
    """`jsonpath-file=F` / `custom-columns-file=F` -> the inline form with F's contents.
    A custom-columns file holds a line of headers and a line of expressions."""
    fmt, _, path = output.partition("=")
    if fmt not in ("jsonpath-file", "custom-columns-file"):
        return output
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise PrinterError(f"error reading template {path}, open {path}: "
                           f"{(e.strerror or str(e)).lower()}") from None
    if fmt == "jsonpath-file":
        return "jsonpath=" + text
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if len(lines) != 2 or len(lines[0]) != len(lines[1]):
        raise PrinterError(f"expected two lines (headers and expressions) of equal length in {path}")
    return "custom-columns=" + ",".join(f"{h}:{e}" for h, e in zip(lines[0], lines[1]))


def check_table(output: str) -> bool:
    """Whether `-o output` prints a table (whose rows may come from the server)."""
    return output.split("=", 1)[0] in ("", "wide")


def check_output(output: str) -> None:
    """Reject an `-o` value kubectl would not accept (or we do not implement)."""
    fmt = output.split("=", 1)[0]
    if fmt in ("", "wide", "yaml", "json", "name"):
        return
    if fmt in ("jsonpath", "custom-columns"):
        if "=" not in output or not output.split("=", 1)[1]:
            what = "template" if fmt == "jsonpath" else "custom-columns format"
            raise PrinterError(f"{what} format specified but no {what} given" if fmt == "jsonpath"
                               else "custom-columns format specified but no custom columns given")
        if fmt == "jsonpath":
            _parse_jsonpath(output.split("=", 1)[1])
        else:
            parse_custom_columns(output.split("=", 1)[1])
        return
    if fmt in ("go-template", "go-template-file", "template", "templatefile", "jsonpath-as-json"):
        raise PrinterError(f"the {fmt} output format is not supported by pykubectl; "
                           "use -o jsonpath=... or -o custom-columns=...")
    raise PrinterError(f'unable to match a printer suitable for the output format "{output}", '
                       f"allowed formats are: {ALLOWED_FORMATS}")


def _parse_jsonpath(template: str) -> list[jsonpath.Node]:
    try:
        return jsonpath.parse(template)
    except jsonpath.JSONPathError as e:
        raise PrinterError(f"error parsing jsonpath {template}, {e}") from None


# ---------------------------------------------------------------- structured formats
def as_list(objs: list[Obj]) -> Obj:
    return {"apiVersion": "v1", "items": objs, "kind": "List",
            "metadata": {"resourceVersion": ""}}


def to_json(doc: Any) -> str:
    return json.dumps(doc, indent=4, sort_keys=True, ensure_ascii=False) + "\n"


def to_yaml(doc: Any) -> str:
    import yaml

    class _Dumper(yaml.SafeDumper):
        def choose_scalar_style(self) -> str:
            # go-yaml double-quotes a string that would read back as another type (a number,
            # a timestamp, true) and single-quotes one that only needs quoting for syntax
            # (`'*/1 * * * *'`)
            style = super().choose_scalar_style()
            if style == "'" and not (self.event.implicit and self.event.implicit[0]):
                return '"'
            return style

    def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
        if "\n" in data:
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
        return dumper.represent_scalar("tag:yaml.org,2002:str", data)

    _Dumper.add_representer(str, _str)
    return yaml.dump(doc, Dumper=_Dumper, default_flow_style=False, sort_keys=True,
                     allow_unicode=True, width=1 << 30)


def sort_objects(objs: list[Obj], sort_by: str) -> list[Obj]:
    if not sort_by:
        return objs
    try:
        path = jsonpath.parse(jsonpath.relaxed(sort_by))
    except jsonpath.JSONPathError as e:
        raise PrinterError(str(e)) from None
    expr = path[0].path if path and isinstance(path[0], jsonpath.Expr) else []

    def key(o: Obj) -> tuple[int, Any]:
        vals = jsonpath.evaluate(expr, o)
        if not vals or vals[0] is None:
            return (0, "")
        v = vals[0]
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return (1, v)
        return (2, jsonpath.text_of(v))
    return sorted(objs, key=key)


def render(objs: list[Obj], opts: PrintOptions, single: bool = False, server: Any = None) -> str:
    """Everything `get` prints for `objs` (`single`: one object named by the user, so
    yaml/json/jsonpath print the object itself rather than a List)."""
    objs = sort_objects(objs, opts.sort_by)
    fmt = opts.format
    if fmt == "name":
        return "".join(qualified_name(o) + "\n" for o in objs)
    if fmt in ("yaml", "json"):
        doc = objs[0] if single and len(objs) == 1 else as_list(objs)
        return to_yaml(doc) if fmt == "yaml" else to_json(doc)
    if fmt == "jsonpath":
        nodes = _parse_jsonpath(opts.template)
        doc = objs[0] if single and len(objs) == 1 else as_list(objs)
        return jsonpath.execute(nodes, doc)
    if fmt == "custom-columns":
        return render_custom_columns(objs, opts.template, opts.no_headers)
    return TablePrinter(opts, server).print(objs)


# ---------------------------------------------------------------- custom columns
def parse_custom_columns(spec: str) -> list[tuple[str, list[jsonpath.Node]]]:
    cols = []
    for part in spec.split(","):
        header, sep, expr = part.partition(":")
        if not sep:
            raise PrinterError(f"unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>")
        try:
            cols.append((header, jsonpath.parse(jsonpath.relaxed(expr))))
        except jsonpath.JSONPathError as e:
            raise PrinterError(str(e)) from None
    return cols


def render_custom_columns(objs: list[Obj], spec: str, no_headers: bool = False) -> str:
    cols = parse_custom_columns(spec)
    tw = TabWriter(padding=3, minwidth=6)
    if not no_headers:
        tw.write("\t".join(h for h, _ in cols) + "\n")
    for o in objs:
        cells = []
        for _, nodes in cols:
            vals: list[Any] = []
            for node in nodes:
                if isinstance(node, jsonpath.Expr):
                    vals.extend(jsonpath.evaluate(node.path, o))
            cells.append(",".join(jsonpath.go_value(v) for v in vals) if vals else "<none>")
        tw.write("\t".join(cells) + "\n")
    return tw.flush()


# ---------------------------------------------------------------- tables
def _cell(value: Any) -> str:
    if value is None:
        return "<none>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class TablePrinter:
    """Tables for one or more kinds; keeps its tabwriter so later rows (`get -w`) line up
    under headers it printed before."""

    def __init__(self, opts: PrintOptions, server: Any = None) -> None:
        self.opts = opts
        self.server = server            # targets.ServerTables: kinds the server prints
        self.wide = opts.format == "wide"
        self._tw = TabWriter(padding=3, minwidth=6, remember_widths=True)
        self._last_kind: str | None = None
        self._printed_any = False

    def headers(self, kind: str, namespaced: bool = True) -> list[str]:
        cols = [c.name.upper() for c in self._columns(kind) if self.wide or c.priority == 0]
        if self.opts.all_namespaces and namespaced:
            cols.insert(0, "NAMESPACE")
        cols.extend(_label_headers(self.opts.label_columns))
        if self.opts.show_labels:
            cols.append("LABELS")
        if self.opts.watch_events:
            cols.insert(0, "EVENT")
        return cols

    def _columns(self, kind: str) -> list[tables.Column]:
        if self.server is not None and kind in self.server.columns:
            return list(self.server.columns[kind])
        return tables.columns_for(kind)

    def row(self, obj: Obj) -> list[str]:
        kind = obj.get("kind", "")
        columns = self._columns(kind)
        served = self.server.cells.get(id(obj)) if self.server is not None else None
        raw = served if served is not None else tables.row_for(obj)
        cells = []
        for col, value in zip(columns, raw):
            if not self.wide and col.priority != 0:
                continue
            text = "" if value is None and served is not None else _cell(value)
            if col.format == "name" and self.opts.show_kind:
                text = f"{kind_prefix(obj)}/{text}"
            cells.append(text)
        meta = obj.get("metadata") or {}
        info = info_of(obj)
        if self.opts.all_namespaces and (info is None or info.namespaced):
            cells.insert(0, meta.get("namespace") or "")
        labels = meta.get("labels") or {}
        for key in self.opts.label_columns:
            cells.append(labels.get(key, ""))
        if self.opts.show_labels:
            cells.append(format_labels(labels))
        return cells

    def print(self, objs: Iterable[Obj], headers: bool = True, event: str = "ADDED") -> str:
        """Rows for `objs`, grouped by kind; a header (unless --no-headers) and a blank line
        between kinds, as kubectl does."""
        out: list[str] = []
        for obj in objs:
            kind = obj.get("kind", "")
            if kind != self._last_kind:
                if self._last_kind is not None:
                    out.append(self._tw.flush())
                    self._tw.remembered = []
                    if not self.opts.no_headers and self._printed_any:
                        out.append("\n")
                self._last_kind = kind
                if headers and not self.opts.no_headers:
                    info = info_of(obj)
                    self._tw.write("\t".join(self.headers(kind, info is None or info.namespaced)) + "\n")
            row = self.row(obj)
            if self.opts.watch_events:
                row.insert(0, event)
            self._tw.write("\t".join(row) + "\n")
            self._printed_any = True
        out.append(self._tw.flush())
        return "".join(out)


def _label_headers(keys: list[str]) -> list[str]:
    return [k.split("/")[-1].upper() for k in keys]
