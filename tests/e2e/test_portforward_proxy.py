"""Port-forward and the proxy subresources end to end, as root, with nginx in a Deployment.

`kubectl port-forward` (its WebSocket tunnel of SPDY, and plain SPDY when told) and
`pykubectl port-forward` serve nginx on localhost through pod/x, deploy/x and svc/x; a
refused port ends the command with kubectl's "lost connection to pod"; the Python client's
`portforward()` carries an HTTP exchange; `kubectl proxy` and `pykubectl proxy` serve
`services/my-nginx-svc:80/proxy/` (and the named port, pods/proxy, nodes/proxy with the
kubelet's own endpoints), with kubectl's filter and redirect; the errors name the
missing service or endpoints.
"""
from __future__ import annotations

import asyncio
import json
import re
import select
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from api.resources import resolve
from client.errors import NotFound
from tests.e2e.stream_cluster import (KUBECTL, NGINX, NODE, PYKUBECTL, StreamCluster, node_images,
                                      stream_cluster, wait_for)

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.root]
BINARIES = pytest.mark.parametrize("binary", [KUBECTL, PYKUBECTL], ids=["kubectl", "pykubectl"])
DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx", "namespace": "default"},
              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "nginx"}},
                       "template": {"metadata": {"labels": {"app": "nginx"}},
                                    "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
                                        "name": "nginx", "image": NGINX,
                                        "ports": [{"containerPort": 80, "name": "http"}]}]}}}}
SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "my-nginx-svc", "namespace": "default"},
           "spec": {"selector": {"app": "nginx"}, "ports": [{"name": "web", "port": 80, "targetPort": "http"}]}}
WELCOME = "<title>Welcome to nginx!</title>"


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return node_images(tmp_path_factory, ("pause", "busybox", "nginx"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory, images: Path) -> AsyncIterator[StreamCluster]:
    async with stream_cluster(tmp_path_factory.mktemp("pf-e2e"), images) as c:
        await c.client.create(DEPLOYMENT)
        await c.client.create(SERVICE)

        async def serving() -> bool:
            try:
                eps = await c.client.get(resolve("endpoints"), "my-nginx-svc", namespace="default")
            except NotFound:
                return False
            return any(s.get("addresses") for s in eps.get("subsets") or [])
        await wait_for(serving, 60, "an nginx endpoint", c.node)
        yield c


async def _nginx_pod(c: StreamCluster) -> str:
    pods = await c.client.list_all(resolve("pods"), "default", label_selector="app=nginx")
    return str(pods.items[0]["metadata"]["name"])


def fetch(url: str) -> tuple[int, str, dict[str, str]]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a: object, **k: object) -> None:
            return None
    opener = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as r:
            return r.status, r.read().decode(), {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), {k.lower(): v for k, v in e.headers.items()}


