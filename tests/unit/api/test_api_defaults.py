"""api.defaults: Kubernetes defaulting, per kind, in place."""
from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from api.defaults import apply_defaults
from api.resources import by_kind

POD = by_kind("v1", "Pod")
DEPLOYMENT = by_kind("apps/v1", "Deployment")
REPLICASET = by_kind("apps/v1", "ReplicaSet")
SERVICE = by_kind("v1", "Service")


def _pod(**spec: Any) -> dict[str, Any]:
    base = {"containers": [{"name": "c", "image": "nginx:1.25"}]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {**base, **spec}}


def test_pod_spec_defaults() -> None:
    pod = _pod()
    apply_defaults(POD, pod)
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Always"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["securityContext"] == {}
    assert spec["enableServiceLinks"] is True
    assert "tolerations" not in spec
    c = spec["containers"][0]
    assert c["terminationMessagePath"] == "/dev/termination-log"
    assert c["terminationMessagePolicy"] == "File"
    assert c["imagePullPolicy"] == "IfNotPresent"


def test_user_values_are_kept() -> None:
    pod = _pod(restartPolicy="Never", terminationGracePeriodSeconds=5, dnsPolicy="Default",
               schedulerName="mine", enableServiceLinks=False)
    pod["spec"]["containers"][0]["imagePullPolicy"] = "Never"
    apply_defaults(POD, pod)
    spec = pod["spec"]
    assert (spec["restartPolicy"], spec["terminationGracePeriodSeconds"], spec["dnsPolicy"],
            spec["schedulerName"], spec["enableServiceLinks"]) == ("Never", 5, "Default", "mine",
                                                                   False)
    assert spec["containers"][0]["imagePullPolicy"] == "Never"


@pytest.mark.parametrize(("image", "policy"), [
    ("nginx", "Always"),
    ("nginx:latest", "Always"),
    ("nginx:1.25", "IfNotPresent"),
    ("registry.local:5000/nginx", "Always"),
    ("registry.local:5000/nginx:1.0", "IfNotPresent"),
    ("registry.local:5000/nginx:latest", "Always"),
    ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
    ("nginx:latest@sha256:" + "a" * 64, "Always"),
    ("nginx:1.0@sha256:" + "a" * 64, "IfNotPresent"),
])
def test_image_pull_policy_by_tag(image: str, policy: str) -> None:
    pod = _pod(containers=[{"name": "c", "image": image}])
    apply_defaults(POD, pod)
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_ports_probes_env_and_resources() -> None:
    probe = {"httpGet": {"port": 80}}
    pod = _pod(containers=[{
        "name": "c", "image": "x:1", "ports": [{"containerPort": 80}],
        "livenessProbe": copy.deepcopy(probe), "readinessProbe": {"tcpSocket": {"port": 80}},
        "startupProbe": {"exec": {"command": ["true"]}, "periodSeconds": 3},
        "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}},
        "lifecycle": {"preStop": {"httpGet": {"port": 80}}},
    }], initContainers=[{"name": "i", "image": "busybox", "ports": [{"containerPort": 53,
                                                                      "protocol": "UDP"}]}])
    apply_defaults(POD, pod)
    c = pod["spec"]["containers"][0]
    assert c["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert c["livenessProbe"] == {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
                                  "timeoutSeconds": 1, "periodSeconds": 10,
                                  "successThreshold": 1, "failureThreshold": 3}
    assert c["readinessProbe"]["failureThreshold"] == 3
    assert c["startupProbe"]["periodSeconds"] == 3
    assert c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1"
    assert c["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}
    assert c["lifecycle"]["preStop"]["httpGet"]["path"] == "/"
    init = pod["spec"]["initContainers"][0]
    assert init["ports"][0]["protocol"] == "UDP" and init["imagePullPolicy"] == "Always"


def test_host_network_copies_host_port() -> None:
    pod = _pod(hostNetwork=True, containers=[{"name": "c", "image": "x:1",
                                              "ports": [{"containerPort": 8080}]}])
    apply_defaults(POD, pod)
    assert pod["spec"]["containers"][0]["ports"][0]["hostPort"] == 8080


def test_volume_defaults() -> None:
    pod = _pod(volumes=[{"name": "a"}, {"name": "b", "configMap": {"name": "cm"}},
                        {"name": "c", "secret": {"secretName": "s", "defaultMode": 256}},
                        {"name": "d", "hostPath": {"path": "/x"}},
                        {"name": "e", "emptyDir": {}}])
    apply_defaults(POD, pod)
    vols = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert vols["a"] == {"name": "a", "emptyDir": {}}
    assert vols["b"]["configMap"]["defaultMode"] == 420
    assert vols["c"]["secret"]["defaultMode"] == 256
    assert vols["d"]["hostPath"]["type"] == ""
    assert vols["e"] == {"name": "e", "emptyDir": {}}


def test_defaults_are_idempotent() -> None:
    pod = _pod()
    apply_defaults(POD, pod)
    again = copy.deepcopy(pod)
    apply_defaults(POD, again)
    assert again == pod


def _deployment(**spec: Any) -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template, **spec}}


