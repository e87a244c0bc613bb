"""Requests the API fuzzer (tests/fuzz) found answered with a 500: each now gets its 4xx
Status, and nothing stored changes (the store's revision stays where it was)."""
from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

NS = "/api/v1/namespaces/default"
DEPLOY = "/apis/apps/v1/namespaces/default/deployments"
CONTAINERS = [{"name": "c", "image": "busybox"}]
DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "spec": {"selector": {"matchLabels": {"app": "web"}},
                       "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": CONTAINERS}}}}

CASES: list[tuple[str, str, str, Any, str, int]] = [
    # method, path, query, body, content type, code
    ("POST", f"{NS}/configmaps", "", {}, "application/json", 422),                       # no name
    ("GET", f"{NS}/configmaps", "limit=false", None, "", 400),
    ("GET", f"{NS}/configmaps", "limit=-5", None, "", 200),                               # no limit, as Kubernetes
    ("DELETE", f"{NS}/configmaps/seed", "", {"gracePeriodSeconds": {"a": 1}}, "application/json", 400),
    ("DELETE", f"{NS}/configmaps/seed", "gracePeriodSeconds=soon", None, "", 400),
    ("DELETE", f"{NS}/configmaps/seed", "", {"preconditions": [1]}, "application/json", 400),
    ("PUT", f"{NS}/configmaps/seed", "", {"metadata": True}, "application/json", 422),
    ("PATCH", f"{DEPLOY}/web/scale", "", {"a": 1}, "application/json-patch+json", 400),
    ("PATCH", f"{DEPLOY}/web/scale", "", [{"op": "zz"}], "application/json-patch+json", 422),
    ("PATCH", f"{DEPLOY}/web/scale", "", {"spec": 5}, "application/merge-patch+json", 422),
    ("PUT", f"{DEPLOY}/web/scale", "", {"metadata": 5, "spec": []}, "application/json", 422),
    ("POST", f"{NS}/serviceaccounts/default/token", "", {"spec": [1]}, "application/json", 400),
    ("POST", f"{NS}/serviceaccounts/default/token", "", {"spec": {"boundObjectRef": "pod"}}, "application/json", 400),
    ("POST", f"{NS}/replicationcontrollers", "", {
        "metadata": {"name": "rc"}, "spec": {"selector": {"ü": "a"}, "template": {
            "metadata": {"labels": {"ü": "a"}}, "spec": {"containers": CONTAINERS}}}}, "application/json", 422),
]


async def _revision(http: httpx.AsyncClient) -> str:
    return str((await http.get("/api/v1/namespaces", params={"limit": "1"})).json()["metadata"]["resourceVersion"])


@pytest.mark.parametrize(("method", "path", "query", "body", "ctype", "code"), CASES)
async def test_bad_request_gets_its_status_and_stores_nothing(http: httpx.AsyncClient, method: str, path: str,
                                                              query: str, body: Any, ctype: str, code: int) -> None:
    assert (await http.post(DEPLOY, json=DEPLOYMENT)).status_code == 201
    assert (await http.post(f"{NS}/configmaps", json={"metadata": {"name": "seed"}})).status_code == 201
    before = await _revision(http)
    r = await http.request(method, path + (f"?{query}" if query else ""),
                           content=None if body is None else json.dumps(body).encode(),
                           headers={"Content-Type": ctype} if ctype else {})
    assert r.status_code == code, r.text
    if code >= 400:
        status = r.json()
        assert (status["kind"], status["code"], status["status"]) == ("Status", code, "Failure"), status
    assert await _revision(http) == before


async def test_warning_header_carries_any_field_name(http: httpx.AsyncClient) -> None:
    """An unknown field whose name a header cannot carry as is (past Latin-1) is still named
    in the Warning, escaped."""
    r = await http.post(f"{NS}/configmaps?fieldValidation=Warn", json={"metadata": {"name": "w"}, "\U0002584f": 1})
    assert r.status_code == 201
    assert "\\U0002584f" in r.headers["warning"]


@pytest.mark.parametrize(("body", "code"), [({"spec": 154238}, 400), ({"spec": "x"}, 400),
                                            ({"spec": {"finalizers": [1]}}, 422)])
async def test_namespace_finalize_with_a_bad_spec(http: httpx.AsyncClient, body: Any, code: int) -> None:
    before = await _revision(http)
    r = await http.put("/api/v1/namespaces/default/finalize", json={"metadata": {"name": "default"}, **body})
    assert (r.status_code, r.json()["kind"]) == (code, "Status"), r.text
    assert await _revision(http) == before


@pytest.mark.parametrize("target", [799636071850, {"name": 5}, "node-1"])
async def test_binding_with_a_bad_target(http: httpx.AsyncClient, target: Any) -> None:
    pod = {"metadata": {"name": "p"}, "spec": {"containers": CONTAINERS}}
    assert (await http.post(f"{NS}/pods", json=pod)).status_code == 201
    before = await _revision(http)
    r = await http.post(f"{NS}/pods/p/binding", json={"metadata": {"name": "p"}, "target": target})
    assert 400 <= r.status_code < 500 and r.json()["kind"] == "Status", r.text
    assert await _revision(http) == before
