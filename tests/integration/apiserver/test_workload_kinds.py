"""The REST surface of DaemonSet, StatefulSet, ControllerRevision, PersistentVolume(Claim),
StorageClass, PodDisruptionBudget and EndpointSlice: defaults and initial status as
kube-apiserver stores them, validation errors in its words, immutable fields, tables, and
discovery."""
from __future__ import annotations

from typing import Any

import httpx

TEMPLATE = {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
                                     "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]}]}}
DS = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
      "spec": {"selector": {"matchLabels": {"app": "web"}},
               "template": {"metadata": {"labels": {"app": "web"}},
                            "spec": {"containers": [{"name": "a", "image": "busybox"}]}}}}
STS = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
       "spec": {"serviceName": "nginx", "replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "template": TEMPLATE,
                "volumeClaimTemplates": [{"metadata": {"name": "www"},
                                          "spec": {"accessModes": ["ReadWriteOnce"],
                                                   "resources": {"requests": {"storage": "1Gi"}}}}]}}
PVC = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
       "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
PV = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv1"},
      "spec": {"capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"],
               "hostPath": {"path": "/tmp/pv1"}}}
APPS = "/apis/apps/v1/namespaces/default"
CORE = "/api/v1/namespaces/default"
TABLE = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}


async def create(http: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await http.post(path, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def test_daemonset_defaults_status_and_selector_immutable(http: httpx.AsyncClient) -> None:
    ds = await create(http, f"{APPS}/daemonsets", DS)
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate",
                                            "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert ds["spec"]["revisionHistoryLimit"] == 10
    assert ds["status"] == {"currentNumberScheduled": 0, "numberMisscheduled": 0,
                            "desiredNumberScheduled": 0, "numberReady": 0}
    assert ds["metadata"]["generation"] == 1
    ds["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    ds["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    r = await http.put(f"{APPS}/daemonsets/agent", json=ds)
    assert r.status_code == 422
    assert "spec.selector: Invalid value" in r.json()["message"] and "field is immutable" in r.json()["message"]
    table = (await http.get(f"{APPS}/daemonsets", headers=TABLE)).json()
    assert [c["name"] for c in table["columnDefinitions"]][:8] == [
        "Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age"]
    assert table["rows"][0]["cells"][:7] == ["agent", 0, 0, 0, 0, 0, "<none>"]


async def test_daemonset_validation_in_kubernetes_words(http: httpx.AsyncClient) -> None:
    bad = {**DS, "spec": {**DS["spec"], "updateStrategy": {"type": "RollingUpdate",
                                                           "rollingUpdate": {"maxUnavailable": 0}},
                          "template": {**DS["spec"]["template"],
                                       "spec": {"restartPolicy": "Never",
                                                "containers": [{"name": "a", "image": "busybox"}]}}}}
    r = await http.post(f"{APPS}/daemonsets", json=bad)
    assert r.status_code == 422
    msg = r.json()["message"]
    assert msg.startswith('DaemonSet.apps "agent" is invalid: [')
    assert "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0" in msg
    assert 'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"' in msg
    assert (await http.get(f"{APPS}/daemonsets/agent")).status_code == 404


async def test_statefulset_defaults_and_forbidden_updates(http: httpx.AsyncClient) -> None:
    sts = await create(http, f"{APPS}/statefulsets", STS)
    spec = sts["spec"]
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert spec["volumeClaimTemplates"][0]["spec"]["volumeMode"] == "Filesystem"
    assert spec["volumeClaimTemplates"][0]["status"] == {"phase": "Pending"}
    assert sts["status"] == {"replicas": 0, "availableReplicas": 0}
    scale = (await http.get(f"{APPS}/statefulsets/web/scale")).json()
    assert scale["spec"]["replicas"] == 3 and scale["status"]["selector"] == "app=web"
    sts["spec"]["serviceName"] = "other"
    r = await http.put(f"{APPS}/statefulsets/web", json=sts)
    assert r.status_code == 422
    assert "spec: Forbidden: updates to statefulset spec for fields other than 'replicas'" in r.json()["message"]
    r = await http.patch(f"{APPS}/statefulsets/web", json={"spec": {"replicas": 5}},
                         headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["metadata"]["generation"] == 2
    table = (await http.get(f"{APPS}/statefulsets", headers=TABLE)).json()
    assert table["rows"][0]["cells"][:2] == ["web", "0/5"]


async def test_statefulset_template_mounting_an_unknown_volume_is_refused(http: httpx.AsyncClient) -> None:
    bad = {**STS, "spec": {**STS["spec"], "volumeClaimTemplates": []}}
    r = await http.post(f"{APPS}/statefulsets", json=bad)
    assert r.status_code == 422
    assert "spec.template.spec.containers[0].volumeMounts[0].name: Not found" in r.json()["message"]


async def test_claims_and_volumes_start_pending_with_protection(http: httpx.AsyncClient) -> None:
    pvc = await create(http, f"{CORE}/persistentvolumeclaims", PVC)
    assert pvc["status"] == {"phase": "Pending"}
    assert pvc["spec"]["volumeMode"] == "Filesystem"
    assert pvc["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    assert "generation" not in pvc["metadata"]
    pv = await create(http, "/api/v1/persistentvolumes", PV)
    assert pv["status"]["phase"] == "Pending" and pv["status"]["lastPhaseTransitionTime"]
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]
    pvc["spec"]["accessModes"] = ["ReadWriteMany"]
    r = await http.put(f"{CORE}/persistentvolumeclaims/data", json=pvc)
    assert r.status_code == 422
    assert "spec: Forbidden: spec is immutable after creation except resources.requests" in r.json()["message"]
    table = (await http.get("/api/v1/persistentvolumes", headers=TABLE)).json()
    assert table["rows"][0]["cells"][:8] == ["pv1", "2Gi", "RWO", "Retain", "Pending", "", "", "<unset>"]


async def test_claim_and_volume_validation(http: httpx.AsyncClient) -> None:
    r = await http.post(f"{CORE}/persistentvolumeclaims",
                        json={**PVC, "spec": {"resources": {"requests": {"storage": "0"}}}})
    assert r.status_code == 422
    msg = r.json()["message"]
    assert "spec.accessModes: Required value: at least 1 access mode is required" in msg
    assert 'spec.resources[storage]: Invalid value: "0": must be greater than zero' in msg
    r = await http.post("/api/v1/persistentvolumes",
                        json={**PV, "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}})
    assert r.status_code == 422
    assert "spec: Required value: must specify a volume type" in r.json()["message"]


async def test_storage_class_defaults_default_marker_and_immutability(http: httpx.AsyncClient) -> None:
    sc = await create(http, "/apis/storage.k8s.io/v1/storageclasses", {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "fast", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "example.com/fast"})
    assert sc["reclaimPolicy"] == "Delete" and sc["volumeBindingMode"] == "Immediate"
    table = (await http.get("/apis/storage.k8s.io/v1/storageclasses", headers=TABLE)).json()
    row = next(r["cells"] for r in table["rows"] if r["object"]["metadata"]["name"] == "fast")
    assert row[:5] == ["fast (default)", "example.com/fast", "Delete", "Immediate", False]
    sc["parameters"] = {"x": "y"}
    r = await http.put("/apis/storage.k8s.io/v1/storageclasses/fast", json=sc)
    assert r.status_code == 422 and "parameters: Forbidden: updates to parameters are forbidden." in r.json()["message"]


async def test_pdb_and_endpointslice(http: httpx.AsyncClient) -> None:
    pdb = await create(http, "/apis/policy/v1/namespaces/default/poddisruptionbudgets", {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}})
    assert pdb["status"] == {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}
    r = await http.post("/apis/policy/v1/namespaces/default/poddisruptionbudgets", json={
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "bad"},
        "spec": {"minAvailable": 1, "maxUnavailable": "120%"}})
    assert r.status_code == 422
    msg = r.json()["message"]
    assert "minAvailable and maxUnavailable cannot be both set" in msg
    assert 'spec.maxUnavailable: Invalid value: "120%": must not be greater than 100%' in msg
    table = (await http.get("/apis/policy/v1/namespaces/default/poddisruptionbudgets", headers=TABLE)).json()
    assert table["rows"][0]["cells"][:4] == ["web", "2", "N/A", 0]
    es = await create(http, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "web-abc"},
        "addressType": "IPv4", "ports": [{"port": 80}],
        "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2"]}]})
    assert es["ports"] == [{"name": "", "protocol": "TCP", "port": 80}]
    table = (await http.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", headers=TABLE)).json()
    row = next(r["cells"] for r in table["rows"] if r["cells"][0] == "web-abc")
    assert row[:4] == ["web-abc", "IPv4", "80", "10.0.0.1,10.0.0.2"]


async def test_discovery_lists_the_new_resources(http: httpx.AsyncClient) -> None:
    apps = {r["name"]: r for r in (await http.get("/apis/apps/v1")).json()["resources"]}
    assert apps["daemonsets"]["shortNames"] == ["ds"] and "all" in apps["daemonsets"]["categories"]
    assert apps["statefulsets/scale"]["kind"] == "Scale" and "controllerrevisions" in apps
    core = {r["name"]: r for r in (await http.get("/api/v1")).json()["resources"]}
    assert core["persistentvolumeclaims"]["shortNames"] == ["pvc"]
    assert core["persistentvolumes"]["namespaced"] is False
    groups = {g["name"] for g in (await http.get("/apis")).json()["groups"]}
    assert {"storage.k8s.io", "policy", "discovery.k8s.io"} <= groups
