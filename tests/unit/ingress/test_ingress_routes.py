"""The ingress controller's pure decisions: routing plan, nginx.conf, annotations, class."""
from __future__ import annotations

import base64
from typing import Any

import pytest

from ingress import annotations
from ingress.controller import is_ours, load_balancer_status
from ingress.nginxconf import Listen, render, server_name
from ingress.routes import build_plan, normalise


def ing(name: str, spec: dict[str, Any], ts: str = "2026-01-01T00:00:00Z", **notes: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default", "creationTimestamp": ts, "annotations": notes},
            "spec": spec}


def svc(name: str, port: int = 80, port_name: str = "") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default"}, "spec": {"ports": [{"name": port_name, "port": port}]}}


def slice_(svc_name: str, ips: list[str], target: int = 8080, ready: bool = True) -> dict[str, Any]:
    return {"metadata": {"name": f"{svc_name}-x", "namespace": "default",
                         "labels": {"kubernetes.io/service-name": svc_name}},
            "ports": [{"name": "", "port": target}],
            "endpoints": [{"addresses": [ip], "conditions": {"ready": ready}} for ip in ips]}


def path(p: str, t: str, s: str, port: Any = 80) -> dict[str, Any]:
    ref = {"number": port} if isinstance(port, int) else {"name": port}
    return {"path": p, "pathType": t, "backend": {"service": {"name": s, "port": ref}}}


SERVICES = {("default", "apple"): svc("apple"), ("default", "banana"): svc("banana", 8080, "http")}
SLICES = [slice_("apple", ["10.0.0.2", "10.0.0.1"]), slice_("apple", ["10.0.0.9"], ready=False),
          {**slice_("banana", ["10.0.0.3"], 5678), "ports": [{"name": "http", "port": 5678}]}]


def test_normalise() -> None:
    assert normalise("/foo/", "Prefix") == ("/foo", False)
    assert normalise("/foo/", "Exact") == ("/foo/", True)
    assert normalise(None, "ImplementationSpecific") == ("/", False)
    assert normalise("/", "Prefix") == ("/", False)


def test_plan_resolves_ready_endpoints_and_reports_problems() -> None:
    plan = build_plan([
        ing("newer", {"rules": [{"host": "a.io", "http": {"paths": [path("/x", "Prefix", "banana", "http")]}}]},
            ts="2026-02-01T00:00:00Z"),
        ing("older", {"defaultBackend": {"service": {"name": "apple", "port": {"number": 80}}},
                      "tls": [{"hosts": ["a.io"], "secretName": "gone"}],
                      "rules": [{"host": "a.io", "http": {"paths": [path("/x", "Prefix", "apple"),
                                                                     path("/y", "Exact", "missing"),
                                                                     path("/z", "Exact", "apple", 81)]}}]}),
        ing("bad", {"defaultBackend": {"service": {"name": "apple", "port": {"number": 80}}}},
            **{"nginx.ingress.kubernetes.io/proxy-read-timeout": "soon"}),
    ], SERVICES, SLICES, {})
    assert plan.served == ["default/older", "default/newer"]
    assert [(p.ingress, p.reason) for p in plan.problems] == [
        ("default/bad", "InvalidAnnotation"), ("default/older", "BackendNotFound"),
        ("default/older", "BackendNotFound"), ("default/older", "TLSSecretNotFound")]
    assert plan.problems[2].message == 'service "default/apple" has no port 81'
    default, host = plan.servers
    assert host.host == "a.io"
    x = host.locations[0]
    assert (x.path, x.ingress, x.upstream.addresses) == ("/x", "default/older",    # the older Ingress keeps /x
                                                         ("10.0.0.1:8080", "10.0.0.2:8080"))
    assert host.locations[1].upstream is None                                       # 503
    assert default.locations[0].upstream.name == "default_apple_80"                 # the default backend
    assert host.locations[-1] is default.locations[0]                               # also the host's fallback


