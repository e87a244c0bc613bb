"""Ingress end to end, as root: `pykube server` on real containerd, CNI, iptables and
kube-proxy, its ingress controller programming a real nginx pod in kube-system behind the
LoadBalancer Service `ingress-nginx` (ServiceLB gives it the node's address).

The issue's "Must show": two Deployments (`apple`, `banana`, busybox httpd) behind one
Ingress made with the real `kubectl create ingress`; `curl -H 'Host: fruit.local'
http://<LB address>/apple` and `/banana` answer from the right pods; an unknown host gets
the default backend's 404; a Secret made by `kubectl create secret tls` serves its
certificate for its host (curl verifies it against that certificate); changing the Ingress
reroutes (waited for, the time printed) with no failed request under a small load; an
Ingress whose Service is missing is reported in an Event (`kubectl get events`) while the
other routes keep serving; an HTTPRoute on a Gateway of class `nginx` splits 90/10 between
the two Deployments, measured over 200 requests. The cluster is private to the test (data dir, bridge, CNI
network, ranges, cgroup parent, free ports); `pykube killall` removes it, pass or fail,
and the host is checked for leftovers. kube-proxy's chain names are Kubernetes' fixed
ones, so the test refuses to run while another kube-proxy's chains exist.
"""
from __future__ import annotations

