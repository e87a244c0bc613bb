"""Manifests in the style of the Kubernetes documentation's examples, applied with the real
kubectl: what walking the docs' example manifests found wrong (docs/DOCS-EXAMPLES.md)."""
from __future__ import annotations

from pathlib import Path

from tests.integration.apiserver.test_real_clients import kubectl

TOLERATING_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: tolerant
spec:
  containers:
  - name: web
    image: nginx
  tolerations:
  - key: "example-key"
    operator: "Exists"
    effect: "NoSchedule"
  - key: "node.kubernetes.io/unreachable"
    operator: "Exists"
    effect: "NoExecute"
    tolerationSeconds: 6000
"""


async def test_reapplying_a_pod_with_tolerations_is_accepted(apiserver, http, tmp_path: Path) -> None:
    kc = apiserver.kubeconfig_path
    path = tmp_path / "pod.yaml"
    path.write_text(TOLERATING_POD)
    code, out, err = await kubectl(kc, "apply", "-f", str(path))
    assert (code, out, err) == (0, "pod/tolerant created\n", "")
    path.write_text(TOLERATING_POD.replace("image: nginx", "image: nginx:1.27"))
    code, out, err = await kubectl(kc, "apply", "-f", str(path))
    assert (code, out, err) == (0, "pod/tolerant configured\n", "")
    pod = (await http.get("/api/v1/namespaces/default/pods/tolerant")).json()
    assert pod["spec"]["containers"][0]["image"] == "nginx:1.27"
    tols = {(t.get("key"), t.get("tolerationSeconds")) for t in pod["spec"]["tolerations"]}
    assert tols == {("example-key", None), ("node.kubernetes.io/unreachable", 6000),
                    ("node.kubernetes.io/not-ready", 300)}
