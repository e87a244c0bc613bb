"""client.discovery: the server's resources from aggregated or legacy discovery, and the
rows a process learns for kinds it does not know; kubectl.discovery: when pykubectl asks."""
from __future__ import annotations

import argparse
from typing import Any

import httpx

from api import resources
from client import discovery
from client.kubeconfig import ClientConfig
from client.rest import Client
from kubectl.discovery import needs_discovery, type_words

CRONTAB = {"resource": "crontabs", "responseKind": {"group": "stable.example.com", "version": "v1", "kind": "CronTab"},
           "scope": "Namespaced", "verbs": ["get", "list"], "shortNames": ["ct"], "categories": ["all"],
           "subresources": [{"subresource": "status"}]}
AGG_APIS = {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "items": [
    {"metadata": {"name": "apps"}, "versions": [{"version": "v1", "resources": [
        {"resource": "deployments", "responseKind": {"kind": "Deployment"}, "scope": "Namespaced", "verbs": ["get"]}]}]},
    {"metadata": {"name": "stable.example.com"}, "versions": [
        {"version": "v1", "resources": [CRONTAB]},
        {"version": "v1beta1", "resources": [dict(CRONTAB, subresources=[])]}]}]}
AGG_CORE = {"kind": "APIGroupDiscoveryList", "items": [{"metadata": {"name": ""}, "versions": [
    {"version": "v1", "resources": [{"resource": "pods", "responseKind": {"kind": "Pod"},
                                     "scope": "Namespaced", "verbs": ["get"]}]}]}]}


def client_for(routes: dict[str, Any]) -> Client:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=routes[req.url.path])
    return Client(ClientConfig(server="http://fake", token="t"), transport=httpx.MockTransport(handler))


async def test_aggregated_discovery_and_learning() -> None:
    c = client_for({"/api": AGG_CORE, "/apis": AGG_APIS})
    rows = await discovery.server_resources(c)
    assert [(r.group, r.version, r.plural) for r in rows] == [
        ("", "v1", "pods"), ("apps", "v1", "deployments"),
        ("stable.example.com", "v1", "crontabs"), ("stable.example.com", "v1beta1", "crontabs")]
    assert rows[2].short_names == ("ct",) and rows[2].subresources == ("status",) and rows[2].namespaced
    try:
        added = await discovery.learn(c)
        assert [(r.group, r.version) for r in added] == [("stable.example.com", "v1"), ("stable.example.com", "v1beta1")]
        assert resources.resolve("ct").version == "v1"
        assert resources.by_kind("stable.example.com/v1beta1", "CronTab").plural == "crontabs"
    finally:
        resources.unregister("stable.example.com", "crontabs")
        await c.close()


async def test_legacy_discovery() -> None:
    c = client_for({"/api": {"kind": "APIVersions", "versions": ["v1"]},
                    "/api/v1": {"resources": [{"name": "pods", "kind": "Pod", "namespaced": True, "verbs": ["get"]},
                                              {"name": "pods/status", "kind": "Pod", "namespaced": True}]},
                    "/apis": {"kind": "APIGroupList", "groups": [{"name": "stable.example.com", "versions": [
                        {"groupVersion": "stable.example.com/v1", "version": "v1"}]}]},
                    "/apis/stable.example.com/v1": {"resources": [
                        {"name": "crontabs", "kind": "CronTab", "namespaced": True, "shortNames": ["ct"]}]}})
    rows = await discovery.server_resources(c)
    await c.close()
    assert [(r.group, r.plural, r.subresources) for r in rows] == [
        ("", "pods", ("status",)), ("stable.example.com", "crontabs", ())]


def test_when_pykubectl_asks_the_server() -> None:
    ns = argparse.Namespace
    assert type_words(ns(args=["deploy,ct", "x"])) == ["deploy", "ct"]
    assert type_words(ns(args=["ct/a", "pod/b"])) == ["ct", "pod"]
    assert not needs_discovery(ns(args=["pods", "web"], filename=[]))
    assert needs_discovery(ns(args=["crontabs"], filename=[]))
    assert needs_discovery(ns(args=["all"], filename=[]))
    assert needs_discovery(ns(args=[], filename=["x.yaml"]))