import asyncio
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.host_leftovers import kube_chains, leftovers
from tests.e2e.test_node_basics import Cluster, wait_for
from tests.e2e.test_quickstart import ROUTE_LOCALNET, free_ranges
from tests.support.runtime_node import HOST_DIRS, IP_FORWARD, _drop_empty_table, _table_exists, missing_node_tools

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[2]
PYKUBE = [sys.executable, "-m", "pykube.main"]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if os.geteuid() != 0:
        pytest.skip("needs root (containerd, CNI, iptables)")
    missing = missing_node_tools() + [t for t in ("busybox", "conntrack", "nginx", "curl", "openssl")
                                      if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing on this machine: {missing} (see .ci/run)")
    if kube_chains():
        pytest.skip("another kube-proxy's chains are on this machine; its KUBE-* chains would clash")
    tag = uuid.uuid4().hex[:6]
    short = Path(tempfile.mkdtemp(prefix=f"pki-{tag}-", dir="/tmp"))
    data_dir, bridge, network, cg = short / "data", f"pki{tag}", f"pki-{tag}", f"pykube-i{tag}"
    pods, services = free_ranges()
    forward, localnet = IP_FORWARD.read_text(), ROUTE_LOCALNET.read_text()
    tables_before = {t: _table_exists(t) for t in ("nat", "filter")}
    dirs_before = {d: d.exists() for d in HOST_DIRS}
    log = short / "server.log"
    with log.open("ab") as f:
        proc = subprocess.Popen(
            [*PYKUBE, "server", "-d", str(data_dir), "--secure-port", "0", "--bind-address", "127.0.0.1",
             "--node-name", f"node-{tag}", "--port", "0", "--dns-port", "0",
             "--kube-proxy-arg", "healthz-bind-address=", "--kube-proxy-arg", "metrics-bind-address=",
             "--cni-bridge", bridge, "--cni-network", network, "--cluster-cidr", pods, "--service-cidr", services,
             "--cgroup-parent", f"/{cg}/kubepods"],
            stdout=f, stderr=f, stdin=subprocess.DEVNULL, env=ENV, cwd=REPO)
    c = Cluster(data_dir, f"node-{tag}", log, proc, f"/{cg}/kubepods")
    left: list[str] = []
    try:
        wait_for(lambda: "pykube server ready" in log.read_text(errors="replace"), 90, "the server", c)
        wait_for(lambda: " Ready " in c.kubectl("get", "nodes", "--no-headers", check=False).stdout,
                 90, "the node Ready", c)
        yield c
    finally:
        r = subprocess.run([*PYKUBE, "killall", "-d", str(data_dir)], capture_output=True, text=True,
                           env=ENV, cwd=REPO, timeout=180)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        IP_FORWARD.write_text(forward)
        ROUTE_LOCALNET.write_text(localnet)
        for table, existed in tables_before.items():
            asyncio.run(_drop_empty_table(table, existed))
        for d, existed in dirs_before.items():
            if not existed and d.exists():
                shutil.rmtree(d, ignore_errors=True)
        left = leftovers(data_dir, bridge, network, [pods, services], ["ingress-nginx"], cg)
        if not left:
            shutil.rmtree(short, ignore_errors=True)
    assert r.returncode == 0, r.stderr
    assert left == [] and kube_chains() == set(), f"left behind: {left}; kept {short}"


def fruit(name: str) -> list[dict[str, Any]]:
    labels = {"app": name}
    script = (f"mkdir -p /www && echo {name} $(hostname) > /www/{name} && cp /www/{name} /www/version && "
              "exec httpd -f -p 8080 -h /www")
    return [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
             "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
                 "metadata": {"labels": labels},
                 "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
                     "name": name, "image": "local/busybox:1", "command": ["sh", "-c", script],
                     "ports": [{"containerPort": 8080}],
                     "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}]}}}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
             "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}}]


def curl(*args: str) -> tuple[int, str]:
    """(HTTP status, body without its final newline) of one curl request (0: no answer)."""
    r = subprocess.run(["curl", "-s", "-m", "5", "-w", "\n%{http_code}", *args], capture_output=True, text=True,
                       timeout=10)
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body.removesuffix("\n")


def get(ip: str, host: str, path: str) -> tuple[int, str]:
    return curl("-H", f"Host: {host}", f"http://{ip}{path}")


def plain_get(ip: str, host: str, path: str) -> str:
    """The body of one GET on a new connection (quicker than a curl process, for counting)."""
    conn = http.client.HTTPConnection(ip, 80, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host})
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def settled(ip: str, host: str, path: str, want: tuple[int, str], times: int = 10) -> bool:
    """`times` answers in a row are `want` (nginx's old workers are gone after a reload)."""
    return all(get(ip, host, path) == want for _ in range(times))


def pod_names(c: Cluster, app: str) -> list[str]:
    pods = json.loads(c.kubectl("get", "pods", "-l", f"app={app}", "-o", "json").stdout)["items"]
    return [p["metadata"]["name"] for p in pods]


def test_fruit_ingress(cluster: Cluster, tmp_path: Path) -> None:
    c = cluster
    for obj in fruit("apple") + fruit("banana"):
        c.apply(obj)
    r = c.kubectl("create", "ingress", "fruit", "--rule=fruit.local/apple=apple:80",
                  "--rule=fruit.local/banana=banana:80")
    assert r.stdout == "ingress.networking.k8s.io/fruit created\n"
    for app in ("apple", "banana"):
        wait_for(lambda app=app: c.kubectl("get", "deploy", app, "-o", "jsonpath={.status.readyReplicas}",
                                           check=False).stdout == "1", 90, f"{app} ready", c)

    def address() -> str:
        st = json.loads(c.kubectl("get", "ingress", "fruit", "-o", "json").stdout).get("status") or {}
        return ((st.get("loadBalancer") or {}).get("ingress") or [{}])[0].get("ip", "")
    ip = wait_for(address, 90, "the Ingress's status.loadBalancer address", c)
    svc = json.loads(c.kubectl("get", "svc", "-n", "kube-system", "ingress-nginx", "-o", "json").stdout)
    assert svc["spec"]["type"] == "LoadBalancer" and svc["status"]["loadBalancer"]["ingress"][0]["ip"] == ip
    table = c.kubectl("get", "ingress", "fruit", "--no-headers").stdout.split()
    assert table[:5] == ["fruit", "nginx", "fruit.local", ip, "80"]

    apple, banana = pod_names(c, "apple"), pod_names(c, "banana")
    wait_for(lambda: settled(ip, "fruit.local", "/apple", (200, f"apple {apple[0]}")), 60, "nginx serving /apple", c)
    assert get(ip, "fruit.local", "/banana") == (200, f"banana {banana[0]}")
    assert get(ip, "unknown.example", "/apple") == (404, "default backend - 404")
    assert get(ip, "fruit.local", "/cherry") == (404, "default backend - 404")

    # TLS from a Secret made by `kubectl create secret tls`
    crt, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=fruit.local", "-addext", "subjectAltName=DNS:fruit.local", "-keyout", str(key),
                    "-out", str(crt)], check=True, capture_output=True)
    c.kubectl("create", "secret", "tls", "fruit-tls", f"--cert={crt}", f"--key={key}")
    c.kubectl("patch", "ingress", "fruit", "--type=merge", "-p",
              json.dumps({"spec": {"tls": [{"hosts": ["fruit.local"], "secretName": "fruit-tls"}]}}))

    def https_apple() -> bool:
        return curl("--cacert", str(crt), "--resolve", f"fruit.local:443:{ip}", "https://fruit.local/apple") == (
            200, f"apple {apple[0]}")
    wait_for(https_apple, 30, "HTTPS with the Secret's certificate for fruit.local", c)

    # reroute /apple to banana under a small load: no request fails
    failures: list[Any] = []
    done = threading.Event()
    count = [0]

    def load() -> None:
        while not done.is_set():
            code, body = get(ip, "fruit.local", "/banana")
            count[0] += 1
            if code != 200:
                failures.append((code, body))
    loaders = [threading.Thread(target=load) for _ in range(3)]
    for t in loaders:
        t.start()
    try:
        time.sleep(0.5)    # the load runs before the change too
        start = time.monotonic()
        c.kubectl("patch", "ingress", "fruit", "--type=json", "-p", json.dumps([
            {"op": "replace", "path": "/spec/rules/0/http/paths/0/backend/service/name", "value": "banana"}]))
        # banana's httpd has no /apple file: its own 404 page, not the default backend's
        wait_for(lambda: all(get(ip, "fruit.local", "/apple")[1].startswith("<HTML>") for _ in range(10)), 30,
                 "the reroute", c)
        print(f"rerouted in {time.monotonic() - start:.2f} s (curl's view);",
              [line.split(" ", 2)[1] + " " + line.split(": ", 1)[1] for line in c.log.read_text().splitlines()
               if "ingress:" in line and ("nginx -t" in line or "reloaded" in line)][-2:])
    finally:
        done.set()
        for t in loaders:
            t.join()
    assert failures == [] and count[0] > 10

    # a broken Ingress is reported and the other routes keep serving
    c.kubectl("create", "ingress", "broken", "--rule=broken.local/=missing:80")

    def reported() -> bool:
        ev = c.kubectl("get", "events", "--field-selector", "involvedObject.name=broken", "-o", "json").stdout
        return any(e["reason"] == "BackendNotFound" for e in json.loads(ev)["items"])
    wait_for(reported, 30, "the BackendNotFound event", c)
    wait_for(lambda: get(ip, "broken.local", "/")[0] == 503, 30, "503 for the missing Service", c)
    assert get(ip, "fruit.local", "/banana") == (200, f"banana {banana[0]}")

    # the Gateway API: an HTTPRoute sending 10% of shop.local to banana, 90% to apple
    wait_for(lambda: c.kubectl("get", "gatewayclass", "nginx", check=False).returncode == 0, 30,
             "the Gateway API CRDs and the GatewayClass nginx", c)
    gw = "gateway.networking.k8s.io/v1"
    c.apply({"apiVersion": gw, "kind": "Gateway", "metadata": {"name": "web", "namespace": "default"},
             "spec": {"gatewayClassName": "nginx", "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]}})
    c.apply({"apiVersion": gw, "kind": "HTTPRoute", "metadata": {"name": "shop", "namespace": "default"},
             "spec": {"parentRefs": [{"name": "web"}], "hostnames": ["shop.local"], "rules": [{"backendRefs": [
                 {"name": "apple", "port": 80, "weight": 90}, {"name": "banana", "port": 80, "weight": 10}]}]}})
    wait_for(lambda: all(get(ip, "shop.local", "/version")[0] == 200 for _ in range(10)), 30, "the HTTPRoute", c)
    answers = [plain_get(ip, "shop.local", "/version").split()[0] for _ in range(200)]
    split = {name: answers.count(name) for name in ("apple", "banana")}
    print("HTTPRoute 90/10 over 200 requests:", split)
    assert split["apple"] + split["banana"] == 200 and 14 <= split["banana"] <= 26

    def gateway_address() -> bool:
        st = json.loads(c.kubectl("get", "gateway", "web", "-o", "json").stdout).get("status") or {}
        return st.get("addresses") == [{"type": "IPAddress", "value": ip}]
    wait_for(gateway_address, 30, "the Gateway's address", c)
