"""The Gateway API's standard-channel kinds this controller serves, as CRDs it installs.

GatewayClass, Gateway and HTTPRoute (`gateway.networking.k8s.io/v1`), with the upstream
names, short names, scopes, status subresources and printer columns. The schemas are
minimal (spec and status kept as given: `x-kubernetes-preserve-unknown-fields`), not the
upstream bundle's full validation: this controller checks what it reads and says what it
cannot serve in the routes' status and in Events.
"""
from __future__ import annotations

from typing import Any

from api.resources import ResourceInfo

GROUP = "gateway.networking.k8s.io"
VERSION = "v1"
Obj = dict[str, Any]

GATEWAY_CLASS = ResourceInfo(GROUP, VERSION, "GatewayClass", "gatewayclasses", False, ("gc",), ("status",))
GATEWAY = ResourceInfo(GROUP, VERSION, "Gateway", "gateways", True, ("gtw",), ("status",))
HTTP_ROUTE = ResourceInfo(GROUP, VERSION, "HTTPRoute", "httproutes", True, (), ("status",))

_SCHEMA: Obj = {"type": "object", "properties": {
    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}
_AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
_COLUMNS: dict[str, list[Obj]] = {
    "GatewayClass": [{"name": "Controller", "type": "string", "jsonPath": ".spec.controllerName"},
                     {"name": "Accepted", "type": "string",
                      "jsonPath": '.status.conditions[?(@.type=="Accepted")].status'}, _AGE],
    "Gateway": [{"name": "Class", "type": "string", "jsonPath": ".spec.gatewayClassName"},
                {"name": "Address", "type": "string", "jsonPath": ".status.addresses[*].value"},
                {"name": "Programmed", "type": "string",
                 "jsonPath": '.status.conditions[?(@.type=="Programmed")].status'}, _AGE],
    "HTTPRoute": [{"name": "Hostnames", "type": "string", "jsonPath": ".spec.hostnames"}, _AGE],
}


def crd(info: ResourceInfo) -> Obj:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{info.plural}.{info.group}",
                         "annotations": {"gateway.networking.k8s.io/channel": "standard"}},
            "spec": {"group": info.group, "scope": "Namespaced" if info.namespaced else "Cluster",
                     "names": {"plural": info.plural, "singular": info.kind.lower(), "kind": info.kind,
                               "listKind": f"{info.kind}List", "shortNames": list(info.short_names),
                               "categories": ["gateway-api"]},
                     "versions": [{"name": info.version, "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": _SCHEMA},
                                   "subresources": {"status": {}},
                                   "additionalPrinterColumns": _COLUMNS[info.kind]}]}}


CRDS = [crd(i) for i in (GATEWAY_CLASS, GATEWAY, HTTP_ROUTE)]
