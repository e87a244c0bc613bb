"""api.validation: create and update rules on wire dicts, with Kubernetes' paths and wording."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from api.defaults import apply_defaults
from api.field import FieldError, InvalidError, invalid_message
from api.resources import ResourceInfo, by_kind
from api.validation import raise_for_errors, validate_create, validate_update

POD = by_kind("v1", "Pod")
SERVICE = by_kind("v1", "Service")
DEPLOYMENT = by_kind("apps/v1", "Deployment")
REPLICASET = by_kind("apps/v1", "ReplicaSet")
NAMESPACE = by_kind("v1", "Namespace")
NODE = by_kind("v1", "Node")
CONFIGMAP = by_kind("v1", "ConfigMap")
SECRET = by_kind("v1", "Secret")

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                 "characters, '-' or '.', and must start and end with an alphanumeric character "
                 "(e.g. 'example.com', regex used for validation is "
                 r"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def errors(resource: ResourceInfo, obj: dict[str, Any], defaults: bool = True) -> list[str]:
    if defaults:
        apply_defaults(resource, obj)
    return [str(e) for e in validate_create(resource, obj)]


def pod(**spec: Any) -> dict[str, Any]:
    body = {"containers": [{"name": "web", "image": "nginx:1.25"}], **spec}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default"}, "spec": body}


def deployment(**spec: Any) -> dict[str, Any]:
    body = {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": "nginx"}]}}, **spec}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"}, "spec": body}


def service(**spec: Any) -> dict[str, Any]:
    body = {"selector": {"app": "web"}, "ports": [{"port": 80}], **spec}
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "default"}, "spec": body}


# ---------------------------------------------------------------- field errors
def test_field_error_rendering_and_reason() -> None:
    assert str(FieldError("Required", "spec.containers")) == "spec.containers: Required value"
    err = FieldError("Invalid", "spec.replicas", "must be greater than or equal to 0", -1)
    assert str(err) == "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    assert err.reason == "FieldValueInvalid"
    assert err.body == "Invalid value: -1: must be greater than or equal to 0"
    assert str(FieldError("Duplicate", "x[1].name", "", "a")) == 'x[1].name: Duplicate value: "a"'
    assert str(FieldError("Forbidden", "spec", "nope", "ignored")) == "spec: Forbidden: nope"
    assert str(FieldError("Invalid", "f", "m", True)) == "f: Invalid value: true: m"


def test_invalid_error_message_and_causes() -> None:
    errs = [FieldError("Required", "spec.selector"),
            FieldError("Invalid", "spec.replicas", "must be greater than or equal to 0", -1)]
    exc = InvalidError(errs)
    assert exc.message("Deployment.apps", "web") == (
        'Deployment.apps "web" is invalid: [spec.selector: Required value, spec.replicas: Invalid '
        'value: -1: must be greater than or equal to 0]')
    assert invalid_message("Pod", "p", errs[:1]) == (
        'Pod "p" is invalid: spec.selector: Required value')
    assert exc.causes()[0] == {"reason": "FieldValueRequired", "message": "Required value",
                               "field": "spec.selector"}
    with pytest.raises(InvalidError):
        raise_for_errors(errs)
    raise_for_errors([])


# ---------------------------------------------------------------- metadata
def test_valid_objects_pass() -> None:
    assert errors(POD, pod()) == []
    assert errors(DEPLOYMENT, deployment()) == []
    assert errors(SERVICE, service()) == []
    assert errors(NAMESPACE, {"metadata": {"name": "team-a"}}) == []
    assert errors(NODE, {"metadata": {"name": "node-1.example"}}) == []


def test_name_required_unless_generate_name() -> None:
    p = pod()
    del p["metadata"]["name"]
    assert errors(POD, p) == ["metadata.name: Required value: name or generateName is required"]
    p["metadata"]["generateName"] = "web-"
    assert errors(POD, p) == []
    p["metadata"]["generateName"] = "Web-"
    assert errors(POD, p)[0].startswith('metadata.generateName: Invalid value: "Web-"')


def test_subdomain_name_message_is_kubernetes_wording() -> None:
    p = pod()
    p["metadata"]["name"] = "Bad_Name"
    assert errors(POD, p) == [f'metadata.name: Invalid value: "Bad_Name": {SUBDOMAIN_MSG}']
    p["metadata"]["name"] = "a" * 254
    assert "must be no more than 253 characters" in errors(POD, p)[0]
    p["metadata"]["name"] = "web.v1"
    assert errors(POD, p) == []


def test_namespace_and_service_names_are_labels() -> None:
    errs = errors(NAMESPACE, {"metadata": {"name": "a.b"}})
    assert errs[0].startswith('metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label')
    long_name = {"metadata": {"name": "a" * 64}}
    assert "must be no more than 63 characters" in errors(NAMESPACE, long_name)[0]
    svc = service()
    svc["metadata"]["name"] = "1web"
    assert "a DNS-1035 label must consist of" in errors(SERVICE, svc)[0]


def test_namespace_required_for_namespaced_and_forbidden_otherwise() -> None:
    p = pod()
    del p["metadata"]["namespace"]
    assert errors(POD, p) == ["metadata.namespace: Required value"]
    assert errors(NODE, {"metadata": {"name": "n", "namespace": "default"}}) == [
        "metadata.namespace: Forbidden: not allowed on this type"]


def test_labels_and_annotations() -> None:
    p = pod()
    p["metadata"]["labels"] = {"example.com/app": "ok", "bad key": "v", "k": "-bad"}
    errs = errors(POD, p)
    assert len(errs) == 2
    assert errs[0].startswith('metadata.labels: Invalid value: "bad key": name part must consist')
    assert errs[1].startswith('metadata.labels: Invalid value: "-bad": a valid label must be an '
                              'empty string or consist of')
    p = pod()
    p["metadata"]["labels"] = {"a" * 64: "v", "x/y/z": "v", "Bad_Prefix.com/a": "v"}
    errs = errors(POD, p)
    assert any("name part must be no more than 63 characters" in e for e in errs)
    assert any("with an optional DNS subdomain prefix" in e for e in errs)
    assert any("prefix part a lowercase RFC 1123 subdomain" in e for e in errs)
    p = pod()
    p["metadata"]["annotations"] = {"big": "x" * (256 * 1024)}
    assert errors(POD, p) == ["metadata.annotations: Too long: must have at most 262144 bytes"]


def test_owner_references_and_finalizers() -> None:
    p = pod()
    ref = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u",
           "controller": True}
    p["metadata"]["ownerReferences"] = [ref, {**ref, "name": "rs2", "uid": "u2"}, {"kind": "X"}]
    p["metadata"]["finalizers"] = ["kubernetes", "example.com/cleanup", "custom"]
    errs = errors(POD, p)
    assert 'metadata.ownerReferences[2].uid: Invalid value: "": uid must not be empty' in errs
    assert any("Only one reference can have Controller set to true" in e for e in errs)
    assert any('metadata.finalizers: Invalid value: "custom": name is neither a standard' in e
               for e in errs)


# ---------------------------------------------------------------- pods
def test_pod_requires_containers_name_and_image() -> None:
    assert errors(POD, pod(containers=[])) == ["spec.containers: Required value"]
    errs = errors(POD, pod(containers=[{"image": "x"}, {"name": "b"}]))
    assert "spec.containers[0].name: Required value" in errs
    assert "spec.containers[1].image: Required value" in errs


def test_duplicate_container_names_across_init_containers() -> None:
    errs = errors(POD, pod(initContainers=[{"name": "web", "image": "busybox"}]))
    assert errs == ['spec.containers[0].name: Duplicate value: "web"']


def test_container_ports() -> None:
    ports = [{"containerPort": 0}, {"containerPort": 70000, "hostPort": 70000},
             {"containerPort": 80, "name": "http", "protocol": "ICMP"},
             {"containerPort": 81, "name": "http"}, {"containerPort": 82, "name": "Web_UI"},
             {"containerPort": 83, "name": "this-name-is-far-too-long"}]
    errs = errors(POD, pod(containers=[{"name": "web", "image": "x", "ports": ports}]))
    base = "spec.containers[0].ports"
    assert f"{base}[0].containerPort: Required value" in errs
    assert (f"{base}[1].containerPort: Invalid value: 70000: must be between 1 and 65535, "
            "inclusive") in errs
    assert (f"{base}[1].hostPort: Invalid value: 70000: must be between 1 and 65535, "
            "inclusive") in errs
    assert (f'{base}[2].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", '
            '"UDP"') in errs
    assert f'{base}[3].name: Duplicate value: "http"' in errs
    assert (f'{base}[4].name: Invalid value: "Web_UI": must contain only alpha-numeric characters '
            '(a-z, 0-9), and hyphens (-)') in errs
    assert (f'{base}[5].name: Invalid value: "this-name-is-far-too-long": must be no more than '
            "15 characters") in errs


def test_restart_and_dns_policy_values() -> None:
    errs = errors(POD, pod(restartPolicy="Sometimes", dnsPolicy="Weird"))
    assert ('spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
            '"Never", "OnFailure"') in errs
    assert any(e.startswith('spec.dnsPolicy: Unsupported value: "Weird"') for e in errs)
    assert errors(POD, pod(dnsPolicy="None")) == [
        "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"]


def test_volumes_mounts_env_probes_resources_tolerations() -> None:
    container = {
        "name": "web", "image": "x",
        "volumeMounts": [{"name": "missing", "mountPath": "/a"},
                         {"name": "data", "mountPath": "/a"}],
        "env": [{"name": ""}, {"name": "A=B"}, {"name": "OK", "value": "1",
                                                  "valueFrom": {"fieldRef": {"fieldPath": "x"}}}],
        "livenessProbe": {"httpGet": {"port": 0}, "successThreshold": 2},
        "readinessProbe": {"periodSeconds": 5},
        "resources": {"requests": {"cpu": "2", "memory": "lots"}, "limits": {"cpu": "1"}},
    }
    errs = errors(POD, pod(containers=[container], volumes=[
        {"name": "data", "emptyDir": {}}, {"name": "data", "hostPath": {"path": ""}},
        {"name": "two", "emptyDir": {}, "secret": {"secretName": "s"}}],
        tolerations=[{"operator": "Equal", "value": "x"}, {"key": "k", "operator": "Exists",
                                                           "value": "v"},
                     {"key": "k", "effect": "Sometimes", "tolerationSeconds": 5}]))
    c = "spec.containers[0]"
    expected = [
        'spec.volumes[1].name: Duplicate value: "data"',
        "spec.volumes[1].hostPath.path: Required value",
        "spec.volumes[2].secret: Forbidden: may not specify more than 1 volume type",
        f'{c}.volumeMounts[0].name: Not found: "missing"',
        f'{c}.volumeMounts[1].mountPath: Invalid value: "/a": must be unique',
        f"{c}.env[0].name: Required value",
        f'{c}.env[1].name: Invalid value: "A=B": a valid environment variable name must consist '
        "only of printable ASCII characters other than '='",
        f'{c}.env[2].valueFrom: Invalid value: "": may not be specified when `value` is not empty',
        f"{c}.livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive",
        f"{c}.livenessProbe.successThreshold: Invalid value: 2: must be 1",
        f"{c}.readinessProbe: Required value: must specify a handler type",
        f'{c}.resources.requests[memory]: Invalid value: "lots": quantities must match the '
        "regular expression",
        f'{c}.resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
        'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` '
        'is empty, which means "match all values and all keys"',
        'spec.tolerations[1].operator: Invalid value: "v": value must be empty when `operator` '
        "is "
        "'Exists'",
        'spec.tolerations[2].effect: Unsupported value: "Sometimes"',
        "spec.tolerations[2].effect: Invalid value: \"Sometimes\": effect must be 'NoExecute' when "
        "`tolerationSeconds` is set",
    ]
    for want in expected:
        assert any(e.startswith(want) for e in errs), (want, errs)


def test_validation_without_defaults_tolerates_missing_defaulted_fields() -> None:
    assert errors(POD, pod(), defaults=False) == []


# ---------------------------------------------------------------- services
def test_service_rules() -> None:
    errs = errors(SERVICE, service(type="Weird"))
    assert errs[0].startswith('spec.type: Unsupported value: "Weird": supported values: '
                              '"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"')
    assert errors(SERVICE, service(ports=[])) == ["spec.ports: Required value"]
    assert errors(SERVICE, service(ports=[], clusterIP="None")) == []
    external = service(type="ExternalName", ports=[], externalName="db.example.com")
    assert errors(SERVICE, external) == []
    assert errors(SERVICE, service(type="ExternalName", ports=[])) == [
        "spec.externalName: Required value"]
    errs = errors(SERVICE, service(ports=[{"port": 80, "nodePort": 30080}]))
    assert errs == ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]
    errs = errors(SERVICE, service(type="NodePort", ports=[{"port": 80, "nodePort": 80}]))
    assert errs == ["spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid "
                    "range. The range of valid ports is 30000-32767"]
    errs = errors(SERVICE, service(ports=[{"port": 0, "name": "a"}, {"port": 80},
                                          {"port": 81, "name": "a", "targetPort": "Bad_Name"}]))
    assert "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive" in errs
    assert "spec.ports[1].name: Required value" in errs
    assert 'spec.ports[2].name: Duplicate value: "a"' in errs
    assert any(e.startswith('spec.ports[2].targetPort: Invalid value: "Bad_Name"') for e in errs)
    errs = errors(SERVICE, service(ports=[{"port": 80, "name": "a"}, {"port": 80, "name": "b"}]))
    assert errs == ['spec.ports[1]: Duplicate value: {"port":80,"protocol":"TCP"}']
    errs = errors(SERVICE, service(clusterIP="not-an-ip", sessionAffinity="Sticky"))
    assert ('spec.clusterIP: Invalid value: "not-an-ip": must be empty, \'None\', or a valid IP '
            "address") in errs
    assert any(e.startswith('spec.sessionAffinity: Unsupported value: "Sticky"') for e in errs)


# ---------------------------------------------------------------- workloads
@pytest.mark.parametrize("resource", [DEPLOYMENT, REPLICASET])
def test_selector_must_match_template_labels(resource: ResourceInfo) -> None:
    d = deployment()
    d["kind"] = resource.kind
    d["spec"]["template"]["metadata"]["labels"] = {"app": "api"}
    assert errors(resource, d) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"api"}: '
        "`selector` does not match template `labels`"]


def test_deployment_required_fields_and_values() -> None:
    d = deployment()
    del d["spec"]["selector"]
    assert "spec.selector: Required value" in errors(DEPLOYMENT, d)
    d = deployment(selector={})
    assert errors(DEPLOYMENT, d)[0] == ("spec.selector: Invalid value: {}: empty selector is "
                                        "invalid for deployment")
    d = deployment()
    del d["spec"]["template"]
    errs = errors(DEPLOYMENT, d)
    assert "spec.template.spec.containers: Required value" in errs
    errs = errors(DEPLOYMENT, deployment(replicas=-1, minReadySeconds=700))
    assert "spec.replicas: Invalid value: -1: must be greater than or equal to 0" in errs
    assert ("spec.progressDeadlineSeconds: Invalid value: 600: must be greater than "
            "minReadySeconds") in errs
    d = deployment()
    d["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
    assert errors(DEPLOYMENT, d) == ['spec.template.spec.restartPolicy: Unsupported value: '
                                     '"OnFailure": supported values: "Always"']
    d = deployment()
    d["spec"]["template"]["spec"]["containers"][0]["image"] = ""
    assert errors(DEPLOYMENT, d) == ["spec.template.spec.containers[0].image: Required value"]


def test_deployment_strategy() -> None:
    errs = errors(DEPLOYMENT, deployment(strategy={"type": "Recreate", "rollingUpdate": {}}))
    assert errs == ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy "
                    "`type` is 'Recreate'"]
    errs = errors(DEPLOYMENT, deployment(strategy={"rollingUpdate": {"maxSurge": 0,
                                                                      "maxUnavailable": "0%"}}))
    assert errs == ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 '
                    "when `maxSurge` is 0"]
    errs = errors(DEPLOYMENT, deployment(strategy={"rollingUpdate": {"maxSurge": "x",
                                                                      "maxUnavailable": "150%"}}))
    assert any("maxUnavailable: Invalid value: \"150%\": must not be greater than 100%" in e
               for e in errs)
    assert any("maxSurge: Invalid value: \"x\": a valid percent string" in e for e in errs)
    errs = errors(DEPLOYMENT, deployment(strategy={"type": "BlueGreen"}))
    assert errs[0].startswith('spec.strategy.type: Unsupported value: "BlueGreen"')


# ---------------------------------------------------------------- config, nodes
def test_config_map_and_secret_keys() -> None:
    cm = {"metadata": {"name": "c", "namespace": "d"}, "data": {"ok.key": "1", "bad/key": "2"},
          "binaryData": {"ok.key": "AA=="}}
    errs = errors(CONFIGMAP, cm)
    assert any(e.startswith('data[bad/key]: Invalid value: "bad/key": a valid config key')
               for e in errs)
    assert 'binaryData[ok.key]: Invalid value: "ok.key": duplicate of key present in data' in errs
    secret = {"metadata": {"name": "s", "namespace": "d"}, "data": {"a": "not base64!"},
              "type": "kubernetes.io/tls"}
    errs = errors(SECRET, secret)
    assert 'data[a]: Invalid value: "<secret contents redacted>": illegal base64 data' in errs
    assert "data[tls.crt]: Required value" in errs and "data[tls.key]: Required value" in errs


def test_node_taints_and_cidr() -> None:
    node = {"metadata": {"name": "n"}, "spec": {"podCIDR": "10.244.1.0/33", "taints": [
        {"key": "a", "effect": "NoSchedule"}, {"key": "a", "effect": "NoSchedule"},
        {"key": "b", "effect": "Never"}]}}
    errs = errors(NODE, node)
    assert 'spec.podCIDRs[0]: Invalid value: "10.244.1.0/33": must be a valid CIDR' in errs
    assert any(e.startswith("spec.taints[1]: Duplicate value") for e in errs)
    assert any(e.startswith('spec.taints[2].effect: Unsupported value: "Never"') for e in errs)


# ---------------------------------------------------------------- updates
def _stored(resource: ResourceInfo, obj: dict[str, Any]) -> dict[str, Any]:
    apply_defaults(resource, obj)
    obj["metadata"]["uid"] = "uid-1"
    return obj


def update_errors(resource: ResourceInfo, new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    apply_defaults(resource, new)
    return [str(e) for e in validate_update(resource, new, old)]


def test_metadata_immutable_on_update() -> None:
    old = _stored(POD, pod())
    new = copy.deepcopy(old)
    new["metadata"].update(name="other", namespace="kube-system", uid="uid-2")
    errs = update_errors(POD, new, old)
    assert 'metadata.name: Invalid value: "other": field is immutable' in errs
    assert 'metadata.namespace: Invalid value: "kube-system": field is immutable' in errs
    assert 'metadata.uid: Invalid value: "uid-2": field is immutable' in errs
    new = copy.deepcopy(old)
    del new["metadata"]["uid"]
    new["metadata"]["labels"] = {"a": "b"}
    assert update_errors(POD, new, old) == []


@pytest.mark.parametrize("resource", [DEPLOYMENT, REPLICASET])
def test_workload_selector_immutable(resource: ResourceInfo) -> None:
    old = deployment()
    old["kind"] = resource.kind
    old = _stored(resource, old)
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 5
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    assert update_errors(resource, new, old) == []
    new["spec"]["selector"] = {"matchLabels": {"app": "web", "v": "2"}}
    new["spec"]["template"]["metadata"]["labels"]["v"] = "2"
    errs = update_errors(resource, new, old)
    assert errs == ['spec.selector: Invalid value: {"matchLabels":{"app":"web","v":"2"}}: field is '
                    "immutable"]


def test_service_cluster_ip_immutable() -> None:
    old = _stored(SERVICE, service(clusterIP="10.96.0.10"))
    new = copy.deepcopy(old)
    new["spec"]["clusterIP"] = "10.96.0.11"
    assert update_errors(SERVICE, new, old) == [
        'spec.clusterIP: Invalid value: "10.96.0.11": field is immutable']
    new["spec"]["clusterIP"] = "10.96.0.10"
    new["spec"]["ports"][0]["port"] = 8080
    assert update_errors(SERVICE, new, old) == []


def test_pod_update_allows_images_tolerations_deadline() -> None:
    old = _stored(POD, pod(tolerations=[{"key": "a", "operator": "Exists"}],
                           activeDeadlineSeconds=100))
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "nginx:1.26"
    new["spec"]["tolerations"].append({"key": "b", "operator": "Exists"})
    new["spec"]["activeDeadlineSeconds"] = 50
    new["metadata"]["labels"] = {"x": "y"}
    assert update_errors(POD, new, old) == []


def test_pod_update_rejects_other_changes() -> None:
    old = _stored(POD, pod())
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    errs = update_errors(POD, new, old)
    assert len(errs) == 1
    assert errs[0].startswith("spec: Forbidden: pod updates may not change fields other than "
                              "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                              "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
                              "to existing tolerations),`spec.terminationGracePeriodSeconds` "
                              "(allow it to be set to 1 if it was previously negative)")
    assert "spec.containers[0].ports" in errs[0]
    new = copy.deepcopy(old)
    new["spec"]["terminationGracePeriodSeconds"] = 10
    assert update_errors(POD, new, old)[0].startswith("spec: Forbidden: pod updates")
    with_tol = _stored(POD, pod(tolerations=[{"key": "a", "operator": "Exists"}]))
    removed = copy.deepcopy(with_tol)
    removed["spec"]["tolerations"] = []
    assert update_errors(POD, removed, with_tol)[0].startswith("spec: Forbidden")


def test_pod_update_deadline_rules() -> None:
    old = _stored(POD, pod(activeDeadlineSeconds=100))
    longer = copy.deepcopy(old)
    longer["spec"]["activeDeadlineSeconds"] = 200
    assert update_errors(POD, longer, old) == [
        "spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous "
        "value"]
    unset = copy.deepcopy(old)
    del unset["spec"]["activeDeadlineSeconds"]
    assert update_errors(POD, unset, old) == [
        "spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer "
        "to nil value"]
    negative = _stored(POD, pod(terminationGracePeriodSeconds=-1))
    one = copy.deepcopy(negative)
    one["spec"]["terminationGracePeriodSeconds"] = 1
    assert update_errors(POD, one, negative) == []


def test_immutable_config_map_and_secret_type() -> None:
    old = {"metadata": {"name": "c", "namespace": "d"}, "data": {"a": "1"}, "immutable": True}
    new = copy.deepcopy(old)
    new["data"]["a"] = "2"
    assert update_errors(CONFIGMAP, new, old) == [
        "data: Forbidden: field is immutable when `immutable` is set"]
    secret = {"metadata": {"name": "s", "namespace": "d"}, "type": "Opaque"}
    changed = {**copy.deepcopy(secret), "type": "example.com/other"}
    assert update_errors(SECRET, changed, secret) == [
        'type: Invalid value: "example.com/other": field is immutable']


# ---------------------------------------------------------------- less common kinds and rules
def test_selector_match_expressions_are_validated() -> None:
    d = deployment(selector={"matchLabels": {"app": "web"}, "matchExpressions": [
        {"key": "tier", "operator": "In"}, {"key": "x", "operator": "Exists", "values": ["a"]},
        {"key": "y", "operator": "Near"}, {"key": "bad key", "operator": "DoesNotExist"}]})
    errs = errors(DEPLOYMENT, d)
    assert ("spec.selector.matchExpressions[0].values: Required value: must be specified when "
            "`operator` is 'In' or 'NotIn'") in errs
    assert ("spec.selector.matchExpressions[1].values: Forbidden: may not be specified when "
            "`operator` is 'Exists' or 'DoesNotExist'") in errs
    assert ('spec.selector.matchExpressions[2].operator: Invalid value: "Near": not a valid '
            "selector operator") in errs
    assert any(e.startswith('spec.selector.matchExpressions[3].key: Invalid value: "bad key"')
               for e in errs)
    ok = deployment(selector={"matchExpressions": [{"key": "app", "operator": "In",
                                                    "values": ["web", "api"]}]})
    assert errors(DEPLOYMENT, ok) == []


def test_endpoints_lease_and_node_updates() -> None:
    ep = {"metadata": {"name": "e", "namespace": "d"}, "subsets": [{
        "addresses": [{"ip": "10.0.0.1"}, {"ip": "nope"}],
        "ports": [{"port": 80, "name": "a"}, {"port": 0}]}]}
    errs = errors(by_kind("v1", "Endpoints"), ep)
    assert any(e.startswith('subsets[0].addresses[1].ip: Invalid value: "nope": must be a valid '
                            "IP address") for e in errs)
    assert "subsets[0].ports[1].name: Required value" in errs
    assert ("subsets[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, "
            "inclusive") in errs
    lease = {"metadata": {"name": "l", "namespace": "d"}, "spec": {"leaseDurationSeconds": 0}}
    assert errors(by_kind("coordination.k8s.io/v1", "Lease"), lease) == [
        "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]
    old = {"metadata": {"name": "n"}, "spec": {"podCIDR": "10.244.1.0/24"}}
    new = copy.deepcopy(old)
    new["spec"]["podCIDR"] = "10.244.2.0/24"
    assert update_errors(NODE, new, old) == [
        'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid']
    unset = {"metadata": {"name": "n"}, "spec": {}}
    assert update_errors(NODE, copy.deepcopy(old), unset) == []


def test_service_external_name_and_extra_fields() -> None:
    svc = service(type="ExternalName", ports=[], externalName="Not_A_Host", clusterIP="10.0.0.1")
    errs = errors(SERVICE, svc)
    assert any(e.startswith('spec.externalName: Invalid value: "Not_A_Host"') for e in errs)
    assert "spec.clusterIP: Forbidden: may not be set for ExternalName services" in errs
    svc = service(type="NodePort", ports=[{"port": 80, "name": "a", "nodePort": 30001},
                                          {"port": 81, "name": "b", "nodePort": 30001}],
                  ipFamilies=["IPv5"], externalIPs=["1.2.3.4", "x"])
    errs = errors(SERVICE, svc)
    assert "spec.ports[1].nodePort: Duplicate value: 30001" in errs
    assert any(e.startswith('spec.ipFamilies[0]: Unsupported value: "IPv5"') for e in errs)
    assert any(e.startswith('spec.externalIPs[1]: Invalid value: "x"') for e in errs)


def test_secret_service_account_token_and_immutable_flip() -> None:
    token = {"metadata": {"name": "t", "namespace": "d"},
             "type": "kubernetes.io/service-account-token"}
    assert errors(SECRET, token) == [
        "metadata.annotations[kubernetes.io/service-account.name]: Required value"]
    old = {"metadata": {"name": "c", "namespace": "d"}, "data": {"a": "1"}, "immutable": True}
    new = {**copy.deepcopy(old), "immutable": False}
    assert update_errors(CONFIGMAP, new, old) == [
        "immutable: Forbidden: field is immutable when `immutable` is set"]


def test_template_active_deadline_and_init_container_probes() -> None:
    d = deployment()
    d["spec"]["template"]["spec"]["activeDeadlineSeconds"] = 10
    assert errors(DEPLOYMENT, d) == ["spec.template.spec.activeDeadlineSeconds: Forbidden: "
                                     "activeDeadlineSeconds in ReplicaSet is not Supported"]
    p = pod(initContainers=[{"name": "init", "image": "busybox",
                             "readinessProbe": {"exec": {"command": ["true"]}}}])
    assert errors(POD, p) == ["spec.initContainers[0].readinessProbe: Forbidden: may not be set "
                              "for init containers without restartPolicy=Always"]
