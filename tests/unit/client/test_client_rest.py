"""client.rest and client.errors against httpx.MockTransport: typed verbs, error mapping,
list pagination, watch line parsing and stream handling."""
from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from client_fakeapi import FakeAPI, status

from api.models import ConfigMap, Deployment, ObjectMeta, Pod, Scale
from api.resources import resolve
from client import errors
from client.errors import APIError, ConnectionFailed
from client.kubeconfig import ClientConfig
from client.rest import Client
from client.watch import parse_line


def cm(name: str, ns: str = "default", **data: str) -> ConfigMap:
    return ConfigMap(metadata=ObjectMeta(name=name, namespace=ns), data=data or None)


def raw_client(handler: Any, **kw: Any) -> Client:
    return Client(ClientConfig(server="http://fake", token="s3cret"),
                  transport=httpx.MockTransport(handler), **kw)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("code,reason,klass", [
    (400, "BadRequest", errors.BadRequest), (401, "Unauthorized", errors.Unauthorized),
    (403, "Forbidden", errors.Forbidden), (404, "NotFound", errors.NotFound),
    (405, "MethodNotAllowed", errors.MethodNotAllowed),
    (409, "AlreadyExists", errors.AlreadyExists), (409, "Conflict", errors.Conflict),
    (410, "Expired", errors.Gone), (410, "Gone", errors.Gone),
    (415, "UnsupportedMediaType", errors.UnsupportedMediaType),
    (422, "Invalid", errors.Invalid), (429, "TooManyRequests", errors.TooManyRequests),
    (500, "InternalError", errors.ServerError), (503, "", errors.ServerError),
    (409, "", errors.Conflict), (418, "", APIError),
])
def test_error_from_status(code: int, reason: str, klass: type[APIError]) -> None:
    e = APIError.from_response(code, status(code, reason, "boom"))
    assert type(e) is klass
    assert (e.code, e.reason, e.message, str(e)) == (code, reason, "boom", "boom")
    assert isinstance(e, errors.ClientError)


def test_error_from_non_status_body() -> None:
    e = APIError.from_response(502, b"<html>bad gateway</html>")
    assert isinstance(e, errors.ServerError)
    assert e.status["kind"] == "Status" and e.code == 502 and "bad gateway" in e.message
    e = APIError.from_response(404, b"")
    assert isinstance(e, errors.NotFound) and e.reason == "NotFound"


def test_invalid_causes() -> None:
    body = status(422, "Invalid", "bad", causes=[{"field": "spec.replicas",
                                                   "reason": "FieldValueInvalid"}])
    e = APIError.from_response(422, json.dumps(body).encode())
    assert isinstance(e, errors.Invalid) and e.causes[0]["field"] == "spec.replicas"


# ---------------------------------------------------------------- verbs
async def test_headers_user_agent_and_token() -> None:
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, json={"major": "1", "minor": "30"})

    async with raw_client(handler, component="scheduler") as c:
        assert (await c.version())["major"] == "1"
    assert seen[0].headers["user-agent"] == "kube-scheduler/pykube"   # manager kube-scheduler
    assert seen[0].headers["authorization"] == "Bearer s3cret"


async def test_typed_crud_and_error_mapping(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        created = await c.create(cm("a", x="1"))
        assert isinstance(created, ConfigMap) and created.metadata.resource_version
        got = await c.get(ConfigMap, "a", namespace="default")
        assert got.data == {"x": "1"} and got.metadata.uid == created.metadata.uid
        with pytest.raises(errors.AlreadyExists):
            await c.create(cm("a"))
        with pytest.raises(errors.NotFound) as ei:
            await c.get(ConfigMap, "nope")
        assert ei.value.code == 404 and "nope" in ei.value.message
        stale = got.model_copy(deep=True)
        got.data = {"x": "2"}
        updated = await c.update(got)
        assert updated.data == {"x": "2"}
        stale.data = {"x": "3"}
        with pytest.raises(errors.Conflict):
            await c.update(stale)
        patched = await c.patch(ConfigMap, "a", {"data": {"y": "4"}})
        assert patched.data == {"x": "2", "y": "4"}
        assert fake_api.requests[-1].headers["content-type"] == "application/merge-patch+json"
        deleted = await c.delete(ConfigMap, "a", propagation_policy="Background",
                                 grace_period_seconds=0)
        assert deleted["status"] == "Success"
        body = json.loads(fake_api.requests[-1].content)
        assert body == {"kind": "DeleteOptions", "apiVersion": "v1",
                        "propagationPolicy": "Background", "gracePeriodSeconds": 0}
        with pytest.raises(errors.NotFound):
            await c.delete(ConfigMap, "a")


async def test_raw_dicts_with_resource_info(fake_api: FakeAPI) -> None:
    info = resolve("cm")
    async with fake_api.client() as c:
        out = await c.create({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "r", "namespace": "ns1"}})
        assert isinstance(out, dict)
        assert fake_api.requests[-1].url.path == "/api/v1/namespaces/ns1/configmaps"
        assert (await c.get(info, "r", namespace="ns1"))["metadata"]["name"] == "r"
        lst = await c.list(info)
        assert lst.items[0]["kind"] == "ConfigMap" and lst.items[0]["apiVersion"] == "v1"


