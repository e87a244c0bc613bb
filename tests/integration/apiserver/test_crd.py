"""CustomResourceDefinitions over the REST API (the official clients' view of them).

A CRD is served as soon as it is created (both discovery forms, routing, the watch cache),
its objects are pruned, defaulted and validated by its structural schema with every cause
named, the status and scale subresources behave as kube-apiserver's do, several versions
share one storage version, selectable fields select, names that clash are refused, and a
deleted CRD takes its objects with it; after a restart the stored CRDs are served again.
"""
from __future__ import annotations

import asyncio
import copy
import json
import ssl
from pathlib import Path
from typing import Any

import httpx

from tests.support.cluster import running_apiserver

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
CT = "/apis/stable.example.com/v1/namespaces/default/crontabs"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

SCHEMA = {"type": "object", "properties": {
    "spec": {"type": "object", "required": ["cronSpec"], "properties": {
        "cronSpec": {"type": "string", "pattern": r"^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$"},
        "image": {"type": "string", "default": "busybox", "maxLength": 20},
        "color": {"type": "string", "enum": ["red", "green"]},
        "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
        "port": {"x-kubernetes-int-or-string": True},
        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "selector": {"type": "string"}}},
    "status": {"type": "object", "properties": {
        "replicas": {"type": "integer"}, "phase": {"type": "string"}}}}}

CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {"group": "stable.example.com", "scope": "Namespaced",
             "names": {"plural": "crontabs", "kind": "CronTab", "shortNames": ["ct"],
                       "categories": ["all"]},
             "versions": [
                 {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": SCHEMA},
                  "subresources": {"status": {}, "scale": {
                      "specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                      "labelSelectorPath": ".spec.selector"}},
                  "additionalPrinterColumns": [
                      {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
                      {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}],
                  "selectableFields": [{"jsonPath": ".spec.color"}]},
                 {"name": "v1beta1", "served": True, "storage": False,
                  "schema": {"openAPIV3Schema": SCHEMA}},
                 {"name": "v1alpha1", "served": False, "storage": False,
                  "schema": {"openAPIV3Schema": SCHEMA}}]}}


def crontab(name: str, version: str = "v1", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"stable.example.com/{version}", "kind": "CronTab",
            "metadata": {"name": name}, "spec": {"cronSpec": "* * * * */5", **spec}}


async def _create_crd(http: httpx.AsyncClient, crd: dict[str, Any] = CRD) -> dict[str, Any]:
    r = await http.post(CRDS, json=crd)
    assert r.status_code == 201, r.text
    return r.json()


async def _established(http: httpx.AsyncClient, name: str = "crontabs.stable.example.com") -> dict[str, Any]:
    for _ in range(200):
        crd = (await http.get(f"{CRDS}/{name}")).json()
        conds = {c["type"]: c for c in (crd.get("status") or {}).get("conditions") or []}
        if "Established" in conds and "NamesAccepted" in conds:
            return crd
        await asyncio.sleep(0.02)
    raise AssertionError(f"{name} never got its conditions: {crd}")


async def test_served_at_once_with_status_and_discovery(http) -> None:
    created = await _create_crd(http)
    assert created["status"] == {"acceptedNames": {"plural": "", "kind": ""}, "storedVersions": ["v1"]}
    assert created["spec"]["names"]["singular"] == "crontab"
    assert created["spec"]["names"]["listKind"] == "CronTabList"
    assert created["spec"]["conversion"] == {"strategy": "None"}
    r = await http.post(CT, json=crontab("at-once"))           # no wait for Established
    assert r.status_code == 201, r.text

    crd = await _established(http)
    conds = {c["type"]: c for c in crd["status"]["conditions"]}
    assert (conds["NamesAccepted"]["status"], conds["NamesAccepted"]["reason"]) == ("True", "NoConflicts")
    assert (conds["Established"]["status"], conds["Established"]["reason"]) == ("True", "InitialNamesAccepted")
    assert crd["status"]["acceptedNames"] == {"plural": "crontabs", "singular": "crontab", "kind": "CronTab",
                                              "listKind": "CronTabList", "shortNames": ["ct"],
                                              "categories": ["all"]}

    legacy = (await http.get("/apis/stable.example.com/v1")).json()
    names = {r["name"]: r for r in legacy["resources"]}
    assert set(names) == {"crontabs", "crontabs/status", "crontabs/scale"}
    assert names["crontabs"]["shortNames"] == ["ct"] and names["crontabs"]["categories"] == ["all"]
    assert names["crontabs/scale"]["kind"] == "Scale"
    group = (await http.get("/apis/stable.example.com")).json()
    assert [v["version"] for v in group["versions"]] == ["v1", "v1beta1"]     # v1alpha1 not served
    assert group["preferredVersion"]["version"] == "v1"
    assert (await http.get("/apis/stable.example.com/v1alpha1")).status_code == 404
    agg = (await http.get("/apis", headers={"Accept": AGGREGATED})).json()
    (item,) = [i for i in agg["items"] if i["metadata"]["name"] == "stable.example.com"]
    assert [v["version"] for v in item["versions"]] == ["v1", "v1beta1"]
    (res,) = item["versions"][0]["resources"]
    assert res["resource"] == "crontabs" and res["scope"] == "Namespaced"
    assert {s["subresource"] for s in res["subresources"]} == {"status", "scale"}


async def test_schema_prunes_defaults_and_names_every_cause(http) -> None:
    await _create_crd(http)
    body = crontab("pruned", extra={"anything": {"goes": 1}}, colour="blue")
    body["metadata"]["bogus"] = 1
    r = await http.post(CT, json=body)
    assert r.status_code == 201, r.text
    obj = r.json()
    assert obj["spec"] == {"cronSpec": "* * * * */5", "image": "busybox", "extra": {"anything": {"goes": 1}}}
    assert "bogus" not in obj["metadata"]
    assert r.headers["warning"] == ('299 - "unknown field \\"metadata.bogus\\"", '
                                    '299 - "unknown field \\"spec.colour\\""')
    assert (await http.get(f"{CT}/pruned")).json()["spec"] == obj["spec"]

    bad = crontab("bad", replicas=15, color="pink", image="x" * 21, port=True)
    bad["spec"]["cronSpec"] = "every minute"
    r = await http.post(CT, json=bad)
    assert r.status_code == 422
    status = r.json()
    assert status["reason"] == "Invalid" and status["details"]["kind"] == "CronTab"
    causes = {c["field"]: (c["reason"], c["message"]) for c in status["details"]["causes"]}
    assert causes == {
        "spec.cronSpec": ("FieldValueInvalid", 'Invalid value: "every minute": spec.cronSpec in body should '
                          "match '" + SCHEMA["properties"]["spec"]["properties"]["cronSpec"]["pattern"] + "'"),
        "spec.replicas": ("FieldValueInvalid", "Invalid value: 15: spec.replicas in body should be less than "
                          "or equal to 10"),
        "spec.color": ("FieldValueNotSupported", 'Unsupported value: "pink": supported values: "red", "green"'),
        "spec.image": ("FieldValueTooLong", "Too long: may not be longer than 20"),
        "spec.port": ("FieldValueTypeInvalid", 'Invalid value: true: spec.port in body must be of type '
                      'integer,string: "boolean"'),
    }
    assert status["message"].startswith('CronTab.stable.example.com "bad" is invalid: [spec.cronSpec: ')
    r = await http.post(CT, json={"apiVersion": "stable.example.com/v1", "kind": "CronTab",
                                  "metadata": {"name": "Bad_Name"}, "spec": {"replicas": "three"}})
    causes = {c["field"]: c["message"] for c in r.json()["details"]["causes"]}
    assert causes["spec.cronSpec"] == "Required value"
    assert causes["spec.replicas"] == 'Invalid value: "three": spec.replicas in body must be of type integer: "string"'
    assert causes["metadata.name"].startswith('Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain')
    assert (await http.get(f"{CT}/bad")).status_code == 404


async def test_status_subresource_and_generation(http) -> None:
    await _create_crd(http)
    body = crontab("s", replicas=2)
    body["status"] = {"phase": "ignored"}
    created = (await http.post(CT, json=body)).json()
    assert "status" not in created and created["metadata"]["generation"] == 1
    merge = {"Content-Type": "application/merge-patch+json"}
    r = await http.patch(f"{CT}/s/status", headers=merge, json={"status": {"phase": "Running", "replicas": 2}})
    assert r.status_code == 200 and r.json()["status"] == {"phase": "Running", "replicas": 2}
    assert r.json()["metadata"]["generation"] == 1
    r = await http.patch(f"{CT}/s/status", headers=merge, json={"status": {"replicas": "two"}})
    assert r.status_code == 422
    assert r.json()["details"]["causes"][0]["field"] == "status.replicas"
    r = await http.patch(f"{CT}/s", headers=merge, json={"spec": {"replicas": 3}, "status": {"phase": "Lost"}})
    assert r.json()["status"]["phase"] == "Running" and r.json()["metadata"]["generation"] == 2
    r = await http.patch(f"{CT}/s", headers=merge, json={"metadata": {"labels": {"a": "b"}}})
    assert r.json()["metadata"]["generation"] == 2          # metadata changes are not generations


async def test_scale_subresource(http) -> None:
    await _create_crd(http)
    await http.post(CT, json=crontab("sc", replicas=2, selector="app=cron"))
    scale = (await http.get(f"{CT}/sc/scale")).json()
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 2} and scale["status"] == {"replicas": 0, "selector": "app=cron"}
    r = await http.patch(f"{CT}/sc/scale", headers={"Content-Type": "application/merge-patch+json"},
                         json={"spec": {"replicas": 5}})
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 5
    assert (await http.get(f"{CT}/sc")).json()["spec"]["replicas"] == 5


async def test_versions_share_storage(http, apiserver) -> None:
    await _create_crd(http)
    beta = CT.replace("/v1/", "/v1beta1/")
    r = await http.post(beta, json=crontab("from-beta", "v1beta1"))
    assert r.status_code == 201 and r.json()["apiVersion"] == "stable.example.com/v1beta1"
    got = (await http.get(f"{CT}/from-beta")).json()
    assert got["apiVersion"] == "stable.example.com/v1" and got["spec"]["image"] == "busybox"
    stored = await apiserver.backend.get("/registry/stable.example.com/crontabs/default/from-beta")
    assert json.loads(stored.value)["apiVersion"] == "stable.example.com/v1"    # the storage version
    listed = (await http.get(beta)).json()
    assert listed["apiVersion"] == "stable.example.com/v1beta1"
    assert [i["apiVersion"] for i in listed["items"]] == ["stable.example.com/v1beta1"]
    r = await http.patch(f"{beta}/from-beta", headers={"Content-Type": "application/merge-patch+json"},
                         json={"spec": {"color": "red"}})
    assert r.status_code == 200 and r.json()["apiVersion"] == "stable.example.com/v1beta1"
    assert (await http.get(CT.replace("/v1/", "/v1alpha1/"))).status_code == 404   # not served


async def test_watch_and_selectable_fields(http) -> None:
    await _create_crd(http)
    await http.post(CT, json=crontab("red", color="red"))
    await http.post(CT, json=crontab("green", color="green"))
    r = await http.get(CT, params={"fieldSelector": "spec.color=red"})
    assert [i["metadata"]["name"] for i in r.json()["items"]] == ["red"]
    r = await http.get(CT, params={"fieldSelector": "metadata.name=green"})
    assert [i["metadata"]["name"] for i in r.json()["items"]] == ["green"]
    r = await http.get(CT, params={"fieldSelector": "spec.image=busybox"})
    assert r.status_code == 400 and r.json()["message"] == "field label not supported: spec.image"

    async with http.stream("GET", CT, params={"watch": "true", "resourceVersion": r.headers.get("x", "0"),
                                              "fieldSelector": "spec.color=green"}) as stream:
        lines = stream.aiter_lines()
        first = json.loads(await anext(lines))
        assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED", "green")
        await http.post(CT, json=crontab("green2", color="green"))
        ev = json.loads(await anext(lines))
        assert (ev["type"], ev["object"]["metadata"]["name"]) == ("ADDED", "green2")

    table = (await http.get(CT, headers={"Accept": TABLE})).json()
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Spec", "Replicas"]
    assert table["rows"][0]["cells"] == ["green", "* * * * */5", None]


async def test_crd_validation_and_name_conflicts(http) -> None:
    bad = copy.deepcopy(CRD)
    bad["metadata"]["name"] = "wrong.stable.example.com"
    bad["spec"]["versions"][0]["storage"] = False
    bad["spec"]["conversion"] = {"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"]}}
    bad["spec"]["versions"][1]["additionalPrinterColumns"] = [{"name": "X", "type": "text", "jsonPath": "spec"}]
    r = await http.post(CRDS, json=bad)
    assert r.status_code == 422
    causes = {c["field"]: c["message"] for c in r.json()["details"]["causes"]}
    assert causes["metadata.name"] == 'Invalid value: "wrong.stable.example.com": must be spec.names.plural+"."+spec.group'
    assert causes["spec.versions"].endswith("must have exactly one version marked as storage version")
    assert causes["spec.conversion.strategy"].startswith("Forbidden: conversion webhooks are not supported by pykube")
    assert causes["spec.versions[1].additionalPrinterColumns[0].type"].startswith('Unsupported value: "text"')
    assert causes["spec.versions[1].additionalPrinterColumns[0].jsonPath"] == \
        'Invalid value: "spec": must be a simple json path starting with .'

    await _create_crd(http)
    await _established(http)
    clash = copy.deepcopy(CRD)
    clash["metadata"]["name"] = "crontables.stable.example.com"
    clash["spec"]["names"] = {"plural": "crontables", "kind": "CronTab", "shortNames": ["ctb"]}
    await _create_crd(http, clash)
    crd = await _established(http, "crontables.stable.example.com")
    conds = {c["type"]: c for c in crd["status"]["conditions"]}
    assert (conds["NamesAccepted"]["status"], conds["NamesAccepted"]["reason"],
            conds["NamesAccepted"]["message"]) == \
        ("False", "ListKindConflict", '"CronTabList" is already in use')   # the last clash checked
    assert conds["Established"]["status"] == "False"
    assert (await http.get("/apis/stable.example.com/v1/namespaces/default/crontables")).status_code == 404


