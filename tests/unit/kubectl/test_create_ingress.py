"""`create ingress`'s generator (kubectl's create_ingress.go), pure."""
from __future__ import annotations

import pytest

from kubectl.cmd_create_ingress import ingress_object, validate
from kubectl.errors import CmdError


def test_rules_group_by_host_and_tls_by_secret() -> None:
    obj = ingress_object("fruit", ["fruit.local/apple=apple:80,tls=s", "fruit.local/banana*=banana:http,tls=s",
                                   "other.local/=web:8080,tls=s", "/x=web:80"], "pykube", "web:80", ["a=b=c"])
    assert obj["metadata"] == {"name": "fruit", "annotations": {"a": "b=c"}}
    spec = obj["spec"]
    assert spec["ingressClassName"] == "pykube"
    assert spec["defaultBackend"] == {"service": {"name": "web", "port": {"number": 80}}}
    assert spec["tls"] == [{"hosts": ["fruit.local", "other.local"], "secretName": "s"}]
    assert [r.get("host") for r in spec["rules"]] == ["fruit.local", "other.local", None]
    assert spec["rules"][0]["http"]["paths"] == [
        {"path": "/apple", "pathType": "Exact", "backend": {"service": {"name": "apple", "port": {"number": 80}}}},
        {"path": "/banana", "pathType": "Prefix", "backend": {"service": {"name": "banana", "port": {"name": "http"}}}}]


def test_checks() -> None:
    with pytest.raises(CmdError, match="not enough information"):
        validate([], "", [])
    with pytest.raises(CmdError, match="rule a.io=s:80 is invalid"):
        validate(["a.io=s:80"], "", [])
    with pytest.raises(CmdError, match="default-backend should be in format"):
        validate([], "a:b:c", [])
    validate(["*.a.io/p=s:80,tls"], "web:http", ["k=v"])
