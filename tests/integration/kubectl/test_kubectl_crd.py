"""A CRD through the command line: the real kubectl and pykubectl, side by side.

`kubectl apply -f crd.yaml`, then the new kind is there for both tools at once: `get
<plural>` / short name / `<plural>.<version>.<group>` print the CRD's printer columns
(server-side Tables), `get all` includes it through its category, `api-resources` lists
it; an invalid object is refused naming every cause; an unknown field is dropped with a
warning and a default filled in; `scale` and `patch --subresource=status` work through the
CRD's subresources; deleting the CRD deletes its objects and the kind is gone.
pykubectl runs as its own process here, so it resolves the kind through discovery as a
user's would.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    additionalPrinterColumns:
    - name: Spec
      type: string
      jsonPath: .spec.cronSpec
    - name: Image
      type: string
      jsonPath: .spec.image
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [cronSpec]
            properties:
              cronSpec:
                type: string
                pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'
              image:
                type: string
                default: busybox
              replicas:
                type: integer
                minimum: 1
                maximum: 10
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
"""

CRONTABS = """\
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: my-cron
spec:
  cronSpec: "* * * * */5"
  replicas: 2
  colour: blue
---
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: other
spec:
  cronSpec: "0 * * * *"
  image: nginx
"""

BAD = """\
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: bad
spec:
  cronSpec: every minute
  replicas: 15
"""