async def test_deleting_the_crd_deletes_its_objects(http, apiserver) -> None:
    await _create_crd(http)
    for n in ("a", "b"):
        assert (await http.post(CT, json=crontab(n))).status_code == 201
    held = crontab("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    await http.post(CT, json=held)
    r = await http.delete(f"{CRDS}/crontabs.stable.example.com")
    assert r.status_code == 200
    crd = r.json()
    assert crd["metadata"]["finalizers"] == ["customresourcecleanup.apiextensions.k8s.io"]
    assert {c["type"]: c["reason"] for c in crd["status"]["conditions"]}["Terminating"] == "InstanceDeletionPending"
    for _ in range(200):      # the held object keeps the CRD, which stays served
        crd = (await http.get(f"{CRDS}/crontabs.stable.example.com")).json()
        if {c["type"]: c["reason"] for c in crd["status"]["conditions"]}["Terminating"] == "InstanceDeletionInProgress":
            break
        await asyncio.sleep(0.02)
    names = [i["metadata"]["name"] for i in (await http.get(CT)).json()["items"]]
    assert names == ["held"]
    r = await http.post(CT, json=crontab("late"))
    assert r.status_code == 405
    assert r.json()["message"] == "create not allowed while custom resource definition is terminating"
    r = await http.patch(f"{CT}/held", headers={"Content-Type": "application/merge-patch+json"},
                         json={"metadata": {"finalizers": None}})
    assert r.status_code == 200
    for _ in range(200):
        if (await http.get(f"{CRDS}/crontabs.stable.example.com")).status_code == 404:
            break
        await asyncio.sleep(0.02)
    assert (await http.get(f"{CRDS}/crontabs.stable.example.com")).status_code == 404
    assert (await http.get(CT)).status_code == 404
    assert (await apiserver.backend.list("/registry/stable.example.com/")).items == []
    assert "stable.example.com" not in [g["name"] for g in (await http.get("/apis")).json()["groups"]]


async def test_served_again_after_restart(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'state.db'}"
    for round_ in (1, 2):
        async with running_apiserver(tmp_path / "data", store=store) as srv:
            ctx = ssl.create_default_context(cafile=str(srv.ca_path))
            async with httpx.AsyncClient(base_url=srv.url, verify=ctx, timeout=10,
                                         headers={"Authorization": f"Bearer {srv.token}"}) as http:
                if round_ == 1:
                    await _create_crd(http)
                    assert (await http.post(CT, json=crontab("kept", replicas=3))).status_code == 201
                else:
                    got = await http.get(f"{CT}/kept")
                    assert got.status_code == 200 and got.json()["spec"]["replicas"] == 3
                    scale = await http.get(f"{CT}/kept/scale")
                    assert scale.json()["spec"]["replicas"] == 3
                    assert "crontabs" in {r["name"] for r in
                                          (await http.get("/apis/stable.example.com/v1")).json()["resources"]}
        # the stopped server serves nothing of it any more
        from api.resources import by_plural
        assert by_plural("stable.example.com", "crontabs") is None


def _custom_objects_session(kubeconfig: str) -> dict[str, Any]:
    """What a user of the official client does with a CRD: create it through
    ApiextensionsV1Api, then custom objects through CustomObjectsApi and the DynamicClient."""
    from kubernetes import client, config, dynamic
    api_client = config.new_client_from_config(config_file=kubeconfig)
    ext = client.ApiextensionsV1Api(api_client)
    ext.create_custom_resource_definition(CRD)
    crd = ext.read_custom_resource_definition("crontabs.stable.example.com")
    co = client.CustomObjectsApi(api_client)
    co.create_namespaced_custom_object("stable.example.com", "v1", "default", "crontabs",
                                       crontab("py", replicas=2))
    co.patch_namespaced_custom_object_status("stable.example.com", "v1", "default", "crontabs", "py",
                                             {"status": {"phase": "Running"}})
    got = co.get_namespaced_custom_object("stable.example.com", "v1", "default", "crontabs", "py")
    try:
        co.create_namespaced_custom_object("stable.example.com", "v1", "default", "crontabs",
                                           crontab("py2", replicas=0))
        refused = None
    except client.ApiException as e:
        refused = (e.status, json.loads(e.body)["details"]["causes"])
    dyn = dynamic.DynamicClient(api_client)
    crontabs = dyn.resources.get(api_version="stable.example.com/v1", kind="CronTab")
    listed = crontabs.get(namespace="default")
    return {"crd_kind": crd.spec.names.kind, "got": got, "refused": refused,
            "listed": [i.metadata.name for i in listed.items], "short": crontabs.short_names}


async def test_official_python_client(apiserver) -> None:
    seen = await asyncio.to_thread(_custom_objects_session, str(apiserver.kubeconfig_path))
    assert seen["crd_kind"] == "CronTab"
    assert seen["got"]["spec"] == {"cronSpec": "* * * * */5", "replicas": 2, "image": "busybox"}
    assert seen["got"]["status"] == {"phase": "Running"}
    assert seen["refused"] == (422, [{"reason": "FieldValueInvalid", "field": "spec.replicas",
                                      "message": "Invalid value: 0: spec.replicas in body should be "
                                                 "greater than or equal to 1"}])
    assert seen["listed"] == ["py"] and seen["short"] == ["ct"]


async def test_deleting_a_namespace_deletes_its_custom_resources(http, apiserver) -> None:
    """The namespace controller finds custom kinds through discovery and empties them too."""
    from client import kubeconfig
    from client.rest import Client
    from controllers.base import SharedInformers
    from controllers.namespace import NamespaceController
    await _create_crd(http)
    await http.post("/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace",
                                                "metadata": {"name": "team"}})
    team = CT.replace("/default/", "/team/")
    assert (await http.post(team, json=crontab("in-team"))).status_code == 201
    client = Client(kubeconfig.load(str(apiserver.kubeconfig_path)), component="test")
    informers = SharedInformers(client)
    controller = NamespaceController(client, informers, requeue_seconds=0.05)
    await informers.start_all()
    task = asyncio.create_task(controller.run())
    try:
        assert (await http.delete("/api/v1/namespaces/team")).status_code == 200
        for _ in range(300):
            if (await http.get("/api/v1/namespaces/team")).status_code == 404:
                break
            await asyncio.sleep(0.02)
        assert (await http.get("/api/v1/namespaces/team")).status_code == 404
        assert (await apiserver.backend.list("/registry/stable.example.com/crontabs/team/")).items == []
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await informers.stop_all()
        await client.close()