def test_tls_certificate_from_secret() -> None:
    pem_crt, pem_key = b"-----BEGIN CERTIFICATE-----\nA\n", b"-----BEGIN PRIVATE KEY-----\nB\n"
    secret = {"data": {"tls.crt": base64.b64encode(pem_crt).decode(), "tls.key": base64.b64encode(pem_key).decode()}}
    plan = build_plan([ing("t", {"tls": [{"hosts": ["a.io", "*.b.io"], "secretName": "s"}],
                                 "rules": [{"host": "a.io", "http": {"paths": [path("/", "Prefix", "apple")]}}]})],
                      SERVICES, SLICES, {("default", "s"): secret})
    (name, pem), = plan.certificates.items()
    assert pem == pem_crt + pem_key and name.startswith("default_s_")
    assert [(s.host, s.certificate) for s in plan.servers] == [("", None), ("*.b.io", name), ("a.io", name)]
    r = render(plan)
    assert r.files == {f"certs/{name}": pem}
    assert r.culprit(f"SSL_CTX_use_PrivateKey(\"/x/certs/{name}\") failed", "/x/staging.conf") == "default/t"


def test_render_precedence_and_ownership() -> None:
    plan = build_plan([ing("f", {"rules": [{"host": "f.io", "http": {"paths": [
        path("/a", "Prefix", "apple"), path("/a", "Exact", "apple"), path("/b", "Prefix", "apple")]}}]},
        **{"nginx.ingress.kubernetes.io/proxy-body-size": "8m"})], SERVICES, SLICES, {})
    r = render(plan, Listen("8080", "8443"))
    lines = r.text.splitlines()
    assert lines.count("        location = /a {  # default/f") == 1     # the Exact path, not twice
    assert "        location /a/ {  # default/f" in lines
    assert "        location = /b {  # default/f" in lines and "        location /b/ {  # default/f" in lines
    assert "            client_max_body_size 8m;" in lines
    assert "        listen 8080 default_server;" in lines and "        listen 8443 ssl;" in lines
    assert '            return 404 "default backend - 404\\n";' in lines
    n = lines.index("        location /b/ {  # default/f") + 1
    assert r.culprit(f"[emerg] bad in /c/staging.conf:{n + 1}", "/c/staging.conf") == "default/f"
    assert r.culprit("[emerg] bad in /c/staging.conf:1", "/c/staging.conf") is None
    assert server_name("*.f.io") == '"~^[^.]+\\\\.f\\\\.io$"' and server_name("") == "_"


def test_annotations() -> None:
    opts = annotations.parse({"nginx.ingress.kubernetes.io/ssl-redirect": "true",
                              "nginx.ingress.kubernetes.io/proxy-send-timeout": "30",
                              "nginx.ingress.kubernetes.io/unknown": "x"})
    assert opts.ssl_redirect and opts.directives == ("proxy_send_timeout 30s;",)
    with pytest.raises(annotations.AnnotationError, match="ssl-redirect"):
        annotations.parse({"nginx.ingress.kubernetes.io/ssl-redirect": "yes"})


def test_which_ingresses_are_ours() -> None:
    mine = {"metadata": {"name": "nginx", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
            "spec": {"controller": "pykube.io/ingress-nginx"}}
    other = {"metadata": {"name": "traefik"}, "spec": {"controller": "traefik.io/ingress-controller"}}
    assert is_ours({"spec": {"ingressClassName": "nginx"}}, [mine, other])
    assert not is_ours({"spec": {"ingressClassName": "traefik"}}, [mine, other])
    assert is_ours({"metadata": {"annotations": {"kubernetes.io/ingress.class": "nginx"}}, "spec": {}}, [mine])
    assert is_ours({"spec": {}}, [mine])
    assert not is_ours({"spec": {}}, [{**mine, "metadata": {"name": "nginx"}}])
    assert load_balancer_status({"status": {"loadBalancer": {"ingress": [{"ip": "10.1.1.1", "ipMode": "VIP"}]}}}) == {
        "ingress": [{"ip": "10.1.1.1"}]}
    assert load_balancer_status(None) == {}