async def run(tool: str, kc: Path, home: Path, *args: str) -> tuple[int, str, str]:
    exe = Path(sys.executable).parent / tool
    proc = await asyncio.create_subprocess_exec(
        str(exe), "--kubeconfig", str(kc), *args, env=dict(os.environ, HOME=str(home)),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def both(kc: Path, home: Path, *args: str) -> tuple[int, str, str]:
    """Run the command with kubectl and pykubectl; they must agree; kubectl's answer."""
    real = await run("kubectl", kc, home / "kubectl", *args)
    ours = await run("pykubectl", kc, home / "pykubectl", *args)
    assert ours[0] == real[0], (args, real, ours)
    assert ours[1] == real[1], (args, real[1], ours[1])
    return real


async def test_crd_with_kubectl_and_pykubectl(apiserver, tmp_path: Path) -> None:
    kc = apiserver.kubeconfig_path
    for d in ("kubectl", "pykubectl"):
        (tmp_path / d).mkdir()
    files = {}
    for name, text in (("crd.yaml", CRD), ("crontabs.yaml", CRONTABS), ("bad.yaml", BAD)):
        files[name] = tmp_path / name
        files[name].write_text(text)

    code, out, err = await run("kubectl", kc, tmp_path / "kubectl", "apply", "-f", str(files["crd.yaml"]))
    assert (code, out) == (0, "customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created\n"), err
    code, out, err = await run("pykubectl", kc, tmp_path / "pykubectl", "apply", "-f", str(files["crd.yaml"]))
    assert (code, out) == (0, "customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com unchanged\n"), err
    await both(kc, tmp_path, "wait", "--for", "condition=established",
               "crd/crontabs.stable.example.com", "--timeout=30s")

    code, out, err = await run("pykubectl", kc, tmp_path / "pykubectl", "apply", "-f", str(files["crontabs.yaml"]))
    assert code == 0, err
    assert out == "crontab.stable.example.com/my-cron created\ncrontab.stable.example.com/other created\n"
    assert 'Warning: unknown field "spec.colour"' in err
    code, out, err = await run("kubectl", kc, tmp_path / "kubectl", "apply", "-f", str(files["crontabs.yaml"]))
    assert code == 1     # kubectl asks for fieldValidation=Strict: the unknown field is refused
    # the objects exist, so kubectl patches them: kube-apiserver's patcher says Invalid on `patch`
    assert 'The request is invalid: patch: Invalid value: ' in err, err
    assert err.rstrip().endswith('strict decoding error: unknown field "spec.colour"'), err
    code, out, err = await run("kubectl", kc, tmp_path / "kubectl", "apply", "-f", str(files["crontabs.yaml"]),
                               "--validate=false")
    assert code == 0, err
    assert "warning: error calculating patch from openapi" not in err, err

    table = ["NAME      SPEC          IMAGE     REPLICAS",
             "my-cron   * * * * */5   busybox   2",
             "other     0 * * * *     nginx     "]
    for words in (("get", "crontabs"), ("get", "ct"), ("get", "crontabs.v1.stable.example.com"),
                  ("get", "crontab.stable.example.com", "-o", "wide")):
        code, out, err = await both(kc, tmp_path, *words)
        assert code == 0 and out.splitlines() == table, (words, out, err)
    code, out, _ = await both(kc, tmp_path, "get", "ct", "my-cron", "-o", "jsonpath={.spec}")
    assert json.loads(out) == {"cronSpec": "* * * * */5", "image": "busybox", "replicas": 2}   # pruned, defaulted
    code, out, _ = await both(kc, tmp_path, "get", "ct", "-A", "--no-headers")
    assert out.splitlines()[0].split() == ["default", "my-cron", "*", "*", "*", "*", "*/5", "busybox", "2"]
    code, out, err = await run("kubectl", kc, tmp_path / "kubectl", "get", "all")
    assert "crontab.stable.example.com/my-cron" in out and "service/kubernetes" in out, err
    code, ours, err = await run("pykubectl", kc, tmp_path / "pykubectl", "get", "all")
    assert "crontab.stable.example.com/my-cron" in ours and "service/kubernetes" in ours, err
    code, out, _ = await both(kc, tmp_path, "api-resources", "--api-group=stable.example.com")
    assert out.splitlines()[1].split() == ["crontabs", "ct", "stable.example.com/v1", "true", "CronTab"]
    code, out, _ = await both(kc, tmp_path, "get", "crd")
    assert out.splitlines()[0].split() == ["NAME", "CREATED", "AT"]

    for tool, n in (("kubectl", "4"), ("pykubectl", "5")):
        code, out, err = await run(tool, kc, tmp_path / tool, "scale", "ct", "my-cron", f"--replicas={n}")
        assert (code, out) == (0, "crontab.stable.example.com/my-cron scaled\n"), err
    code, out, err = await run("kubectl", kc, tmp_path / "kubectl", "patch", "ct", "my-cron",
                               "--subresource=status", "--type=merge", "-p", '{"status":{"replicas":5}}')
    assert (code, out) == (0, "crontab.stable.example.com/my-cron patched\n"), err
    code, out, _ = await both(kc, tmp_path, "get", "ct", "my-cron", "-o",
                              "jsonpath={.spec.replicas}/{.status.replicas}")
    assert out == "5/5"

    real = await run("kubectl", kc, tmp_path / "kubectl", "create", "-f", str(files["bad.yaml"]))
    ours = await run("pykubectl", kc, tmp_path / "pykubectl", "create", "-f", str(files["bad.yaml"]))
    assert real[0] == ours[0] == 1
    for _, _, err in (real, ours):
        assert 'CronTab "bad" is invalid' in err
        assert "spec.cronSpec: Invalid value: \"every minute\": spec.cronSpec in body should match" in err
        assert "spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10" in err
    assert ours[2] == real[2]

    code, out, err = await run("pykubectl", kc, tmp_path / "pykubectl", "delete", "crd", "crontabs.stable.example.com")
    assert (code, out) == (0, 'customresourcedefinition.apiextensions.k8s.io "crontabs.stable.example.com" deleted\n'), err
    code, out, err = await run("pykubectl", kc, tmp_path / "pykubectl", "get", "crontabs")
    assert code == 1 and err == 'error: the server doesn\'t have a resource type "crontabs"\n'
    code, out, err = await run("kubectl", kc, tmp_path / "kubectl-fresh", "get", "crontabs")
    assert code == 1 and 'the server doesn\'t have a resource type "crontabs"' in err
    assert (await apiserver.backend.list("/registry/stable.example.com/")).items == []
