"""`pykubectl apply` against the in-process apiserver: created / unchanged / configured,
a changed file (replicas, image, a removed field), several inputs, and bad input."""
from __future__ import annotations

import json
from typing import Any, Callable

from api.resources import resolve
from client.rest import Client
from kubectl.objects import LAST_APPLIED
from kubectl_support import nginx

DEPLOY = resolve("deployments")


async def test_apply_create_unchanged_configured(kubectl: Any, manifest: Callable[..., str], api: Client) -> None:
    path = manifest("nginx.yaml", nginx())
    r = await kubectl("apply", "-f", path)
    assert (r.code, r.lines, r.err) == (0, ["deployment.apps/nginx-deployment created",
                                            "service/my-nginx-svc created"], "")
    r = await kubectl("apply", "-f", path)
    assert (r.code, r.lines) == (0, ["deployment.apps/nginx-deployment unchanged",
                                     "service/my-nginx-svc unchanged"])

    # replicas changed, image changed, a label, the env var and the container port removed
    changed = nginx(replicas=3, image="nginx:1.16.1").replace("    tier: web\n", "")
    changed = changed.replace('        env:\n        - name: A\n          value: "1"\n', "")
    changed = changed.replace("        ports:\n        - containerPort: 80\n", "")
    r = await kubectl("apply", "-f", manifest("nginx.yaml", changed))
    assert (r.code, r.lines) == (0, ["deployment.apps/nginx-deployment configured",
                                     "service/my-nginx-svc unchanged"])
    d = await api.get(DEPLOY, "nginx-deployment", "default")
    c = d["spec"]["template"]["spec"]["containers"][0]
    assert d["spec"]["replicas"] == 3
    assert c["image"] == "nginx:1.16.1"
    assert "env" not in c and "ports" not in c
    assert d["metadata"]["labels"] == {"app": "nginx"}
    r = await kubectl("apply", "-f", manifest("nginx.yaml", changed))
    assert r.lines == ["deployment.apps/nginx-deployment unchanged", "service/my-nginx-svc unchanged"]


async def test_last_applied_annotation_is_what_kubectl_writes(kubectl: Any, manifest: Callable[..., str],
                                                             api: Client) -> None:
    await kubectl("apply", "-f", manifest("nginx.yaml", nginx()))
    d = await api.get(DEPLOY, "nginx-deployment", "default")
    raw = d["metadata"]["annotations"][LAST_APPLIED]
    assert raw.endswith("}\n") and ", " not in raw
    doc = json.loads(raw)
    assert doc["metadata"] == {"annotations": {}, "labels": {"app": "nginx", "tier": "web"},
                               "name": "nginx-deployment", "namespace": "default"}
    assert list(doc) == sorted(doc)


async def test_server_defaults_do_not_count_as_changes(kubectl: Any, manifest: Callable[..., str]) -> None:
    # the server adds strategy, protocol, imagePullPolicy...; none of that is "ours"
    path = manifest("nginx.yaml", nginx())
    await kubectl("apply", "-f", path)
    assert (await kubectl("apply", "-f", path)).lines[0] == "deployment.apps/nginx-deployment unchanged"


async def test_apply_over_an_object_created_without_apply(kubectl: Any, manifest: Callable[..., str]) -> None:
    path = manifest("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: '1'\n")
    assert (await kubectl("create", "-f", path)).lines == ["configmap/c created"]
    r = await kubectl("apply", "-f", manifest("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                                         "  name: c\ndata:\n  a: '2'\n"))
    assert r.code == 0 and r.lines == ["configmap/c configured"]
    assert r.err == ("Warning: resource configmaps/c is missing the kubectl.kubernetes.io/"
                     "last-applied-configuration annotation which is required by pykubectl apply. "
                     "pykubectl apply should only be used on resources created declaratively by either "
                     "pykubectl create --save-config or pykubectl apply. The missing annotation will be "
                     "patched automatically.\n")


async def test_directory_recursive_stdin_and_list(kubectl: Any, manifest: Callable[..., str],
                                                  tmp_path: Any) -> None:
    manifest("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    manifest("sub/b.json", '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}')
    d = str(tmp_path / "manifests")
    assert (await kubectl("apply", "-f", d)).lines == ["configmap/a created"]
    assert (await kubectl("apply", "-R", "-f", d)).lines == ["configmap/a unchanged", "configmap/b created"]
    lst = ("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n"
           "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n")
    r = await kubectl("apply", "-f", "-", stdin=lst)
    assert (r.code, r.lines) == (0, ["configmap/c created", "configmap/a unchanged"])


async def test_a_document_that_does_not_parse_applies_nothing(kubectl: Any, manifest: Callable[..., str],
                                                             api: Client) -> None:
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\n---\n"
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  labels: [\ndata: {}\n")
    path = manifest("bad.yaml", text)
    r = await kubectl("apply", "-f", path)
    assert r.code == 1 and r.out == ""
    assert r.err.startswith(f"error: error parsing {path}: error converting YAML to JSON: yaml: line ")
    assert r.err.endswith("(document 2)\n") and r.err.count("\n") == 1
    names = [c["metadata"]["name"] for c in (await api.list(resolve("configmaps"), "default")).items]
    assert "good" not in names


async def test_unknown_kind_fails_alone(kubectl: Any, manifest: Callable[..., str]) -> None:
    path = manifest("mixed.yaml", "apiVersion: v1\nkind: Foo\nmetadata:\n  name: x\n---\n"
                                  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after\n")
    r = await kubectl("apply", "-f", path)
    assert r.code == 1
    assert r.lines == ["configmap/after created"]
    assert r.err == (f'error: resource mapping not found for name: "x" namespace: "" from "{path}": '
                     'no matches for kind "Foo" in version "v1"\n')


async def test_namespaces(kubectl: Any, manifest: Callable[..., str], api: Client) -> None:
    await kubectl("create", "namespace", "team")
    path = manifest("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    assert (await kubectl("apply", "-f", path, "-n", "team")).lines == ["configmap/c created"]
    assert (await api.get(resolve("cm"), "c", "team"))["metadata"]["namespace"] == "team"
    other = manifest("other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\n  namespace: team\n")
    r = await kubectl("apply", "-f", other, "-n", "default")
    assert r.code == 1 and r.err == (
        'error: the namespace from the provided object "team" does not match the namespace "default". '
        "You must pass '--namespace=team' to perform this operation.\n")
    r = await kubectl("apply", "-f", path, "-n", "nope")
    assert r.code == 1
    assert r.err == f'Error from server (NotFound): error when creating "{path}": namespaces "nope" not found\n'


async def test_invalid_object_error(kubectl: Any, manifest: Callable[..., str]) -> None:
    path = manifest("bad.yaml", nginx(replicas=-1))
    r = await kubectl("apply", "-f", path)
    assert r.code == 1
    assert r.lines == ["service/my-nginx-svc created"]
    assert r.err.startswith('The Deployment "nginx-deployment" is invalid: spec.replicas: Invalid value: -1')
    assert r.err.count("\n") == 1


async def test_dry_run_and_output_name(kubectl: Any, manifest: Callable[..., str], api: Client) -> None:
    path = manifest("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    assert (await kubectl("apply", "-f", path, "--dry-run=client")).lines == ["configmap/c created (dry run)"]
    assert (await api.list(resolve("cm"), "default", field_selector="metadata.name=c")).items == []
    assert (await kubectl("apply", "-f", path, "-o", "name")).lines == ["configmap/c"]