def test_deployment_defaults() -> None:
    d = _deployment()
    apply_defaults(DEPLOYMENT, d)
    spec = d["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate",
                                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    tspec = spec["template"]["spec"]
    assert tspec["restartPolicy"] == "Always" and tspec["dnsPolicy"] == "ClusterFirst"
    assert tspec["containers"][0]["imagePullPolicy"] == "Always"


def test_deployment_recreate_and_partial_rolling_update() -> None:
    d = _deployment(strategy={"type": "Recreate"}, replicas=0)
    apply_defaults(DEPLOYMENT, d)
    assert d["spec"]["strategy"] == {"type": "Recreate"}
    assert d["spec"]["replicas"] == 0
    d = _deployment(strategy={"rollingUpdate": {"maxSurge": 2}})
    apply_defaults(DEPLOYMENT, d)
    assert d["spec"]["strategy"] == {"type": "RollingUpdate",
                                     "rollingUpdate": {"maxSurge": 2, "maxUnavailable": "25%"}}


def test_replica_set_defaults() -> None:
    rs = _deployment()
    rs["kind"] = "ReplicaSet"
    apply_defaults(REPLICASET, rs)
    assert rs["spec"]["replicas"] == 1
    assert "strategy" not in rs["spec"]
    assert rs["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 30


def _service(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec}}


def test_service_defaults_cluster_ip() -> None:
    svc = _service()
    apply_defaults(SERVICE, svc)
    spec = svc["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["sessionAffinity"] == "None"
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert spec["ipFamilies"] == ["IPv4"] and spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert "externalTrafficPolicy" not in spec


@pytest.mark.parametrize("svc_type", ["NodePort", "LoadBalancer"])
def test_service_defaults_external(svc_type: str) -> None:
    svc = _service(type=svc_type, ports=[{"port": 80, "targetPort": "http", "protocol": "UDP"}])
    apply_defaults(SERVICE, svc)
    spec = svc["spec"]
    assert spec["externalTrafficPolicy"] == "Cluster"
    assert spec["ports"] == [{"port": 80, "targetPort": "http", "protocol": "UDP"}]
    assert spec.get("allocateLoadBalancerNodePorts") is (True if svc_type == "LoadBalancer"
                                                         else None)


def test_service_external_name_and_client_ip() -> None:
    svc = {"metadata": {"name": "s"}, "spec": {"type": "ExternalName", "externalName": "x.io"}}
    apply_defaults(SERVICE, svc)
    assert "ipFamilies" not in svc["spec"] and "internalTrafficPolicy" not in svc["spec"]
    assert svc["spec"]["sessionAffinity"] == "None"
    svc = _service(sessionAffinity="ClientIP")
    apply_defaults(SERVICE, svc)
    assert svc["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}


def test_namespace_defaults() -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
    apply_defaults(by_kind("v1", "Namespace"), ns)
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}


def test_secret_defaults_fold_string_data() -> None:
    secret = {"metadata": {"name": "s"}, "data": {"a": base64.b64encode(b"old").decode()},
              "stringData": {"a": "new", "b": "héllo"}}
    apply_defaults(by_kind("v1", "Secret"), secret)
    assert secret["type"] == "Opaque"
    assert "stringData" not in secret
    assert base64.b64decode(secret["data"]["a"]) == b"new"
    assert base64.b64decode(secret["data"]["b"]).decode() == "héllo"
    typed = {"metadata": {"name": "t"}, "type": "kubernetes.io/tls"}
    apply_defaults(by_kind("v1", "Secret"), typed)
    assert typed["type"] == "kubernetes.io/tls"


def test_node_allocatable_defaults_to_capacity() -> None:
    node = {"metadata": {"name": "n"}, "status": {"capacity": {"cpu": "4", "pods": "110"}}}
    apply_defaults(by_kind("v1", "Node"), node)
    assert node["status"]["allocatable"] == {"cpu": "4", "pods": "110"}


def test_endpoints_port_protocol() -> None:
    ep = {"metadata": {"name": "e"}, "subsets": [{"ports": [{"port": 80}]}]}
    apply_defaults(by_kind("v1", "Endpoints"), ep)
    assert ep["subsets"][0]["ports"][0]["protocol"] == "TCP"


@pytest.mark.parametrize(("api_version", "kind"), [("v1", "ServiceAccount"), ("v1", "ConfigMap"),
                                                   ("coordination.k8s.io/v1", "Lease")])
def test_kinds_without_defaults_are_untouched(api_version: str, kind: str) -> None:
    obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}
    before = copy.deepcopy(obj)
    apply_defaults(by_kind(api_version, kind), obj)
    assert obj == before


def test_container_resources_default_to_empty_so_rollback_templates_hash_equal() -> None:
    """`kubectl rollout undo` sends the old template with `resources: {}`; after defaulting
    it must equal the stored one, or the Deployment makes a new ReplicaSet instead of
    scaling the old one back up."""
    from api.meta import compute_hash
    from api.resources import by_kind

    def deploy(container: dict) -> dict:
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                "spec": {"selector": {"matchLabels": {"a": "b"}},
                         "template": {"metadata": {"labels": {"a": "b"}},
                                      "spec": {"containers": [container]}}}}
    plain = deploy({"name": "c", "image": "nginx:1.22"})
    undo = deploy({"name": "c", "image": "nginx:1.22", "resources": {}})
    res = by_kind("apps/v1", "Deployment")
    apply_defaults(res, plain)
    apply_defaults(res, undo)
    assert plain["spec"]["template"]["spec"]["containers"][0]["resources"] == {}
    assert compute_hash(plain["spec"]["template"]) == compute_hash(undo["spec"]["template"])
