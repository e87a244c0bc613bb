"""`pykubectl logs` and `exec` through the apiserver's pods/{name}/log and exec
subresources, to a stand-in kubelet (fake_kubelet.py) on a Node the test registers."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from api.resources import resolve
from client.rest import Client
from fake_kubelet import fake_kubelet

NODE = resolve("nodes")


@pytest.fixture
async def kubelet(apiserver: Any, api: Client) -> AsyncIterator[int]:
    tls = apiserver.config.data_dir / "server" / "tls"
    async with fake_kubelet(tls / "serving-kube-apiserver.crt", tls / "serving-kube-apiserver.key") as port:
        node = await api.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "fake-node"}})
        node["status"] = {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                          "daemonEndpoints": {"kubeletEndpoint": {"Port": port}}}
        await api.update_status(node)
        yield port


async def make_pod(api: Client, name: str, containers: list[str], labels: dict[str, str] | None = None) -> None:
    await api.create({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": name, "namespace": "default", "labels": labels or {}},
                      "spec": {"containers": [{"name": c, "image": "busybox"} for c in containers]}})
    await api.bind({"metadata": {"name": name, "namespace": "default"}}, "fake-node")


async def test_logs(kubectl: Any, api: Client, kubelet: int) -> None:
    await make_pod(api, "web", ["main"])
    r = await kubectl("logs", "web")
    assert (r.code, r.err) == (0, "")
    assert r.lines == [f"log line {i} from main" for i in range(1, 6)] + ['query: {}']
    r = await kubectl("logs", "pod/web", "--tail=2", "--timestamps", "-f")
    assert r.lines == ["log line 4 from main", "log line 5 from main",
                       'query: {"follow": "true", "tailLines": "2", "timestamps": "true"}']


async def test_logs_picks_a_container(kubectl: Any, api: Client, kubelet: int) -> None:
    await make_pod(api, "two", ["app", "sidecar"], {"app": "two"})
    r = await kubectl("logs", "two", "--tail=1")
    assert r.err == 'Defaulted container "app" out of: app, sidecar\n'
    assert r.lines[0] == "log line 5 from app"
    r = await kubectl("logs", "two", "-c", "sidecar", "--tail=1")
    assert (r.err, r.lines[0]) == ("", "log line 5 from sidecar")
    r = await kubectl("logs", "two", "-c", "nope")
    assert (r.code, r.err) == (1, "error: container nope is not valid for pod two\n")
    r = await kubectl("logs", "two", "--all-containers", "--prefix", "--tail=1")
    assert [line for line in r.lines if "log line" in line] == \
        ["[pod/two/app] log line 5 from app", "[pod/two/sidecar] log line 5 from sidecar"]


async def test_logs_of_a_deployment_uses_one_of_its_pods(kubectl: Any, api: Client, kubelet: int) -> None:
    await kubectl("create", "deployment", "web", "--image=busybox")
    await make_pod(api, "web-abc", ["busybox"], {"app": "web"})
    r = await kubectl("logs", "deploy/web", "--tail=1")
    assert (r.code, r.lines[0]) == (0, "log line 5 from busybox")


async def test_logs_errors(kubectl: Any, api: Client, kubelet: int) -> None:
    r = await kubectl("logs", "nope")
    assert (r.code, r.err) == (1, 'Error from server (NotFound): pods "nope" not found\n')
    await api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "unbound", "namespace": "default"},
                      "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    r = await kubectl("logs", "unbound")
    assert (r.code, r.err) == (1, "Error from server (BadRequest): pod unbound does not have a host assigned\n")


async def test_exec(kubectl: Any, api: Client, kubelet: int) -> None:
    await make_pod(api, "web", ["main"])
    r = await kubectl("exec", "web", "--", "echo", "hello", "world")
    assert (r.code, r.out, r.err) == (0, "hello world\n", "")
    r = await kubectl("exec", "-i", "web", "--", "cat", stdin="line one\nline two\n")
    assert (r.code, r.out) == (0, "line one\nline two\n")
    r = await kubectl("exec", "web", "-c", "main", "--", "fail", "3")
    assert (r.code, r.out, r.err) == (3, "", "oops\ncommand terminated with exit code 3\n")
    r = await kubectl("exec", "nope", "--", "echo")
    assert (r.code, r.err) == (1, 'Error from server (NotFound): pods "nope" not found\n')