class Background:
    """A long-running kubectl command; `first_line` is what it printed first."""

    def __init__(self, c: StreamCluster, binary: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.argv, self.env = [binary, *args], c.env(**(env or {}))
        self.proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Background:
        self.proc = await asyncio.create_subprocess_exec(*self.argv, env=self.env, stdout=asyncio.subprocess.PIPE,
                                                         stderr=asyncio.subprocess.PIPE)
        assert self.proc.stdout is not None
        self.first_line = (await asyncio.wait_for(self.proc.stdout.readline(), 30)).decode()
        return self

    async def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        assert self.proc is not None
        out, err = await asyncio.wait_for(self.proc.communicate(), timeout)
        return self.proc.returncode or 0, out.decode(), err.decode()

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.communicate()


def _local_port(line: str) -> int:
    m = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> 80$", line.strip())
    assert m, line
    return int(m.group(1))


@pytest.mark.parametrize("binary,target,env", [
    (KUBECTL, "pod", {}), (KUBECTL, "deploy/nginx", {}), (KUBECTL, "svc/my-nginx-svc", {}),
    (KUBECTL, "svc/my-nginx-svc", {"KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"}),
    (PYKUBECTL, "pod", {}), (PYKUBECTL, "deploy/nginx", {}), (PYKUBECTL, "svc/my-nginx-svc", {})],
    ids=["kubectl-pod", "kubectl-deploy", "kubectl-svc", "kubectl-svc-spdy", "pykubectl-pod", "pykubectl-deploy",
         "pykubectl-svc"])
async def test_port_forward_serves_nginx_on_localhost(cluster: StreamCluster, binary: str, target: str,
                                                      env: dict[str, str]) -> None:
    if target == "pod":
        target = f"pod/{await _nginx_pod(cluster)}"
    async with Background(cluster, binary, "port-forward", target, ":80", env=env) as pf:
        port = _local_port(pf.first_line)
        for _ in range(3):      # one forwarded connection each
            code, body, _ = await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/")
            assert code == 200 and WELCOME in body
        v6_code, v6_body, _ = await asyncio.to_thread(fetch, f"http://[::1]:{port}/")
        assert v6_code == 200 and WELCOME in v6_body


@BINARIES
async def test_port_forward_to_a_closed_port_loses_the_connection(cluster: StreamCluster, binary: str) -> None:
    async with Background(cluster, binary, "port-forward", f"pod/{await _nginx_pod(cluster)}", ":8081") as pf:
        port = int(pf.first_line.split(":")[1].split()[0])
        with pytest.raises(OSError):
            await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/")
        code, _, err = await pf.finish()
    assert code == 1
    assert '"An error occurred forwarding"' in err and "connection refused" in err
    assert err.endswith("error: lost connection to pod\n")


def _python_portforward(kubeconfig: str, pod: str) -> bytes:
    from kubernetes import client as k8s, config as k8s_config
    from kubernetes.stream import portforward
    cfg = k8s.Configuration()
    k8s_config.load_kube_config(config_file=kubeconfig, client_configuration=cfg)
    api = k8s.CoreV1Api(k8s.ApiClient(cfg))
    pf = portforward(api.connect_get_namespaced_pod_portforward, pod, "default", ports="80")
    sock = pf.socket(80)
    sock.setblocking(True)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: nginx\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        ready, _, _ = select.select([sock], [], [], 10)
        chunk = sock.recv(65536) if ready else b""
        if not chunk:
            break
        data += chunk
    sock.close()
    pf.close()
    return data


async def test_python_client_portforward(cluster: StreamCluster) -> None:
    data = await asyncio.to_thread(_python_portforward, cluster.kubeconfig, await _nginx_pod(cluster))
    assert data.startswith(b"HTTP/1.1 200 OK") and WELCOME.encode() in data


@BINARIES
async def test_kubectl_proxy_serves_the_service_proxy(cluster: StreamCluster, binary: str) -> None:
    pod = await _nginx_pod(cluster)
    async with Background(cluster, binary, "proxy", "-p", "0") as proxy:
        m = re.match(r"Starting to serve on 127\.0\.0\.1:(\d+)$", proxy.first_line.strip())
        assert m, proxy.first_line
        base = f"http://127.0.0.1:{m.group(1)}"
        for path in ("/api/v1/namespaces/default/services/my-nginx-svc:80/proxy/",
                     "/api/v1/namespaces/default/services/my-nginx-svc:web/proxy/",
                     "/api/v1/namespaces/default/services/http:my-nginx-svc:80/proxy/index.html",
                     f"/api/v1/namespaces/default/pods/{pod}/proxy/", f"/api/v1/namespaces/default/pods/{pod}:80/proxy/"):
            code, body, _ = await asyncio.to_thread(fetch, base + path)
            assert (code, WELCOME in body) == (200, True), (path, code, body[:300])
        code, _, headers = await asyncio.to_thread(fetch, base + "/api/v1/namespaces/default/services/my-nginx-svc:80/proxy")
        assert code == 301 and headers["location"] == "/api/v1/namespaces/default/services/my-nginx-svc:80/proxy/"
        code, body, _ = await asyncio.to_thread(fetch, f"{base}/api/v1/nodes/{NODE}/proxy/pods")
        assert code == 200 and pod in [p["metadata"]["name"] for p in json.loads(body)["items"]]
        code, body, _ = await asyncio.to_thread(fetch, f"{base}/api/v1/nodes/{NODE}/proxy/healthz")
        assert (code, body) == (200, "ok")
        code, body, _ = await asyncio.to_thread(fetch, f"{base}/api/v1/namespaces/default/pods/{pod}/exec?command=ls")
        assert (code, body.strip()) == (403, "Forbidden")            # kubectl proxy's default filter


async def test_proxy_errors_name_what_is_missing(cluster: StreamCluster) -> None:
    await cluster.client.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "empty"},
                                 "spec": {"selector": {"app": "none"}, "ports": [{"port": 80}]}}, namespace="default")
    r = await cluster.kubectl("get", "--raw", "/api/v1/namespaces/default/services/empty:80/proxy/")
    assert (r.returncode, r.stderr) == (
        1, b'Error from server (ServiceUnavailable): no endpoints available for service "empty"\n')
    r = await cluster.kubectl("get", "--raw", "/api/v1/namespaces/default/services/missing/proxy/")
    assert r.returncode == 1 and b'services "missing" not found' in r.stderr, r.stderr
    r = await cluster.kubectl("get", "--raw", "/api/v1/namespaces/default/services/my-nginx-svc:81/proxy/")
    assert r.returncode == 1 and b"no service port 81 found" in r.stderr, r.stderr
