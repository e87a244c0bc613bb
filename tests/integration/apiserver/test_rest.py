"""The REST surface of the apiserver, spoken to with plain HTTP as any client would."""
from __future__ import annotations

import asyncio
import json

import ssl

import httpx

POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "web", "labels": {"app": "web"}},
       "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2",
                                "ports": [{"containerPort": 80}]}]}}
DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"name": "nginx-deployment", "labels": {"app": "nginx"}},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "nginx"}},
                   "template": {"metadata": {"labels": {"app": "nginx"}},
                                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2",
                                                         "ports": [{"containerPort": 80}]}]}}}}
PODS = "/api/v1/namespaces/default/pods"
DEPLOYS = "/apis/apps/v1/namespaces/default/deployments"


async def test_requests_without_a_valid_token_get_401(apiserver, http):
    async with httpx.AsyncClient(base_url=apiserver.url, verify=ssl.create_default_context(cafile=str(apiserver.ca_path))) as anon:
        r = await anon.get(PODS)
        assert r.status_code == 401 and r.json()["reason"] == "Unauthorized"
        r = await anon.get(PODS, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401
        assert (await anon.get("/healthz")).text == "ok"
        assert (await anon.get("/cacerts")).text == apiserver.ca_path.read_text()
    assert (await http.get(PODS)).status_code == 200


async def test_builtin_namespaces_and_kubernetes_service(http):
    names = [n["metadata"]["name"] for n in (await http.get("/api/v1/namespaces")).json()["items"]]
    assert {"default", "kube-system", "kube-public"} <= set(names)
    svc = (await http.get("/api/v1/namespaces/default/services/kubernetes")).json()
    assert svc["spec"]["clusterIP"] == "10.96.0.1"


async def test_create_stamps_metadata_and_defaults(http):
    r = await http.post(PODS, json=POD)
    assert r.status_code == 201, r.text
    pod = r.json()
    meta = pod["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and int(meta["resourceVersion"]) > 0
    assert meta["namespace"] == "default"
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Always" and spec["terminationGracePeriodSeconds"] == 30
    assert spec["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert spec["containers"][0]["ports"][0]["protocol"] == "TCP"
    assert pod["status"]["phase"] == "Pending"
    r = await http.post(PODS, json={**POD, "metadata": {"generateName": "web-"}})
    assert r.status_code == 201 and r.json()["metadata"]["name"].startswith("web-")
    assert len(r.json()["metadata"]["name"]) == len("web-") + 5


async def test_errors_are_status_objects_with_the_right_code(http):
    r = await http.get(f"{PODS}/nope")
    assert r.status_code == 404
    assert r.json()["message"] == 'pods "nope" not found' and r.json()["kind"] == "Status"
    r = await http.get(f"{DEPLOYS}/nope")
    assert r.json()["message"] == 'deployments.apps "nope" not found'
    await http.post(PODS, json=POD)
    r = await http.post(PODS, json=POD)
    assert r.status_code == 409 and r.json()["reason"] == "AlreadyExists"
    bad = json.loads(json.dumps(POD))
    bad["metadata"]["name"] = "Bad_Name"
    r = await http.post(PODS, json=bad)
    assert r.status_code == 422 and r.json()["reason"] == "Invalid"
    assert r.json()["details"]["causes"][0]["field"] == "metadata.name"
    r = await http.post(PODS, content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["reason"] == "BadRequest"
    r = await http.post(PODS, content=b"x" * (3 * 1024 * 1024 + 10), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    r = await http.get("/api/v1/namespaces/default/widgets")
    assert r.status_code == 404
    r = await http.post(PODS, json={**POD, "spec": {"containers": "oops"}})
    assert r.status_code == 422
    # nothing stored was damaged by any of it
    r = await http.get(f"{PODS}/web")
    assert r.status_code == 200 and r.json()["spec"]["containers"][0]["image"] == "nginx:1.14.2"


async def test_yaml_body_and_unknown_field_warning(http):
    body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\nbogus: 1\n"
    r = await http.post("/api/v1/namespaces/default/configmaps", content=body,
                        headers={"Content-Type": "application/yaml"})
    assert r.status_code == 201, r.text
    assert "bogus" in r.headers.get("warning", "")
    assert "bogus" not in r.json()


async def test_update_conflicts_on_stale_resource_version(http):
    pod = (await http.post(PODS, json=POD)).json()
    pod["metadata"]["labels"]["v"] = "1"
    r1 = await http.put(f"{PODS}/web", json=pod)
    assert r1.status_code == 200
    assert int(r1.json()["metadata"]["resourceVersion"]) > int(pod["metadata"]["resourceVersion"])
    pod["metadata"]["labels"]["v"] = "2"
    r2 = await http.put(f"{PODS}/web", json=pod)
    assert r2.status_code == 409 and r2.json()["reason"] == "Conflict"
    assert "the object has been modified" in r2.json()["message"]
    assert (await http.get(f"{PODS}/web")).json()["metadata"]["labels"]["v"] == "1"


async def test_status_subresource_and_generation(http):
    d = (await http.post(DEPLOYS, json=DEPLOY)).json()
    assert d["metadata"]["generation"] == 1
    d["status"] = {"replicas": 7}
    d["metadata"]["labels"]["x"] = "y"
    d = (await http.put(f"{DEPLOYS}/nginx-deployment", json=d)).json()
    assert d["metadata"]["generation"] == 1 and "replicas" not in (d.get("status") or {})
    d["status"] = {"replicas": 2, "observedGeneration": 1}
    d["spec"]["replicas"] = 9
    d = (await http.put(f"{DEPLOYS}/nginx-deployment/status", json=d)).json()
    assert d["status"]["replicas"] == 2 and d["spec"]["replicas"] == 2
    d["spec"]["replicas"] = 3
    d = (await http.put(f"{DEPLOYS}/nginx-deployment", json=d)).json()
    assert d["metadata"]["generation"] == 2 and d["status"]["replicas"] == 2


async def test_patch_types(http):
    await http.post(DEPLOYS, json=DEPLOY)
    url = f"{DEPLOYS}/nginx-deployment"
    r = await http.patch(url, json={"spec": {"replicas": 4}},
                         headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 4
    r = await http.patch(url, json=[{"op": "replace", "path": "/spec/replicas", "value": 5}],
                         headers={"Content-Type": "application/json-patch+json"})
    assert r.json()["spec"]["replicas"] == 5
    smp = {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.16.1"}]}}}}
    r = await http.patch(url, json=smp, headers={"Content-Type": "application/strategic-merge-patch+json"})
    c = r.json()["spec"]["template"]["spec"]["containers"]
    assert len(c) == 1 and c[0]["image"] == "nginx:1.16.1" and c[0]["ports"][0]["containerPort"] == 80
    r = await http.patch(url, json={"spec": {"selector": {"matchLabels": {"app": "other"}}}},
                         headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 422
    r = await http.patch(url, json={"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 1}},
                         headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 409


async def test_list_selectors_and_pagination(http):
    for i in range(7):
        await http.post(PODS, json={**POD, "metadata": {"name": f"p{i}", "labels": {"n": str(i % 2)}}})
    r = await http.get(PODS, params={"labelSelector": "n=1"})
    assert sorted(p["metadata"]["name"] for p in r.json()["items"]) == ["p1", "p3", "p5"]
    r = await http.get(PODS, params={"fieldSelector": "metadata.name=p4"})
    assert [p["metadata"]["name"] for p in r.json()["items"]] == ["p4"]
    seen, cont = [], None
    while True:
        params = {"limit": "3"} | ({"continue": cont} if cont else {})
        page = (await http.get(PODS, params=params)).json()
        seen += [p["metadata"]["name"] for p in page["items"]]
        cont = page["metadata"].get("continue")
        if not cont:
            break
    assert seen == [f"p{i}" for i in range(7)]
    r = await http.get(PODS, params={"labelSelector": "n in (1"})
    assert r.status_code == 400


async def _read_events(resp: httpx.Response, n: int) -> list[dict]:
    out = []
    async for line in resp.aiter_lines():
        if line.strip():
            out.append(json.loads(line))
            if len(out) >= n:
                break
    return out


async def test_watch_from_resource_version_and_selectors(http):
    lst = (await http.get(PODS)).json()
    rv = lst["metadata"]["resourceVersion"]
    await http.post(PODS, json=POD)
    async with http.stream("GET", PODS, params={"watch": "1", "resourceVersion": rv},
                           timeout=10) as resp:
        await http.patch(f"{PODS}/web", json={"metadata": {"labels": {"x": "1"}}},
                         headers={"Content-Type": "application/merge-patch+json"})
        await http.delete(f"{PODS}/web")
        events = await asyncio.wait_for(_read_events(resp, 3), 5)
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert events[1]["object"]["metadata"]["labels"]["x"] == "1"


async def test_watch_list_ends_initial_events_with_a_bookmark(http):
    await http.post(PODS, json=POD)
    params = {"watch": "true", "sendInitialEvents": "true", "allowWatchBookmarks": "true",
              "resourceVersionMatch": "NotOlderThan"}
    async with http.stream("GET", PODS, params=params, timeout=10) as resp:
        events = await asyncio.wait_for(_read_events(resp, 2), 5)
    assert events[0]["type"] == "ADDED"
    assert events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true"


async def test_watch_too_old_gets_410(http, monkeypatch):
    from apiserver import watchcache
    monkeypatch.setattr(watchcache, "HISTORY_SIZE", 3)
    rv = (await http.get(PODS)).json()["metadata"]["resourceVersion"]
    for i in range(6):
        await http.post(PODS, json={**POD, "metadata": {"name": f"w{i}"}})
    await http.get(PODS)
    async with http.stream("GET", PODS, params={"watch": "1", "resourceVersion": rv}) as resp:
        events = await asyncio.wait_for(_read_events(resp, 1), 5)
    assert events[0]["type"] == "ERROR" and events[0]["object"]["code"] == 410


async def test_tables_carry_object_metadata(http):
    await http.post(PODS, json=POD)
    r = await http.get(PODS, headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
    t = r.json()
    assert t["kind"] == "Table"
    assert [c["name"] for c in t["columnDefinitions"]][:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert t["rows"][0]["cells"][:3] == ["web", "0/1", "Pending"]
    assert t["rows"][0]["object"]["metadata"]["labels"] == {"app": "web"}


async def test_discovery_both_forms(http):
    r = await http.get("/apis", headers={"Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"})
    assert r.headers["content-type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    apps = [g for g in r.json()["items"] if g["metadata"]["name"] == "apps"][0]
    deploy = [x for x in apps["versions"][0]["resources"] if x["resource"] == "deployments"][0]
    assert deploy["shortNames"] == ["deploy"] and "all" in deploy["categories"]
    legacy = (await http.get("/apis")).json()
    assert legacy["kind"] == "APIGroupList" and all("preferredVersion" in g for g in legacy["groups"])
    assert any(r["name"] == "pods" for r in (await http.get("/api/v1")).json()["resources"])
    assert (await http.get("/version")).json()["major"] == "1"
    assert "apis/apps/v1" in (await http.get("/openapi/v3")).json()["paths"]
    assert "apiserver_request_total" in (await http.get("/metrics")).text


async def test_delete_semantics(http):
    # an unbound pod goes at once
    await http.post(PODS, json=POD)
    assert (await http.delete(f"{PODS}/web")).status_code == 200
    assert (await http.get(f"{PODS}/web")).status_code == 404
    # a bound pod is only marked for graceful deletion
    await http.post(PODS, json=POD)
    r = await http.post(f"{PODS}/web/binding", json={"apiVersion": "v1", "kind": "Binding",
                                                     "metadata": {"name": "web"}, "target": {"name": "n1"}})
    assert r.status_code == 201
    r = await http.post(f"{PODS}/web/binding", json={"target": {"name": "n2"}})
    assert r.status_code == 409
    pod = (await http.get(f"{PODS}/web")).json()
    assert pod["spec"]["nodeName"] == "n1"
    assert any(c["type"] == "PodScheduled" and c["status"] == "True" for c in pod["status"]["conditions"])
    r = await http.request("DELETE", f"{PODS}/web")
    assert r.json()["metadata"]["deletionTimestamp"] and r.json()["metadata"]["deletionGracePeriodSeconds"] == 30
    assert (await http.get(f"{PODS}/web")).status_code == 200
    await http.request("DELETE", f"{PODS}/web", json={"gracePeriodSeconds": 0})
    assert (await http.get(f"{PODS}/web")).status_code == 404
    # foreground and orphan add their finalizers; removing them deletes the object
    await http.post(DEPLOYS, json=DEPLOY)
    r = await http.request("DELETE", f"{DEPLOYS}/nginx-deployment", json={"propagationPolicy": "Foreground"})
    assert r.json()["metadata"]["finalizers"] == ["foregroundDeletion"]
    await http.patch(f"{DEPLOYS}/nginx-deployment", json={"metadata": {"finalizers": None}},
                     headers={"Content-Type": "application/merge-patch+json"})
    assert (await http.get(f"{DEPLOYS}/nginx-deployment")).status_code == 404
    # preconditions
    d = (await http.post(DEPLOYS, json=DEPLOY)).json()
    r = await http.request("DELETE", f"{DEPLOYS}/nginx-deployment", json={"preconditions": {"uid": "x"}})
    assert r.status_code == 409
    r = await http.request("DELETE", f"{DEPLOYS}/nginx-deployment",
                           json={"preconditions": {"uid": d["metadata"]["uid"]}, "propagationPolicy": "Orphan"})
    assert r.json()["metadata"]["finalizers"] == ["orphan"]


async def test_scale_subresource(http):
    await http.post(DEPLOYS, json=DEPLOY)
    s = (await http.get(f"{DEPLOYS}/nginx-deployment/scale")).json()
    assert s["kind"] == "Scale" and s["spec"]["replicas"] == 2 and s["status"]["selector"] == "app=nginx"
    r = await http.patch(f"{DEPLOYS}/nginx-deployment/scale", json={"spec": {"replicas": 5}},
                         headers={"Content-Type": "application/merge-patch+json"})
    assert r.json()["spec"]["replicas"] == 5
    assert (await http.get(f"{DEPLOYS}/nginx-deployment")).json()["spec"]["replicas"] == 5


async def test_namespaces_missing_or_terminating_refuse_writes(http):
    r = await http.post("/api/v1/namespaces/ghost/pods", json=POD)
    assert r.status_code == 404 and r.json()["message"] == 'namespaces "ghost" not found'
    await http.post("/api/v1/namespaces", json={"metadata": {"name": "team-a"}})
    await http.post("/api/v1/namespaces/team-a/pods", json=POD)
    r = await http.delete("/api/v1/namespaces/team-a")
    assert r.json()["status"]["phase"] == "Terminating"
    r = await http.post("/api/v1/namespaces/team-a/pods", json={**POD, "metadata": {"name": "x"}})
    assert r.status_code == 403 and "being terminated" in r.json()["message"]
    # the namespace controller's last step: finalize removes the namespace
    ns = (await http.get("/api/v1/namespaces/team-a")).json()
    ns["spec"]["finalizers"] = []
    r = await http.put("/api/v1/namespaces/team-a/finalize", json=ns)
    assert r.status_code == 200
    assert (await http.get("/api/v1/namespaces/team-a")).status_code == 404


async def test_cluster_ips_and_node_ports_never_collide(http):
    def svc(i: int, typ: str = "NodePort") -> dict:
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{i}"},
                "spec": {"type": typ, "selector": {"app": "x"}, "ports": [{"port": 80}]}}
    rs = await asyncio.gather(*(http.post("/api/v1/namespaces/default/services", json=svc(i)) for i in range(40)))
    assert all(r.status_code == 201 for r in rs), [r.text for r in rs if r.status_code != 201][:1]
    ips = [r.json()["spec"]["clusterIP"] for r in rs]
    ports = [r.json()["spec"]["ports"][0]["nodePort"] for r in rs]
    assert len(set(ips)) == 40 and "10.96.0.1" not in ips
    assert len(set(ports)) == 40 and all(30000 <= p <= 32767 for p in ports)
    assert all(r.json()["spec"]["ports"][0]["targetPort"] == 80 for r in rs)
    # an explicit IP already taken is refused; released on delete, it can be taken again
    taken = ips[0]
    r = await http.post("/api/v1/namespaces/default/services",
                        json={**svc(99, "ClusterIP"), "spec": {"clusterIP": taken, "ports": [{"port": 80}]}})
    assert r.status_code == 422
    await http.delete("/api/v1/namespaces/default/services/s0")
    r = await http.post("/api/v1/namespaces/default/services",
                        json={**svc(99, "ClusterIP"), "spec": {"clusterIP": taken, "ports": [{"port": 80}]}})
    assert r.status_code == 201
    # clusterIP is immutable
    s = r.json()
    s["spec"]["clusterIP"] = "10.96.77.77"
    r = await http.put("/api/v1/namespaces/default/services/s99", json=s)
    assert r.status_code == 422


async def test_field_selectors_served_from_the_node_and_namespace_indexes(http):
    await http.post("/api/v1/namespaces", json={"metadata": {"name": "other"}})
    for i, node in enumerate(["n1", "n1", "n2", None]):
        await http.post(PODS, json={**POD, "metadata": {"name": f"f{i}"}})
        if node:
            await http.post(f"{PODS}/f{i}/binding", json={"target": {"name": node}})
    await http.post("/api/v1/namespaces/other/pods", json={**POD, "metadata": {"name": "elsewhere"}})
    await http.post("/api/v1/namespaces/other/pods/elsewhere/binding", json={"target": {"name": "n1"}})

    async def names(path: str, sel: str) -> list[str]:
        r = await http.get(path, params={"fieldSelector": sel})
        assert r.status_code == 200, r.text
        return sorted(p["metadata"]["name"] for p in r.json()["items"])
    assert await names("/api/v1/pods", "spec.nodeName=n1") == ["elsewhere", "f0", "f1"]
    assert await names(PODS, "spec.nodeName=n1") == ["f0", "f1"]
    assert await names(PODS, "spec.nodeName=") == ["f3"]
    assert await names("/api/v1/pods", "metadata.namespace=other") == ["elsewhere"]
    pod = (await http.get(f"{PODS}/f2")).json()
    pod["status"]["phase"] = "Running"
    await http.put(f"{PODS}/f2/status", json=pod)
    assert await names(PODS, "status.phase=Running") == ["f2"]
    assert await names(PODS, "status.phase!=Running,spec.nodeName=n1") == ["f0", "f1"]
    # a kubelet's watch sees only its own pods, including one bound after it started
    async with http.stream("GET", "/api/v1/pods", params={
            "watch": "1", "fieldSelector": "spec.nodeName=n2",
            "resourceVersion": pod["metadata"]["resourceVersion"]}) as resp:
        await http.post(PODS, json={**POD, "metadata": {"name": "late"}})
        await http.post(f"{PODS}/late/binding", json={"target": {"name": "n2"}})
        events = await asyncio.wait_for(_read_events(resp, 2), 5)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == \
        [("MODIFIED", "f2"), ("ADDED", "late")]


async def test_watch_bookmarks_and_timeout(http, monkeypatch):
    from apiserver import reads
    monkeypatch.setattr(reads, "BOOKMARK_INTERVAL", 0.2)
    rv = (await http.get(PODS)).json()["metadata"]["resourceVersion"]
    t0 = asyncio.get_running_loop().time()
    async with http.stream("GET", PODS, params={"watch": "1", "resourceVersion": rv,
                                                "allowWatchBookmarks": "true",
                                                "timeoutSeconds": "1"}) as resp:
        lines = [json.loads(line) async for line in resp.aiter_lines() if line.strip()]
    elapsed = asyncio.get_running_loop().time() - t0
    assert 0.9 <= elapsed < 4, elapsed          # the server ended the stream at timeoutSeconds
    assert lines and all(e["type"] == "BOOKMARK" for e in lines)
    assert int(lines[-1]["object"]["metadata"]["resourceVersion"]) >= int(rv)


async def test_serving_certificate_names(tmp_path):
    from cryptography import x509

    from apiserver.tls import cert_sans, ensure_tls
    files = ensure_tls(tmp_path, ["lab.example", "192.0.2.10"])
    sans = cert_sans(files.serving_cert.read_bytes())
    assert {"localhost", "127.0.0.1", "kubernetes.default.svc", "lab.example", "192.0.2.10"} <= sans
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    leaf = x509.load_pem_x509_certificate(files.serving_cert.read_bytes())
    assert leaf.issuer == ca.subject
    # same names: reused; a new --tls-san: re-issued by the same CA, the token kept
    assert ensure_tls(tmp_path, ["lab.example"]).serving_cert.read_bytes() == files.serving_cert.read_bytes()
    again = ensure_tls(tmp_path, ["new.example"])
    assert "new.example" in cert_sans(again.serving_cert.read_bytes())
    assert again.ca_cert.read_bytes() == files.ca_cert.read_bytes() and again.admin_token == files.admin_token


async def test_oversized_body_gets_413_even_for_clients_that_write_before_reading(apiserver):
    """urllib (as the official Python client does) sends its whole 4 MiB body before reading
    the answer: it must read the 413 Status, not a connection reset."""
    import ssl as ssl_mod
    import urllib.error
    import urllib.request

    body = json.dumps({**POD, "metadata": {"name": "big", "annotations": {"x": "y" * (4 * 1024 * 1024)}}}).encode()
    ctx = ssl_mod.create_default_context(cafile=str(apiserver.ca_path))

    def post() -> tuple[int, dict]:
        req = urllib.request.Request(f"{apiserver.url}{PODS}", data=body, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {apiserver.token}"})
        try:
            urllib.request.urlopen(req, context=ctx, timeout=30)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())
        return 200, {}

    code, status = await asyncio.to_thread(post)
    assert code == 413 and status["reason"] == "RequestEntityTooLarge" and status["kind"] == "Status"

    from kubernetes import client as k8s
    cfg = k8s.Configuration()
    cfg.host, cfg.ssl_ca_cert = apiserver.url, str(apiserver.ca_path)
    cfg.api_key = {"authorization": f"Bearer {apiserver.token}"}

    def official() -> int:
        api = k8s.CoreV1Api(k8s.ApiClient(cfg))
        try:
            api.create_namespaced_config_map("default", {"apiVersion": "v1", "kind": "ConfigMap",
                                                         "metadata": {"name": "big"}, "data": {"x": "y" * (4 << 20)}})
        except k8s.exceptions.ApiException as e:
            return int(e.status)
        return 200

    assert await asyncio.to_thread(official) == 413


async def test_delete_collection_answers_the_deleted_list_and_leaves_others(http):
    cms = "/api/v1/namespaces/default/configmaps"
    for name, app in (("a", "x"), ("b", "x"), ("c", "y")):
        r = await http.post(cms, json={"apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": {"name": name, "labels": {"app": app}}, "data": {"k": name}})
        assert r.status_code == 201
    r = await http.delete(cms, params={"labelSelector": "app=x"})
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "ConfigMapList" and body["metadata"]["resourceVersion"]
    assert sorted((i["metadata"]["name"], i["data"]["k"]) for i in body["items"]) == [("a", "a"), ("b", "b")]
    left = [i["metadata"]["name"] for i in (await http.get(cms)).json()["items"]]
    assert "c" in left and "a" not in left and "b" not in left
