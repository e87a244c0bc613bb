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


PRIORITY = """\
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: high-priority
value: 1000000
globalDefault: false
preemptionPolicy: Never
description: "For XYZ service pods only."
---
apiVersion: v1
kind: Pod
metadata:
  name: important
spec:
  containers:
  - name: web
    image: nginx
  priorityClassName: high-priority
"""


async def test_priority_class_gives_pods_their_priority(apiserver, http, tmp_path: Path) -> None:
    kc = apiserver.kubeconfig_path
    path = tmp_path / "priority.yaml"
    path.write_text(PRIORITY)
    code, out, err = await kubectl(kc, "apply", "-f", str(path))
    assert (code, out, err) == (0, "priorityclass.scheduling.k8s.io/high-priority created\npod/important created\n", "")
    pod = (await http.get("/api/v1/namespaces/default/pods/important")).json()
    assert (pod["spec"]["priority"], pod["spec"]["preemptionPolicy"]) == (1000000, "Never")
    code, out, err = await kubectl(kc, "get", "pc")
    assert code == 0, err
    assert out.split("\n")[0].split() == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    rows = {line.split()[0]: line.split() for line in out.strip().split("\n")[1:]}
    assert rows["high-priority"][1:3] == ["1000000", "false"] and rows["high-priority"][4] == "Never"
    assert rows["system-node-critical"][1] == "2000001000"
    assert rows["system-cluster-critical"][-1] == "PreemptLowerPriority"

    path.write_text(PRIORITY.replace("name: important", "name: orphan").replace("priorityClassName: high-priority", "priorityClassName: missing"))
    code, out, err = await kubectl(kc, "apply", "-f", str(path))
    assert code == 1 and 'pods "orphan" is forbidden: no PriorityClass with name missing was found' in err, err
    path.write_text(PRIORITY.replace("value: 1000000", "value: 2000000000").replace("high-priority", "too-high"))
    code, out, err = await kubectl(kc, "apply", "-f", str(path))
    assert code == 1 and "value: Forbidden: maximum allowed value of a user defined priority is 1000000000" in err
    path.write_text(PRIORITY.split("---")[0].replace("high-priority", "system-mine"))
    code, out, err = await kubectl(kc, "apply", "-f", str(path))
    assert code == 1 and "priority class names with 'system-' prefix are reserved for system use only" in err


async def test_only_one_default_priority_class(apiserver, tmp_path: Path) -> None:
    kc = apiserver.kubeconfig_path
    path = tmp_path / "default.yaml"
    for name in ("first", "second"):
        path.write_text(f"apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: {name}\n"
                        "value: 10\nglobalDefault: true\n")
        code, out, err = await kubectl(kc, "apply", "-f", str(path))
    assert code == 1 and "PriorityClass first is already marked as default. Only one default can exist" in err, err
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: plain\nspec:\n  containers:\n"
                    "  - name: web\n    image: nginx\n")
    code, out, err = await kubectl(kc, "apply", "-f", str(path))
    assert code == 0, err
    code, out, err = await kubectl(kc, "get", "pod", "plain", "-o", "jsonpath={.spec.priorityClassName} {.spec.priority}")
    assert out == "first 10", err


LOCAL_LB = """\
apiVersion: v1
kind: Service
metadata:
  name: my-lb
spec:
  selector:
    app.kubernetes.io/name: MyApp
  ports:
  - protocol: TCP
    port: 8080
    targetPort: 9376
  type: LoadBalancer
  externalTrafficPolicy: Local
"""


async def test_local_load_balancer_gets_a_health_check_node_port(apiserver, http, tmp_path: Path) -> None:
    kc = apiserver.kubeconfig_path
    path = tmp_path / "lb.yaml"
    path.write_text(LOCAL_LB)
    code, _, err = await kubectl(kc, "apply", "-f", str(path))
    assert code == 0, err
    spec = (await http.get("/api/v1/namespaces/default/services/my-lb")).json()["spec"]
    port = spec["healthCheckNodePort"]
    assert 30000 <= port <= 32767 and port != spec["ports"][0]["nodePort"]
    path.write_text(LOCAL_LB.replace("port: 8080", "port: 8081"))
    code, _, err = await kubectl(kc, "apply", "-f", str(path))
    assert code == 0, err
    assert (await http.get("/api/v1/namespaces/default/services/my-lb")).json()["spec"]["healthCheckNodePort"] == port
    path.write_text(LOCAL_LB.replace("externalTrafficPolicy: Local", "externalTrafficPolicy: Cluster"))
    code, _, err = await kubectl(kc, "apply", "-f", str(path))
    assert code == 0, err
    assert "healthCheckNodePort" not in (await http.get("/api/v1/namespaces/default/services/my-lb")).json()["spec"]
    other = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "taker"},
             "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": port}]}}
    r = await http.post("/api/v1/namespaces/default/services", json=other)   # it was given back
    assert r.status_code == 201, r.text