async def test_update_status_and_patch_types(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        d = await c.create(Deployment.from_dict({"metadata": {"name": "d", "namespace": "x"},
                                                 "spec": {"replicas": 1}}))
        await c.update_status(Deployment.from_dict({**d.to_dict(), "status": {"replicas": 1}}))
        assert fake_api.requests[-1].method == "PUT"
        assert fake_api.requests[-1].url.path == "/apis/apps/v1/namespaces/x/deployments/d/status"
        fake_api.inject("PATCH", 200, {"apiVersion": "autoscaling/v1", "kind": "Scale",
                                       "metadata": {"name": "d"}, "spec": {"replicas": 3}})
        scale = await c.patch_scale(Deployment, "d", 3, namespace="x")
        assert isinstance(scale, Scale) and scale.spec.replicas == 3
        req = fake_api.requests[-1]
        assert req.url.path.endswith("/deployments/d/scale")
        assert json.loads(req.content) == {"spec": {"replicas": 3}}
        fake_api.inject("PATCH", 200, d.to_dict())
        await c.patch(Deployment, "d", [{"op": "replace", "path": "/spec/replicas", "value": 2}],
                      namespace="x", patch_type="json")
        assert fake_api.requests[-1].headers["content-type"] == "application/json-patch+json"
        fake_api.inject("PATCH", 200, d.to_dict())
        await c.patch(Deployment, "d", {"spec": {}}, namespace="x", patch_type="strategic")
        assert (fake_api.requests[-1].headers["content-type"]
                == "application/strategic-merge-patch+json")


async def test_bind(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        pod = await c.create(Pod.from_dict({"metadata": {"name": "p", "namespace": "ns"},
                                            "spec": {"containers": [{"name": "c"}]}}))
        await c.bind(pod, "node-1")
        req = fake_api.requests[-1]
        assert req.url.path == "/api/v1/namespaces/ns/pods/p/binding"
        body = json.loads(req.content)
        assert body["kind"] == "Binding" and body["target"] == {
            "apiVersion": "v1", "kind": "Node", "name": "node-1"}
        assert (await c.get(Pod, "p", namespace="ns")).spec.node_name == "node-1"


async def test_list_pagination(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        for i in range(7):
            await c.create(cm(f"cm{i}", ns="a" if i % 2 else "b"))
        page = await c.list(ConfigMap, limit=3)
        assert len(page.items) == 3 and page.continue_ == "3"
        assert fake_api.requests[-1].url.params["limit"] == "3"
        page2 = await c.list(ConfigMap, limit=3, continue_=page.continue_)
        assert fake_api.requests[-1].url.params["continue"] == "3"
        assert [o.name for o in page.items + page2.items] == ["cm1", "cm3", "cm5",
                                                               "cm0", "cm2", "cm4"]
        everything = await c.list_all(ConfigMap, page_size=3)
        assert sorted(o.name for o in everything.items) == [f"cm{i}" for i in range(7)]
        assert everything.resource_version == page.resource_version
        assert everything.continue_ is None
        only_a = await c.list(ConfigMap, namespace="a")
        assert {o.namespace for o in only_a.items} == {"a"} and len(only_a.items) == 3


async def test_warning_headers() -> None:
    warnings: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json=cm("w").to_dict(),
                              headers=[("Warning", '299 - "unknown field \\"spec.foo\\""')])

    async with raw_client(handler, warning_handler=warnings.append) as c:
        await c.create(cm("w"))
    assert warnings == ['unknown field "spec.foo"']


async def test_transport_error_is_connection_failed() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    async with raw_client(handler) as c:
        with pytest.raises(ConnectionFailed):
            await c.get(ConfigMap, "x")
        with pytest.raises(ConnectionFailed):
            async for _ in c.watch(ConfigMap):
                pass


# ---------------------------------------------------------------- watch
def test_parse_line_typed_and_raw() -> None:
    line = json.dumps({"type": "ADDED", "object": cm("a").to_dict()})
    ev = parse_line(line, ConfigMap)
    assert ev is not None and ev.type == "ADDED" and isinstance(ev.object, ConfigMap)
    ev = parse_line(line.encode())
    assert ev is not None and isinstance(ev.object, dict)
    assert parse_line(b"  ") is None


def test_parse_line_bookmark_for_kind_with_required_fields() -> None:
    line = json.dumps({"type": "BOOKMARK", "object": {
        "kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": "42"},
        "spec": {"containers": None}}})
    ev = parse_line(line, Pod)
    assert ev is not None and ev.type == "BOOKMARK" and ev.resource_version == "42"


def test_parse_line_errors() -> None:
    gone = json.dumps({"type": "ERROR", "object": status(410, "Expired", "too old")})
    with pytest.raises(errors.Gone):
        parse_line(gone, ConfigMap)
    with pytest.raises(errors.ServerError):
        parse_line(json.dumps({"type": "ERROR", "object": status(500, "InternalError")}))
    with pytest.raises(ValueError):
        parse_line(b'{"kind": "Status"}')
    with pytest.raises(ValueError):
        parse_line(b"not json")


async def test_watch_lines_split_across_chunks() -> None:
    events = [{"type": "ADDED", "object": cm(f"c{i}").to_dict()} for i in range(3)]
    events.append({"type": "BOOKMARK", "object": {"kind": "ConfigMap", "apiVersion": "v1",
                                                  "metadata": {"resourceVersion": "9"}}})
    data = b"".join(json.dumps(e).encode() + b"\n" for e in events)
    seen: list[httpx.Request] = []

    async def chunks() -> Any:
        for i in range(0, len(data), 7):
            yield data[i:i + 7]

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, content=chunks())

    async with raw_client(handler) as c:
        got = [ev async for ev in c.watch(ConfigMap, "default", resource_version="5",
                                          timeout_seconds=30)]
    assert [e.type for e in got] == ["ADDED"] * 3 + ["BOOKMARK"]
    assert [e.object.name for e in got[:3]] == ["c0", "c1", "c2"]
    assert got[3].resource_version == "9"
    params = seen[0].url.params
    assert (params["watch"], params["resourceVersion"], params["allowWatchBookmarks"],
            params["timeoutSeconds"]) == ("1", "5", "true", "30")
    assert seen[0].url.path == "/api/v1/namespaces/default/configmaps"


async def test_watch_stream_replay_cut_and_gone(fake_api: FakeAPI) -> None:
    async with fake_api.client() as c:
        first = await c.create(cm("a"))
        await c.create(cm("b"))
        stream = c.watch(ConfigMap, resource_version=first.metadata.resource_version)
        ev = await stream.__anext__()
        assert (ev.type, ev.object.name) == ("ADDED", "b")
        await c.delete(ConfigMap, "b")
        ev = await stream.__anext__()
        assert (ev.type, ev.object.name) == ("DELETED", "b")
        fake_api.cut_watches()
        with pytest.raises(ConnectionFailed):
            await stream.__anext__()
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()
        fake_api.compact()
        with pytest.raises(errors.Gone):
            async for _ in c.watch(ConfigMap, resource_version=first.metadata.resource_version):
                pass


async def test_watch_http_error() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json=status(403, "Forbidden", "no"))

    async with raw_client(handler) as c:
        with pytest.raises(errors.Forbidden):
            async with c.watch(ConfigMap) as w:
                async for _ in w:
                    pass
