"""Output formats: tables (columns from api.tables), wide, -A, kind prefixes, labels,
yaml/json/name, jsonpath and custom-columns — checked against kubectl v1.37's bytes
(golden/get_outputs.json) where the output does not depend on the clock."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubectl import printers
from kubectl.printers import PrintOptions, PrinterError, render

GOLDEN = Path(__file__).parent / "golden"


def _pod() -> dict[str, Any]:
    return json.loads((GOLDEN / "pod.json").read_text())


def _options(args: list[str]) -> tuple[PrintOptions, bool]:
    out, single = "", len(args) >= 3 and args[1] == "pod"
    no_headers = "--no-headers" in args
    if "-o" in args:
        out = args[args.index("-o") + 1]
    return PrintOptions(output=out, no_headers=no_headers), single


CASES = json.loads((GOLDEN / "get_outputs.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[" ".join(c["args"])[:70] for c in CASES])
def test_structured_outputs_match_kubectl(case: dict[str, Any]) -> None:
    opts, single = _options(case["args"])
    assert render([_pod()], opts, single=single) == case["stdout"]


def pod(name: str, ns: str = "default", labels: dict[str, str] | None = None,
        ready: bool = True, node: str | None = "n1", ip: str | None = "10.244.0.5") -> dict[str, Any]:
    st: dict[str, Any] = {"phase": "Running", "containerStatuses": [
        {"name": "c", "ready": ready, "restartCount": 0, "state": {"running": {}}}]}
    if ip:
        st["podIP"] = ip
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "nginx"}]}
    if node:
        spec["nodeName"] = node
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": st}


def deploy(name: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                     "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}},
            "status": {"readyReplicas": 1, "updatedReplicas": 2, "availableReplicas": 1}}


def test_pod_table_columns() -> None:
    out = render([pod("web-1"), pod("web-22", ready=False)], PrintOptions())
    assert out == ("NAME     READY   STATUS    RESTARTS   AGE\n"
                   "web-1    1/1     Running   0          <unknown>\n"
                   "web-22   0/1     Running   0          <unknown>\n")


def test_pod_wide_adds_ip_and_node() -> None:
    out = render([pod("web-1"), pod("web-2", node=None, ip=None)], PrintOptions(output="wide"))
    assert out.splitlines() == [
        "NAME    READY   STATUS    RESTARTS   AGE         IP           NODE     NOMINATED NODE   READINESS GATES",
        "web-1   1/1     Running   0          <unknown>   10.244.0.5   n1       <none>           <none>",
        "web-2   1/1     Running   0          <unknown>   <none>       <none>   <none>           <none>"]


def test_all_namespaces_and_show_labels() -> None:
    out = render([pod("a", "ns1", {"app": "x", "tier": "fe"}), pod("b", "kube-system")],
                 PrintOptions(all_namespaces=True, show_labels=True))
    assert out.splitlines() == [
        "NAMESPACE     NAME   READY   STATUS    RESTARTS   AGE         LABELS",
        "ns1           a      1/1     Running   0          <unknown>   app=x,tier=fe",
        "kube-system   b      1/1     Running   0          <unknown>   <none>"]


def test_label_columns() -> None:
    out = render([pod("a", labels={"app.kubernetes.io/name": "web"}), pod("b")],
                 PrintOptions(label_columns=["app.kubernetes.io/name"]))
    assert out.splitlines()[0].endswith("AGE         NAME")
    assert out.splitlines()[1].endswith("<unknown>   web")


def test_several_kinds_get_prefixes_and_a_blank_line() -> None:
    out = render([pod("a"), deploy("web")], PrintOptions(show_kind=True))
    assert out == ("NAME    READY   STATUS    RESTARTS   AGE\n"
                   "pod/a   1/1     Running   0          <unknown>\n"
                   "\n"
                   "NAME                  READY   UP-TO-DATE   AVAILABLE   AGE\n"
                   "deployment.apps/web   1/2     2            1           <unknown>\n")


def test_no_headers() -> None:
    # kubectl's tabwriter has a minimum column width of 6
    assert render([pod("a")], PrintOptions(no_headers=True)) == "a     1/1   Running   0     <unknown>\n"


def test_list_wrapper_for_many_objects() -> None:
    doc = json.loads(render([pod("a"), pod("b")], PrintOptions(output="json")))
    assert doc["kind"] == "List" and doc["metadata"] == {"resourceVersion": ""}
    assert [i["metadata"]["name"] for i in doc["items"]] == ["a", "b"]


def test_yaml_quotes_like_go_and_keeps_multiline_blocks() -> None:
    out = printers.to_yaml({"a": "1", "b": "yes", "c": "line1\nline2\n", "d": "plain"})
    assert out == 'a: "1"\nb: "yes"\nc: |\n  line1\n  line2\nd: plain\n'


def test_sort_by() -> None:
    objs = [pod("b"), pod("c"), pod("a")]
    out = render(objs, PrintOptions(output="name", sort_by=".metadata.name"))
    assert out == "pod/a\npod/b\npod/c\n"


def test_qualified_names() -> None:
    assert printers.qualified_name(deploy("x")) == "deployment.apps/x"
    assert printers.qualified_name(pod("y")) == "pod/y"


@pytest.mark.parametrize("output,message", [
    ("foo", 'unable to match a printer suitable for the output format "foo"'),
    ("jsonpath=", "template format specified but no template given"),
    ("custom-columns=NAME", "unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>"),
    ("jsonpath={.a", "error parsing jsonpath {.a, unclosed action"),
])
def test_bad_output_formats(output: str, message: str) -> None:
    with pytest.raises(PrinterError) as e:
        printers.check_output(output)
    assert str(e.value).startswith(message)


def test_watch_rows_keep_header_widths() -> None:
    table = printers.TablePrinter(PrintOptions())
    first = table.print([pod("a-long-pod-name")])
    later = table.print([pod("b")])
    assert first.splitlines()[0].index("READY") == later.index("1/1")


def test_template_files(tmp_path: Any) -> None:
    cols = tmp_path / "cols.txt"
    cols.write_text("NAME   NODE\nmetadata.name   .spec.nodeName\n")
    spec = printers.inline_files(f"custom-columns-file={cols}")
    assert spec == "custom-columns=NAME:metadata.name,NODE:.spec.nodeName"
    assert render([pod("a")], PrintOptions(output=spec)) == "NAME   NODE\na      n1\n"
    tpl = tmp_path / "t.txt"
    tpl.write_text("{.metadata.name}")
    assert printers.inline_files(f"jsonpath-file={tpl}") == "jsonpath={.metadata.name}"
    with pytest.raises(PrinterError) as e:
        printers.inline_files("jsonpath-file=/nonexistent")
    assert str(e.value) == ("error reading template /nonexistent, open /nonexistent: "
                            "no such file or directory")
