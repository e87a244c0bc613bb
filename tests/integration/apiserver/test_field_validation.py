"""fieldValidation=Strict|Warn|Ignore over plain HTTP, with the bodies of kube-apiserver's own
field validation test (test/integration/apiserver/field_validation_test.go) and the texts,
order and status codes it expects; and with the real kubectl (`apply` of a typo fails with
kubectl's message, `--validate=false` and `--validate=warn` pass)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.apiserver.test_real_clients import kubectl

DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
INVALID_JSON = """{
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {"name": "%s", "name": "%s", "unknownMeta": "metaVal", "labels": {"app": "nginx"}},
  "spec": {
    "unknown1": "val1",
    "unknownDupe": "valDupe",
    "unknownDupe": "valDupe2",
    "paused": true,
    "paused": false,
    "selector": {"matchLabels": {"app": "nginx"}},
    "template": {
      "metadata": {"labels": {"app": "nginx"}},
      "spec": {"containers": [{"name": "nginx", "image": "nginx:latest", "unknownNested": "val1",
                               "imagePullPolicy": "Always", "imagePullPolicy": "Never"}]}
    }
  }
}"""
INVALID_YAML = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  name: %s
  unknownMeta: metaVal
  labels:
    app: nginx
spec:
  unknown1: val1
  unknownDupe: valDupe
  unknownDupe: valDupe2
  paused: true
  paused: false
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:latest
        unknownNested: val1
        imagePullPolicy: Always
        imagePullPolicy: Never"""
VALID = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "", "labels": {"app": "nginx"}},
         "spec": {"selector": {"matchLabels": {"app": "nginx"}}, "template": {
             "metadata": {"labels": {"app": "nginx"}},
             "spec": {"containers": [{"name": "nginx", "image": "nginx:latest", "imagePullPolicy": "Always"}]}}}}
JSON_PROBLEMS = ['duplicate field "metadata.name"', 'unknown field "metadata.unknownMeta"',
                 'unknown field "spec.unknown1"', 'unknown field "spec.unknownDupe"',
                 'duplicate field "spec.paused"', 'unknown field "spec.template.spec.containers[0].unknownNested"',
                 'duplicate field "spec.template.spec.containers[0].imagePullPolicy"']
YAML_LINES = ['line 5: key "name" already set in map', 'line 12: key "unknownDupe" already set in map',
              'line 14: key "paused" already set in map', 'line 28: key "imagePullPolicy" already set in map']
YAML_UNKNOWN = ['unknown field "metadata.unknownMeta"',
                'unknown field "spec.template.spec.containers[0].unknownNested"',
                'unknown field "spec.unknown1"', 'unknown field "spec.unknownDupe"']
MERGE_PATCH = """{"spec": {"unknown1": "val1", "unknownDupe": "valDupe", "unknownDupe": "valDupe2",
  "paused": true, "paused": false, "template": {"spec": {"containers": [{"name": "nginx",
  "image": "nginx:latest", "unknownNested": "val1", "imagePullPolicy": "Always", "imagePullPolicy": "Never"}]}}}}"""
PATCH_PROBLEMS = ['duplicate field "spec.unknownDupe"', 'duplicate field "spec.paused"',
                  'duplicate field "spec.template.spec.containers[0].imagePullPolicy"',
                  'unknown field "spec.template.spec.containers[0].unknownNested"',
                  'unknown field "spec.unknown1"', 'unknown field "spec.unknownDupe"']
JSON_PATCH = """[
  {"op": "add", "path": "/spec/unknown1", "value": "val1", "foo": "bar"},
  {"op": "add", "path": "/spec/unknown2", "path": "/spec/unknown3", "value": "val1"},
  {"op": "add", "path": "/spec/paused", "value": true},
  {"op": "add", "path": "/spec/template/spec/containers/0/unknownNested", "value": "val1"}
]"""


def warnings_of(r: httpx.Response) -> list[str]:
    """The texts of the Warning header(s): `299 - "text"` each, comma-joined."""
    out = []
    for header in r.headers.get_list("warning"):
        rest = header
        while rest:
            code, _, rest = rest.partition(' - "')
            text, i = "", 0
            while i < len(rest) and rest[i] != '"':
                if rest[i] == "\\":
                    i += 1
                text += rest[i]
                i += 1
            out.append(text)
            rest = rest[i + 1:].lstrip(", ")
    return out


