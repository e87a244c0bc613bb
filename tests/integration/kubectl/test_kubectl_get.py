"""`pykubectl get` against the in-process apiserver: types, names, short names, `all`,
output formats, selectors, `-A`, `--show-labels`, errors, and `-w`."""
from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Callable

from api.resources import resolve
from client.rest import Client
import io

from kubectl_support import nginx, printed


def strip_age(lines: list[str]) -> list[str]:
    """Ages tick; compare the rest of each line."""
    return [re.sub(r"\b\d+(s|m\d*s?|h\d*m?)\b", "AGE", line) for line in lines]


async def setup(kubectl: Any, manifest: Callable[..., str]) -> None:
    r = await kubectl("apply", "-f", manifest("nginx.yaml", nginx()))
    assert r.code == 0, r.err


async def test_types_short_names_and_all(kubectl: Any, manifest: Callable[..., str], api: Client) -> None:
    await setup(kubectl, manifest)
    svc = await api.get(resolve("svc"), "my-nginx-svc", "default")
    node_port = svc["spec"]["ports"][0]["nodePort"]
    ip = svc["spec"]["clusterIP"]
    r = await kubectl("get", "deploy")
    assert strip_age(r.lines) == ["NAME               READY   UP-TO-DATE   AVAILABLE   AGE",
                                  "nginx-deployment   0/2     0            0           AGE"]
    r = await kubectl("get", "all")
    lines = strip_age(r.lines)
    assert lines[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert lines[1].split() == ["service/kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP", "AGE"]
    assert lines[2].split() == ["service/my-nginx-svc", "LoadBalancer", ip, "<pending>", f"80:{node_port}/TCP", "AGE"]
    assert lines[3] == ""
    assert lines[4:] == ["NAME                               READY   UP-TO-DATE   AVAILABLE   AGE",
                         "deployment.apps/nginx-deployment   0/2     0            0           AGE"]
    r = await kubectl("get", "deployments.apps/nginx-deployment", "svc/my-nginx-svc", "-o", "name")
    assert r.lines == ["deployment.apps/nginx-deployment", "service/my-nginx-svc"]


async def test_wide_yaml_json_jsonpath_custom_columns(kubectl: Any, manifest: Callable[..., str]) -> None:
    await setup(kubectl, manifest)
    r = await kubectl("get", "deploy", "-o", "wide")
    assert strip_age(r.lines)[1].split() == ["nginx-deployment", "0/2", "0", "0", "AGE", "nginx",
                                             "nginx:1.14.2", "app=nginx"]
    one = json.loads((await kubectl("get", "deploy", "nginx-deployment", "-o", "json")).out)
    assert one["kind"] == "Deployment" and one["spec"]["replicas"] == 2
    many = json.loads((await kubectl("get", "deploy", "-o", "json")).out)
    assert many["kind"] == "List" and len(many["items"]) == 1
    y = (await kubectl("get", "deploy", "nginx-deployment", "-o", "yaml")).out
    assert y.startswith("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  annotations:\n")
    r = await kubectl("get", "deploy,svc", "-o", "jsonpath={.items[*].metadata.name}")
    assert r.out == "nginx-deployment kubernetes my-nginx-svc"
    r = await kubectl("get", "deploy", "-o", 'jsonpath={range .items[*]}{.metadata.name}={.spec.replicas}{"\\n"}{end}')
    assert r.out == "nginx-deployment=2\n"
    r = await kubectl("get", "deploy", "-o", "custom-columns=NAME:.metadata.name,IMAGE:.spec.template.spec.containers[*].image")
    assert r.lines == ["NAME               IMAGE", "nginx-deployment   nginx:1.14.2"]


async def test_selectors_namespaces_and_labels(kubectl: Any, manifest: Callable[..., str]) -> None:
    await setup(kubectl, manifest)
    await kubectl("create", "namespace", "team")
    await kubectl("create", "configmap", "c1", "-n", "team", "--from-literal=a=1")
    assert (await kubectl("get", "svc", "-l", "app=nginx", "-o", "name")).lines == ["service/my-nginx-svc"]
    assert (await kubectl("get", "svc", "--field-selector", "metadata.name=kubernetes", "-o", "name")).lines == \
        ["service/kubernetes"]
    r = await kubectl("get", "cm", "-A")
    assert r.lines[0].split() == ["NAMESPACE", "NAME", "DATA", "AGE"]
    assert any(line.split()[:3] == ["team", "c1", "1"] for line in r.lines)
    r = await kubectl("get", "svc", "my-nginx-svc", "--show-labels")
    assert r.lines[0].endswith("LABELS") and r.lines[1].endswith("app=nginx")
    r = await kubectl("get", "cm", "-n", "team", "-o", "name")
    assert r.lines == ["configmap/c1"]


async def test_not_found_and_empty(kubectl: Any) -> None:
    r = await kubectl("get", "deploy", "x")
    assert (r.code, r.out, r.err) == (1, "", 'Error from server (NotFound): deployments.apps "x" not found\n')
    r = await kubectl("get", "pods")
    assert (r.code, r.out, r.err) == (0, "", "No resources found in default namespace.\n")
    r = await kubectl("get", "pods", "-A")
    assert (r.code, r.err) == (0, "No resources found\n")
    r = await kubectl("get", "svc", "kubernetes", "nope", "-o", "name")
    assert (r.code, r.out, r.err) == (1, "service/kubernetes\n", 'Error from server (NotFound): services "nope" not found\n')
    r = await kubectl("get", "deploy", "x", "--ignore-not-found")
    assert (r.code, r.out, r.err) == (0, "", "")
    r = await kubectl("get", "deploy", "-n", "nowhere")
    assert r.err == "No resources found in nowhere namespace.\n"


async def test_watch_prints_changes_until_the_request_timeout(kubectl: Any, api: Client) -> None:
    await kubectl("create", "configmap", "first")
    out = io.StringIO()
    task = asyncio.create_task(kubectl("get", "cm", "-w", "--request-timeout=2s", stdout=out))
    await printed(out, "first")
    await api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "second", "namespace": "default"}})
    await api.patch(resolve("cm"), "second", {"data": {"a": "1"}}, "default")
    r = await task
    assert r.code == 0
    names = [(line.split()[0], line.split()[1]) for line in r.lines[1:]]
    assert strip_age(r.lines)[0] == "NAME    DATA   AGE"
    assert names == [("first", "0"), ("second", "0"), ("second", "1")]


async def test_watch_with_events_column(kubectl: Any, api: Client) -> None:
    await kubectl("create", "configmap", "first")
    out = io.StringIO()
    task = asyncio.create_task(kubectl("get", "cm", "-w", "--output-watch-events",
                                       "--request-timeout=2s", stdout=out))
    await printed(out, "first")
    await api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w", "namespace": "default"}})
    await api.delete(resolve("cm"), "w", "default")
    r = await task
    assert [line.split()[:2] for line in r.lines] == [["EVENT", "NAME"], ["ADDED", "first"],
                                                      ["ADDED", "w"], ["DELETED", "w"]]
