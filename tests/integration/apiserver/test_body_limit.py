"""A body over the 3 MiB limit gets its 413 Status in every client, including those that
send the whole body before they read a byte of the answer (Python's urllib, and the
official Python client over urllib3): the apiserver reads and drops the body (up to a
bound) before it answers, so the client is not cut off by a connection reset. Nothing is
stored, and the connection stays usable."""
from __future__ import annotations

import asyncio
import json
import ssl
import urllib.error
import urllib.request
from typing import Any

import httpx

CMS = "/api/v1/namespaces/default/configmaps"
BIG = 4 * 1024 * 1024


def big_configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
            "data": {"blob": "x" * BIG}}


def _urllib_post(url: str, token: str, cafile: str, body: bytes) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=cafile), timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


async def test_urllib_sees_the_413_status(apiserver: Any, http: httpx.AsyncClient) -> None:
    body = json.dumps(big_configmap("huge")).encode()
    code, status = await asyncio.to_thread(_urllib_post, apiserver.url + CMS, apiserver.token,
                                           str(apiserver.ca_path), body)
    assert code == 413
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 413, "RequestEntityTooLarge")
    assert (await http.get(f"{CMS}/huge")).status_code == 404


def _official_client_create(kubeconfig: str) -> Any:
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    api = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="huge"), data={"blob": "x" * BIG})
    try:
        api.create_namespaced_config_map("default", cm)
    except ApiException as e:
        small = api.create_namespaced_config_map(        # the same client goes on working
            "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="small"), data={"a": "b"}))
        return e.status, json.loads(e.body), small.metadata.name
    return None


async def test_official_python_client_sees_the_413_status(apiserver: Any, http: httpx.AsyncClient) -> None:
    got = await asyncio.to_thread(_official_client_create, str(apiserver.kubeconfig_path))
    assert got is not None, "a 4 MiB ConfigMap was accepted"
    code, status, small = got
    assert code == 413 and status["reason"] == "RequestEntityTooLarge" and small == "small"
    assert (await http.get(f"{CMS}/huge")).status_code == 404


async def test_chunked_body_over_the_limit(http: httpx.AsyncClient) -> None:
    async def chunks() -> Any:                  # no Content-Length: the limit is found while reading
        for _ in range(5):
            yield b"x" * (1024 * 1024)
    r = await http.post(CMS, content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["reason"] == "RequestEntityTooLarge"
    r = await http.get(CMS)                     # the same connection answers the next request
    assert r.status_code == 200
