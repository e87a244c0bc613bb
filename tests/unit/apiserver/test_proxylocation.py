"""Where pods/proxy, services/proxy and nodes/proxy lead (kube-apiserver's rules)."""
from __future__ import annotations

import random

import pytest

from apiserver import errors
from apiserver.proxylocation import backend_path, pod_location, service_location, split_scheme_name_port

POD = {"metadata": {"name": "web"}, "status": {"podIP": "10.1.2.3"},
       "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8080, "name": "http"}]}]}}
SVC = {"metadata": {"name": "svc"}, "spec": {"ports": [{"name": "web", "port": 80, "targetPort": "http"},
                                                       {"name": "", "port": 81}]}}
EPS = {"subsets": [{"addresses": [{"ip": "10.1.2.3"}], "ports": [{"name": "web", "port": 8080}]},
                   {"addresses": [{"ip": "10.1.2.4"}], "ports": [{"name": "", "port": 9000}]}]}


def test_name_segments() -> None:
    assert split_scheme_name_port("svc") == ("", "svc", "")
    assert split_scheme_name_port("svc:80") == ("", "svc", "80")
    assert split_scheme_name_port("https:svc:443") == ("https", "svc", "443")
    with pytest.raises(errors.APIError):
        split_scheme_name_port("ftp:svc:21")


def test_pod_ports() -> None:
    assert pod_location(POD, "", "") == ("http", "10.1.2.3", 8080)          # the first container port
    assert pod_location(POD, "https", "http") == ("https", "10.1.2.3", 8080)
    assert pod_location(POD, "", "9") == ("http", "10.1.2.3", 9)
    with pytest.raises(errors.APIError, match="no IP"):
        pod_location({**POD, "status": {}}, "", "")


def test_service_ports_by_number_name_and_none() -> None:
    rng = random.Random(1)
    assert service_location(SVC, EPS, "", "80", rng) == ("http", "10.1.2.3", 8080)
    assert service_location(SVC, EPS, "", "web", rng) == ("http", "10.1.2.3", 8080)
    assert service_location(SVC, EPS, "", "", rng) == ("http", "10.1.2.4", 9000)    # the unnamed port
    with pytest.raises(errors.APIError, match="no service port 82 found"):
        service_location(SVC, EPS, "", "82")
    with pytest.raises(errors.APIError, match='no endpoints available for service "svc"') as e:
        service_location(SVC, {"subsets": []}, "", "80")
    assert e.value.code == 503


def test_backend_path() -> None:
    assert backend_path("/api/v1/namespaces/d/services/s:80/proxy/a/b", "services", "s:80") == "/a/b"
    assert backend_path("/api/v1/nodes/n/proxy", "nodes", "n") == ""
    assert backend_path("/api/v1/nodes/n/proxyx", "nodes", "n") is None
