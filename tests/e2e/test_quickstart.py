"""The quickstart end to end, as CI runs it on a fresh machine: `make up`, the nginx page
through the Service's LoadBalancer address and its ClusterIP, `make up` again (harmless),
`make down`, and nothing left behind (process, shim, bridge, iptables rule, route, mount,
cgroup). Once on the default sqlite store, once on a real etcd the test starts.

The cluster is private to the test so it cannot disturb one already on the machine: its
own short data dir under /tmp (containerd's socket path must stay short), unit name,
bridge, CNI network, pod and service ranges and cgroup parent; 6443 only when free;
kubelet, DNS and kube-proxy health/metrics on no fixed port. kube-proxy's chain names are
Kubernetes' fixed ones, so the test is skipped while another kube-proxy's chains exist.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.host_leftovers import kube_chains, leftovers, sh
from tests.support.runtime_node import (HOST_DIRS, IP_FORWARD, _drop_empty_table, _table_exists,
                                        missing_node_tools)

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[2]
PYKUBECTL = REPO / ".venv" / "bin" / "pykubectl"
NEEDED = ["make", "umoci", "nginx", "busybox", "conntrack"]
ROUTE_LOCALNET = Path("/proc/sys/net/ipv4/conf/all/route_localnet")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
            return True
        except OSError:
            return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ranges() -> tuple[str, str]:
    """An unused 10.x.0.0/16 for pods and another for services."""
    used = sh("ip", "-4", "-o", "addr") + sh("ip", "-4", "route") + sh("iptables-save")
    picks = [x for x in random.sample(range(60, 250), 190) if f"10.{x}." not in used]
    return f"10.{picks[0]}.0.0/16", f"10.{picks[1]}.0.0/16"


@dataclass
class Cluster:
    data_dir: Path
    unit: str
    bridge: str
    network: str
    pod_cidr: str
    service_cidr: str
    cgroup: str
    port: int
    datastore: str | None

    def make_vars(self) -> list[str]:
        args = [f"--cni-bridge {self.bridge}", f"--cni-network {self.network}",
                f"--cluster-cidr {self.pod_cidr}", f"--service-cidr {self.service_cidr}",
                f"--cgroup-parent /{self.cgroup}/kubepods", "--port 0", "--dns-port 0",
                "--kube-proxy-arg healthz-bind-address=", "--kube-proxy-arg metrics-bind-address="]
        if self.datastore:
            args.append(f"--datastore-endpoint {self.datastore}")
        return [f"DATA_DIR={self.data_dir}", f"PORT={self.port}", f"UNIT={self.unit}",
                f"SERVER_ARGS={' '.join(args)}"]

    def make(self, target: str, *extra: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["make", "--no-print-directory", target, *self.make_vars(), *extra], cwd=REPO,
                              capture_output=True, text=True, timeout=timeout)

    def kubectl(self, *args: str) -> str:
        return subprocess.run([str(PYKUBECTL), "--kubeconfig", str(self.data_dir / "admin.kubeconfig"), *args],
                              capture_output=True, text=True, check=True, timeout=60).stdout

    def leftovers(self) -> list[str]:
        return leftovers(self.data_dir, self.bridge, self.network, [self.pod_cidr, self.service_cidr],
                         ["my-nginx-svc"], self.cgroup)


@pytest.fixture(scope="module")
def host() -> Iterator[None]:
    if os.geteuid() != 0:
        pytest.skip("the quickstart needs root (containerd, CNI, iptables)")
    missing = missing_node_tools() + [t for t in NEEDED if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing on this machine: {missing} (see .ci/run)")
    if not PYKUBECTL.exists():
        pytest.skip("no .venv (make venv)")
    if kube_chains():
        pytest.skip("another kube-proxy's chains are on this machine; its KUBE-* chains would clash")
    forward = IP_FORWARD.read_text()
    localnet = ROUTE_LOCALNET.read_text()   # kube-proxy sets it for NodePorts on 127.0.0.1
    tables_before = {t: _table_exists(t) for t in ("nat", "filter")}
    dirs_before = {d: d.exists() for d in HOST_DIRS}
    try:
        yield
    finally:
        IP_FORWARD.write_text(forward)
        ROUTE_LOCALNET.write_text(localnet)
        import asyncio
        for table, existed in tables_before.items():
            asyncio.run(_drop_empty_table(table, existed))
        for d, existed in dirs_before.items():   # containerd's and libcni's host dirs
            if not existed and d.exists():
                shutil.rmtree(d, ignore_errors=True)


def new_cluster(datastore: str | None) -> Cluster:
    tag = uuid.uuid4().hex[:6]
    pods, services = free_ranges()
    return Cluster(data_dir=Path(tempfile.mkdtemp(prefix=f"pkqs-{tag}-", dir="/tmp")), unit=f"pykube-e2e-{tag}",
                   bridge=f"pkq{tag}", network=f"pkq-{tag}", pod_cidr=pods, service_cidr=services,
                   cgroup=f"pykube-q{tag}", port=6443 if port_free(6443) else free_port(), datastore=datastore)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def run_quickstart(c: Cluster, read_api_from_pod: bool = False) -> None:
    try:
        up = c.make("up")
        assert up.returncode == 0, f"make up failed:\n{up.stdout[-6000:]}\n{up.stderr[-3000:]}\n" + _log(c)
        assert up.stdout.count("<title>Welcome to nginx!</title>") == 2, up.stdout[-4000:]
        assert "pykubectl get all -o wide" in up.stdout and "deployment.apps/nginx-deployment" in up.stdout
        assert "rolled out" in up.stdout
        if c.datastore:
            assert not (c.data_dir / "server" / "db" / "state.db").exists()
            assert f"store {c.datastore}" in _whole_log(c), _log(c)   # near the log's start

        svc = json.loads(c.kubectl("get", "svc", "my-nginx-svc", "-o", "json"))
        lb_ip = svc["status"]["loadBalancer"]["ingress"][0]["ip"]
        cluster_ip = svc["spec"]["clusterIP"]
        assert cluster_ip.startswith(c.service_cidr.split(".0.0/")[0] + ".")
        for ip in (lb_ip, cluster_ip):
            assert "Welcome to nginx!" in fetch(f"http://{ip}:80/")
        nodes = c.kubectl("get", "nodes", "--no-headers")
        assert " Ready " in nodes, nodes
        if read_api_from_pod:
            pod_reads_the_api(c)

        again = c.make("up")
        assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-2000:]
        assert "is running" in again.stdout and "unchanged" in again.stdout

        down = c.make("down")
        assert down.returncode == 0, down.stdout[-4000:] + down.stderr[-4000:]
        assert c.leftovers() == []
        assert kube_chains() == set()
        assert (c.data_dir / "admin.kubeconfig").exists()          # the data dir stays unless PURGE=1
    finally:
        if c.leftovers() or (c.data_dir / "run" / "server.pid").exists():
            c.make("down", timeout=180)
        if not c.leftovers():
            purge = c.make("down", "PURGE=1", timeout=180)
            assert purge.returncode == 0, purge.stderr[-2000:]
            assert not c.data_dir.exists()


SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
READ_PODS = (f'curl -sS --cacert {SA_DIR}/ca.crt -H "Authorization: Bearer $(cat {SA_DIR}/token)" '
             f'https://kubernetes.default.svc/api/v1/namespaces/$(cat {SA_DIR}/namespace)/pods')


def pod_reads_the_api(c: Cluster) -> None:
    """A pod calls the API as in-cluster clients do: `kubernetes.default.svc` through the
    cluster DNS and the `kubernetes` Service's ClusterIP (kube-proxy's DNAT to the apiserver's
    advertise address), TLS checked against the mounted `ca.crt`, the mounted projected token
    as its bearer. Without RBAC the token is authenticated (the 403 names the ServiceAccount);
    with a RoleBinding to `view` the same call lists the pods. The image holds curl, built on
    the node from the host's files on first use (kubelet/images/builder.py)."""
    def run_pod(name: str) -> str:
        c.kubectl("run", name, "--image=local/curl:1", "--restart=Never", "--command", "--",
                  "sh", "-c", READ_PODS)
        c.kubectl("wait", f"pod/{name}", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=120s")
        return c.kubectl("logs", name)

    denied = json.loads(run_pod("api-reader"))
    assert denied["kind"] == "Status" and denied["code"] == 403, denied
    assert "system:serviceaccount:default:default" in denied["message"], denied
    binding = c.data_dir / "api-reader-binding.json"
    binding.write_text(json.dumps({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "api-reader", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}]}))
    c.kubectl("apply", "-f", str(binding))
    listed = json.loads(run_pod("api-reader-2"))
    assert listed["kind"] == "PodList", listed
    assert {"api-reader", "api-reader-2"} <= {p["metadata"]["name"] for p in listed["items"]}
    c.kubectl("delete", "pod", "api-reader", "api-reader-2", "--wait=false")
    c.kubectl("delete", "rolebinding", "api-reader")


def _whole_log(c: Cluster) -> str:
    log = c.data_dir / "logs" / "server.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    if not text and Path("/run/systemd/system").is_dir():
        text = sh("journalctl", "-u", c.unit, "--no-pager")
    return text


def _log(c: Cluster) -> str:
    log = c.data_dir / "logs" / "server.log"
    text = log.read_text(errors="replace")[-6000:] if log.exists() else ""
    if not text and Path("/run/systemd/system").is_dir():
        text = sh("journalctl", "-u", c.unit, "-n", "100", "--no-pager")
    return f"--- server log ---\n{text}"


def test_quickstart_on_sqlite(host: None) -> None:
    c = new_cluster(None)
    run_quickstart(c, read_api_from_pod=True)


def test_quickstart_on_etcd(host: None, tmp_path: Path) -> None:
    if shutil.which("etcd") is None:
        pytest.skip("etcd is not installed (Debian package etcd-server)")
    from apiserver.storage.etcd_server import EtcdServer
    with EtcdServer(tmp_path / "etcd") as etcd:
        c = new_cluster(etcd.url)
        run_quickstart(c)
