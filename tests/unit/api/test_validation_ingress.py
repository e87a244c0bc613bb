"""Ingress and IngressClass validation and table rows in Kubernetes' words (pure)."""
from __future__ import annotations

from typing import Any

from api.tables_networking import format_hosts, load_balancer_text
from api.validation_ingress import (default_ingress_class, validate_ingress, validate_ingress_class,
                                    validate_ingress_class_update)


def ingress(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "x", "namespace": "d"}, "spec": spec}


def svc(service: str = "web", **port: Any) -> dict[str, Any]:
    return {"service": {"name": service, "port": port or {"number": 80}}}


def texts(errs: list[Any]) -> list[str]:
    return [str(e) for e in errs]


def test_a_valid_ingress_has_no_errors() -> None:
    ok = ingress(ingressClassName="pykube", defaultBackend=svc(),
                 tls=[{"hosts": ["*.fruit.local"], "secretName": "tls"}],
                 rules=[{"host": "*.fruit.local", "http": {"paths": [
                     {"path": "/apple", "pathType": "Prefix", "backend": svc("apple", name="http")},
                     {"pathType": "ImplementationSpecific", "backend": {"resource": {"kind": "Bucket", "name": "b"}}},
                 ]}}, {"host": "a.b"}])
    assert validate_ingress(ok) == []


def test_rules_or_default_backend_required() -> None:
    assert texts(validate_ingress(ingress())) == [
        "spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified"]


def test_paths_and_backends() -> None:
    errs = texts(validate_ingress(ingress(rules=[{"host": "a.io", "http": {"paths": [
        {"path": "/a/", "pathType": "Exact", "backend": svc(name="http", number=80)},
        {"path": "/a/.", "pathType": "Prefix", "backend": {}},
        {"path": "/x%2Fy", "pathType": "Prefix", "backend": svc(number=70000)},
        {"path": "rel", "pathType": "ImplementationSpecific", "backend": svc("")},
    ]}}])))
    assert errs == [
        'spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both port name & port number',
        "spec.rules[0].http.paths[1].path: Invalid value: \"/a/.\": cannot end with '/.'",
        'spec.rules[0].http.paths[1].backend: Invalid value: "": resource or service backend is required',
        "spec.rules[0].http.paths[2].path: Invalid value: \"/x%2Fy\": must not contain '%2F'",
        "spec.rules[0].http.paths[2].backend.service.port.number: Invalid value: 70000: "
        "must be between 1 and 65535, inclusive",
        'spec.rules[0].http.paths[3].path: Invalid value: "rel": must be an absolute path',
        "spec.rules[0].http.paths[3].backend.service.name: Required value",
    ]


def test_hosts_tls_and_rule_without_paths() -> None:
    errs = texts(validate_ingress(ingress(rules=[{"host": "*", "http": {"paths": []}}],
                                          tls=[{"hosts": ["a.*.io"], "secretName": "x"}])))
    assert errs[0].startswith('spec.rules[0].host: Invalid value: "*": a wildcard DNS-1123 subdomain')
    assert errs[1] == "spec.rules[0].http.paths: Required value"
    assert errs[2].startswith('spec.tls[0].hosts[0]: Invalid value: "a.*.io": a wildcard DNS-1123')


def test_ingress_class() -> None:
    assert validate_ingress_class({"spec": {"controller": "pykube.io/ingress"}}) == []
    assert texts(validate_ingress_class({"spec": {"controller": "nginx"}})) == [
        'spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")']
    assert texts(validate_ingress_class({"spec": {}})) == ["spec.controller: Required value"]
    cls = {"spec": {"controller": "a.io/b", "parameters": {"kind": "Cfg", "name": "c", "namespace": "x"}}}
    default_ingress_class(cls)
    assert cls["spec"]["parameters"]["scope"] == "Cluster"
    assert texts(validate_ingress_class(cls)) == [
        "spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'"]
    assert texts(validate_ingress_class_update({"spec": {"controller": "a.io/c"}}, {"spec": {"controller": "a.io/b"}})) == [
        'spec.controller: Invalid value: "a.io/c": field is immutable']


def test_table_cells() -> None:
    assert format_hosts([]) == "*"
    assert format_hosts([{"host": "a"}, {}, {"host": "b"}]) == "a,b"
    assert format_hosts([{"host": h} for h in "abcde"]) == "a,b,c + 2 more..."
    lb = {"loadBalancer": {"ingress": [{"ip": "10.0.0.2"}, {"hostname": "lb.example.com"}, {"ip": "10.0.0.2"}]}}
    assert load_balancer_text(lb, wide=True) == "10.0.0.2,lb.example.com"
    assert load_balancer_text(lb) == "10.0.0.2,lb.e..."