async def _post(http: httpx.AsyncClient, body: str, ctype: str, how: str | None) -> httpx.Response:
    params = {"fieldValidation": how} if how else {}
    return await http.post(DEPLOYMENTS, content=body.encode(), params=params, headers={"Content-Type": ctype})


@pytest.mark.parametrize("how", ["Strict", "Warn", "Ignore", None])
async def test_create_json_body(http: httpx.AsyncClient, how: str | None) -> None:
    name = f"post-json-{(how or 'default').lower()}"
    r = await _post(http, INVALID_JSON % (name, name), "application/json", how)
    if how == "Strict":
        assert r.status_code == 400 and r.json()["reason"] == "BadRequest"
        assert r.json()["message"] == ('Deployment in version "v1" cannot be handled as a Deployment: '
                                       "strict decoding error: " + ", ".join(JSON_PROBLEMS))
        assert (await http.get(f"{DEPLOYMENTS}/{name}")).status_code == 404
        return
    assert r.status_code == 201, r.text
    assert warnings_of(r) == ([] if how == "Ignore" else JSON_PROBLEMS)
    spec = r.json()["spec"]
    assert spec["paused"] is False and "unknown1" not in spec          # the last one wins, unknown dropped
    assert spec["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Never"


@pytest.mark.parametrize("how", ["Strict", "Warn", "Ignore", None])
async def test_create_yaml_body(http: httpx.AsyncClient, how: str | None) -> None:
    name = f"post-yaml-{(how or 'default').lower()}"
    r = await _post(http, INVALID_YAML % (name, name), "application/yaml", how)
    if how == "Strict":
        assert r.status_code == 400
        assert r.json()["message"].endswith(
            "strict decoding error: yaml: unmarshal errors:\n  " + "\n  ".join(YAML_LINES) + ", "
            + ", ".join(YAML_UNKNOWN))
        return
    assert r.status_code == 201, r.text
    assert warnings_of(r) == ([] if how == "Ignore" else YAML_LINES + YAML_UNKNOWN)


async def test_update_json_body(http: httpx.AsyncClient) -> None:
    body = json.loads(json.dumps(VALID))
    body["metadata"]["name"] = "put"
    assert (await http.post(DEPLOYMENTS, json=body)).status_code == 201
    r = await http.put(f"{DEPLOYMENTS}/put", content=(INVALID_JSON % ("put", "put")).encode(),
                       params={"fieldValidation": "Strict"}, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["message"].endswith(", ".join(JSON_PROBLEMS))
    r = await http.put(f"{DEPLOYMENTS}/put", content=(INVALID_JSON % ("put", "put")).encode(),
                       params={"fieldValidation": "Warn"}, headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and warnings_of(r) == JSON_PROBLEMS


@pytest.mark.parametrize("how", ["Strict", "Warn", "Ignore"])
async def test_merge_and_strategic_patches(http: httpx.AsyncClient, how: str) -> None:
    for ctype in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
        name = f"patch-{how.lower()}-{ctype.split('/')[1][:5]}"
        body = json.loads(json.dumps(VALID))
        body["metadata"]["name"] = name
        assert (await http.post(DEPLOYMENTS, json=body)).status_code == 201
        r = await http.patch(f"{DEPLOYMENTS}/{name}", content=MERGE_PATCH.encode(),
                             params={"fieldValidation": how}, headers={"Content-Type": ctype})
        if how == "Strict":
            assert r.status_code == 422, r.text
            status = r.json()
            assert status["reason"] == "Invalid" and status["details"]["causes"][0]["field"] == "patch"
            assert status["message"].startswith(' "" is invalid: patch: Invalid value: ')
            assert status["message"].endswith("strict decoding error: " + ", ".join(PATCH_PROBLEMS))
            if "strategic" in ctype:   # the patch as Go prints the map it decoded
                assert 'Invalid value: "map[spec:map[paused:false template:map[' in status["message"]
            got = (await http.get(f"{DEPLOYMENTS}/{name}")).json()
            assert "paused" not in got["spec"]            # nothing written
        else:
            assert r.status_code == 200, r.text
            assert warnings_of(r) == ([] if how == "Ignore" else PATCH_PROBLEMS)
            assert r.json()["spec"]["paused"] is False


async def test_json_patch(http: httpx.AsyncClient) -> None:
    body = json.loads(json.dumps(VALID))
    body["metadata"]["name"] = "jsonpatch"
    assert (await http.post(DEPLOYMENTS, json=body)).status_code == 201
    problems = ['json patch unknown field "[0].foo"', 'json patch duplicate field "[1].path"',
                'unknown field "spec.template.spec.containers[0].unknownNested"',
                'unknown field "spec.unknown1"', 'unknown field "spec.unknown3"']
    url, ctype = f"{DEPLOYMENTS}/jsonpatch", {"Content-Type": "application/json-patch+json"}
    r = await http.patch(url, content=JSON_PATCH.encode(), params={"fieldValidation": "Strict"}, headers=ctype)
    assert r.status_code == 422 and r.json()["message"].endswith("strict decoding error: " + ", ".join(problems))
    r = await http.patch(url, content=JSON_PATCH.encode(), params={"fieldValidation": "Warn"}, headers=ctype)
    assert r.status_code == 200 and warnings_of(r) == problems


async def test_apply_duplicate_keys(http: httpx.AsyncClient) -> None:
    body = json.dumps(VALID).replace('"name": ""', '"name": "applied"').replace(
        '"imagePullPolicy": "Always"', '"imagePullPolicy": "Never", "imagePullPolicy": "Always"')
    url = f"{DEPLOYMENTS}/applied"
    params = {"fieldManager": "mgr", "fieldValidation": "Strict"}
    r = await http.patch(url, content=body.encode(), params=params,
                         headers={"Content-Type": "application/apply-patch+yaml"})
    assert r.status_code == 400
    assert r.json()["message"] == ("error strict decoding YAML: error converting YAML to JSON: yaml: "
                                   'unmarshal errors:\n  line 1: key "imagePullPolicy" already set in map')
    r = await http.patch(url, content=body.encode(), params={**params, "fieldValidation": "Warn"},
                         headers={"Content-Type": "application/apply-patch+yaml"})
    assert r.status_code == 201 and warnings_of(r) == ['line 1: key "imagePullPolicy" already set in map']


async def test_bad_field_validation_value(http: httpx.AsyncClient) -> None:
    r = await _post(http, json.dumps(VALID), "application/json", "Loud")
    assert r.status_code == 400
    assert r.json()["message"] == ('fieldValidation "Loud" is invalid: valid values are "Strict", "Warn" '
                                   'and "Ignore"')


TYPO = """apiVersion: apps/v1
kind: Deployment
metadata: {name: typo}
spec:
  replica: 2
  selector: {matchLabels: {app: t}}
  template:
    metadata: {labels: {app: t}}
    spec: {containers: [{name: c, image: busybox:1, imagePullPolicy: IfNotPresent, imagePullPolcy: Always}]}
"""


async def test_kubectl_apply_validate(apiserver: Any, tmp_path: Path) -> None:
    kc = apiserver.kubeconfig_path
    path = tmp_path / "typo.yaml"
    path.write_text(TYPO)
    code, out, err = await kubectl(kc, "apply", "-f", str(path))
    assert code == 1 and out == ""
    assert err.strip() == ('Error from server (BadRequest): error when creating "' + str(path) + '": Deployment '
                           'in version "v1" cannot be handled as a Deployment: strict decoding error: unknown '
                           'field "spec.replica", unknown field "spec.template.spec.containers[0].imagePullPolcy"')
    code, out, err = await kubectl(kc, "apply", "-f", str(path), "--validate=warn")
    assert code == 0, err
    assert 'Warning: unknown field "spec.replica"' in err
    assert 'Warning: unknown field "spec.template.spec.containers[0].imagePullPolcy"' in err
    assert out.strip() == "deployment.apps/typo created"
    code, out, err = await kubectl(kc, "replace", "-f", str(path), "--validate=false")
    assert code == 0 and err == "", err
    code, out, err = await kubectl(kc, "create", "-f", str(path))
    assert code == 1 and 'strict decoding error: unknown field "spec.replica"' in err
