"""Ingress and IngressClass with the real kubectl and pykubectl against the same apiserver:
`create ingress` (dry-run output, flag errors, the protobuf body the real kubectl sends),
`get ingress|ingressclass` columns, the default IngressClass filling spec.ingressClassName,
validation errors in Kubernetes' words, and the status subresource."""
from __future__ import annotations

from typing import Any

from api.models import Ingress
from client.rest import Client
from tests.integration.kubectl.conftest import KubectlFn
from tests.integration.kubectl.test_kubectl_batch import both, real

DEFAULT_CLASS = """\
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: pykube
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: pykube.io/ingress-nginx
"""
BAD = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: bad
spec:
  rules:
  - host: 10.0.0.1
    http:
      paths:
      - path: shop
        pathType: Prefix
        backend:
          service:
            name: shop
      - path: /x
        pathType: Regex
        backend:
          service:
            name: shop
            port:
              number: 80
  - host: "*.*.example.com"
    http:
      paths:
      - path: /a/../b
        pathType: Exact
        backend:
          service:
            name: shop
            port:
              number: 80
          resource:
            kind: Bucket
            name: b
"""
RULES = ["--rule=fruit.local/apple=apple:80", "--rule=fruit.local/banana*=banana:http,tls=fruit-tls",
         "--rule=/*=web:8080", "--rule=*.shop.local/cart=cart:80,tls"]


async def test_create_ingress_dry_run_and_errors(kubectl: KubectlFn, kubeconfig_path: str) -> None:
    def run(*a: str) -> Any:
        return both(kubectl, kubeconfig_path, *a)
    for out in (["-o", "yaml"], ["-o", "name"], []):
        await run("create", "ingress", "fruit", *RULES, "--class=pykube", "--default-backend=web:80",
                  "--annotation=a.io/b=c", "--dry-run=client", *out)
    r = await run("create", "ingress", "fruit")
    assert r.code == 1 and "not enough information provided" in r.err
    r = await run("create", "ingress", "fruit", "--rule=fruit.local=apple:80")
    assert r.err == ("error: rule fruit.local=apple:80 is invalid and should be in format "
                     "host/path=svcname:svcport[,tls[=secret]]\n")
    await run("create", "ingress", "fruit", "--default-backend=web")
    await run("create", "ingress", "fruit", "--default-backend=web:80", "--annotation=novalue")
    await run("create", "ing", "--default-backend=web:80")


async def test_create_get_and_default_class(kubectl: KubectlFn, kubeconfig_path: str, api: Client,
                                            manifest: Any) -> None:
    r = await real(kubeconfig_path, "apply", "-f", str(manifest("class.yaml", DEFAULT_CLASS)))
    assert r.out == "ingressclass.networking.k8s.io/pykube created\n", r.err
    r = await real(kubeconfig_path, "create", "ingress", "fruit", *RULES)       # a protobuf body
    assert r.out == "ingress.networking.k8s.io/fruit created\n", r.err
    r = await kubectl("create", "ingress", "fruit2", *RULES)
    assert r.out == "ingress.networking.k8s.io/fruit2 created\n", r.err
    theirs, ours = await api.get(Ingress, "fruit", "default"), await api.get(Ingress, "fruit2", "default")
    assert theirs.spec == ours.spec
    assert theirs.spec.ingress_class_name == "pykube"                     # type: ignore[union-attr]
    paths = theirs.spec.rules[0].http.paths                               # type: ignore[union-attr,index]
    assert [(p.path, p.path_type) for p in paths] == [("/apple", "Exact"), ("/banana", "Prefix")]
    assert theirs.spec.tls[0].secret_name == "fruit-tls"                  # type: ignore[union-attr,index]
    assert theirs.to_dict()["status"] == {"loadBalancer": {}}

    r = await kubectl("create", "ingress", "plain", "--default-backend=web:80", "--class=other")
    assert r.code == 0
    st = await api.get(Ingress, "plain", "default")
    st.status = Ingress.from_dict({"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"},
                                                                         {"ip": "192.0.2.9"}]}}}).status
    await api.update_status(st)
    for args in (["get", "ingress"], ["get", "ing", "-o", "wide"], ["get", "ingressclass"],
                 ["get", "ingresses.networking.k8s.io", "plain", "--no-headers"]):
        r = await both(kubectl, kubeconfig_path, *args)
        assert r.code == 0
    lines = (await kubectl("get", "ingress")).lines
    assert lines[0].split() == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    assert lines[1].split()[:6] == ["fruit", "pykube", "fruit.local,*.shop.local", "80,", "443", lines[1].split()[5]]
    assert lines[3].split()[:4] == ["plain", "other", "*", "192.0.2.10,19..."]
    assert (await kubectl("get", "ingressclass")).lines[1].split()[:3] == ["pykube", "pykube.io/ingress-nginx",
                                                                           "<none>"]
    r = await real(kubeconfig_path, "explain", "ingress.spec.rules.http.paths.pathType")  # OpenAPI v3
    assert r.code == 0 and "GROUP:      networking.k8s.io" in r.out and "Exact" in r.out, r.err


async def test_validation_in_kubernetes_words(kubectl: KubectlFn, kubeconfig_path: str, manifest: Any) -> None:
    path = str(manifest("bad.yaml", BAD))
    r = await both(kubectl, kubeconfig_path, "create", "-f", path)
    assert r.code == 1
    for text in ('spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
                 'spec.rules[0].http.paths[0].path: Invalid value: "shop": must be an absolute path',
                 "spec.rules[0].http.paths[0].backend: Required value: port name or number is required",
                 'spec.rules[0].http.paths[1].pathType: Unsupported value: "Regex": supported values: '
                 '"Exact", "ImplementationSpecific", "Prefix"',
                 "a wildcard DNS-1123 subdomain must start with '*.'",
                 'spec.rules[1].http.paths[0].path: Invalid value: "/a/../b": must not contain \'/../\'',
                 'spec.rules[1].http.paths[0].backend: Invalid value: "": cannot set both resource and service '
                 'backends'):
        assert text in r.err, (text, r.err)
    r = await kubectl("create", "ingress", "x", "--default-backend=Bad_Name:80")
    assert r.code == 1 and 'spec.defaultBackend.service.name: Invalid value: "Bad_Name"' in r.err
    r = await kubectl("create", "ingress", "x", "--rule=a.io/=s:80", "--class=a",
                      "--annotation=kubernetes.io/ingress.class=b")
    assert "annotations.kubernetes.io/ingress.class: Invalid value: \"b\": must match `ingressClassName`" in r.err


async def test_describe_ingress(kubectl: KubectlFn, kubeconfig_path: str, api: Client) -> None:
    await api.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "apple", "namespace": "default"},
                      "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
    await api.create({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                      "metadata": {"name": "apple-x", "namespace": "default",
                                   "labels": {"kubernetes.io/service-name": "apple"}},
                      "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                      "endpoints": [{"addresses": [f"10.244.0.{i}"], "conditions": {"ready": True}}
                                    for i in range(2, 7)]})
    r = await kubectl("create", "ingress", "fruit", "--rule=fruit.local/apple*=apple:80,tls=fruit-tls",
                      "--rule=fruit.local/banana=banana:http", "--rule=/any=apple:http,tls",
                      "--default-backend=missing:80", "--annotation=team=fruit")
    assert r.code == 0, r.err
    r = await both(kubectl, kubeconfig_path, "describe", "ingress", "fruit")
    assert "apple:80 (10.244.0.2:8080,10.244.0.3:8080,10.244.0.4:8080 + 2 more...)" in r.out
    assert "Default backend:  missing:80 (<error: services \"missing\" not found>)" in r.out
    await kubectl("create", "ingress", "plain", "--default-backend=apple:http")
    await both(kubectl, kubeconfig_path, "describe", "ingress", "plain")
