"""A node that works on its own, as root: `pykube server` on a fresh data dir, nothing built
beforehand, real containerd, CNI and busybox pods.

One `pykube server` process (sqlite, free ports, its own bridge, CNI network, pod and service
ranges, cgroup parent; kube-proxy off, so no KUBE-* chain of another cluster can clash) and
the issue's "Must show":
- the kubelet builds the sandbox image and busybox from the node's files (no `make up`, no
  registry) and runs a busybox pod;
- `kubectl describe pod` shows Scheduled, Pulled, Created, Started for a healthy pod and
  Pulling, Failed, BackOff for a pod whose image no registry serves;
- `kubectl logs --previous` shows the last crashed container's output;
- `kubectl top nodes|pods [--containers]`, `pykubectl top` and the Python client read the
  metrics API; a pod running a busy loop uses about one core.
Every check runs with the real kubectl and with pykubectl. `pykube killall` removes the
cluster afterwards, pass or fail, and the host is checked for leftovers.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.host_leftovers import leftovers
from tests.e2e.test_quickstart import free_ranges
from tests.support.runtime_node import HOST_DIRS, IP_FORWARD, _drop_empty_table, _table_exists, missing_node_tools

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[2]
PYKUBE = [sys.executable, "-m", "pykube.main"]
KUBECTL = str(Path(sys.executable).parent / "kubectl")
PYKUBECTL = str(Path(sys.executable).parent / "pykubectl")
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
BUSYBOX = "local/busybox:1"


@dataclass
class Cluster:
    data_dir: Path
    node: str
    log: Path
    proc: subprocess.Popen[bytes]
    cgroup_parent: str

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "admin.kubeconfig"

    def run(self, binary: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        r = subprocess.run([binary, "--kubeconfig", str(self.kubeconfig), *args], capture_output=True,
                           text=True, timeout=60)
        if check:
            assert r.returncode == 0, f"{binary} {' '.join(args)}: {r.stderr}\n{self.tail()}"
        return r

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(KUBECTL, *args, check=check)

    def apply(self, obj: dict[str, Any]) -> None:
        r = subprocess.run([KUBECTL, "--kubeconfig", str(self.kubeconfig), "apply", "-f", "-"],
                           input=json.dumps(obj), capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr

    def pod(self, name: str) -> dict[str, Any]:
        return json.loads(self.kubectl("get", "pod", name, "-o", "json").stdout)

    def tail(self, n: int = 4000) -> str:
        return "--- server log ---\n" + self.log.read_text(errors="replace")[-n:]


def wait_for(check: Callable[[], Any], timeout: float, what: str, cluster: Cluster | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if cluster is not None and cluster.proc.poll() is not None:
            raise AssertionError(f"pykube server exited while waiting for {what}\n{cluster.tail()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n" + (cluster.tail() if cluster else ""))
        time.sleep(0.2)


def busybox_pod(name: str, script: str, image: str = BUSYBOX, **container: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "main", "image": image, "command": ["sh", "-c", script],
                                     **container}]}}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if os.geteuid() != 0:
        pytest.skip("needs root (containerd, CNI, iptables)")
    missing = missing_node_tools() + [t for t in ("busybox", "conntrack") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing on this machine: {missing} (see .ci/run)")
    tag = uuid.uuid4().hex[:6]
    short = Path(tempfile.mkdtemp(prefix=f"pkn-{tag}-", dir="/tmp"))   # containerd's socket path stays short
    data_dir, bridge, network, cg = short / "data", f"pkn{tag}", f"pkn-{tag}", f"pykube-n{tag}"
    pods, services = free_ranges()
    forward = IP_FORWARD.read_text()
    tables_before = {t: _table_exists(t) for t in ("nat", "filter")}
    dirs_before = {d: d.exists() for d in HOST_DIRS}
    log = short / "server.log"
    with log.open("ab") as f:
        proc = subprocess.Popen(
            [*PYKUBE, "server", "-d", str(data_dir), "--secure-port", "0", "--bind-address", "127.0.0.1",
             "--node-name", f"node-{tag}", "--port", "0", "--dns-port", "0", "--disable-proxy",
             "--cni-bridge", bridge, "--cni-network", network, "--cluster-cidr", pods, "--service-cidr", services,
             "--cgroup-parent", f"/{cg}/kubepods", "--crashloop-backoff-base", "1", "--metric-resolution", "2"],
            stdout=f, stderr=f, stdin=subprocess.DEVNULL, env=ENV, cwd=REPO)
    c = Cluster(data_dir, f"node-{tag}", log, proc, f"/{cg}/kubepods")
    left: list[str] = []
    try:
        assert not (data_dir / "agent" / "images").exists()
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
        for table, existed in tables_before.items():
            asyncio.run(_drop_empty_table(table, existed))
        for d, existed in dirs_before.items():   # containerd's and libcni's host dirs
            if not existed and d.exists():
                shutil.rmtree(d, ignore_errors=True)
        left = leftovers(data_dir, bridge, network, [pods, services], [], cg)
        if not left:
            shutil.rmtree(short, ignore_errors=True)
    assert r.returncode == 0, r.stderr
    assert left == [], f"left behind: {left}; kept {short}"


def test_fresh_server_builds_its_images_and_runs_busybox(cluster: Cluster) -> None:
    cluster.apply(busybox_pod("hello", "echo hello from $(hostname); sleep 3600"))
    wait_for(lambda: cluster.pod("hello")["status"].get("phase") == "Running", 90, "hello Running", cluster)
    logs = cluster.kubectl("logs", "hello")
    assert logs.stdout == "hello from hello\n"
    images = cluster.data_dir / "agent" / "images"
    assert (images / "pause.tar").is_file() and (images / "busybox.tar").is_file()   # built on the node
    assert not (images / "nginx.tar").exists()                                        # only what was asked for
    assert "built docker.io/local/pause:1" in cluster.log.read_text(errors="replace")


def event_rows(describe: str) -> list[tuple[str, str, str, str]]:
    """(type, reason, from, message) of the Events table `describe` prints (columns found
    from the header line, since the Age column may read `5s (x2 over 9s)`)."""
    if "\nEvents:\n" not in describe:
        return []
    lines = describe.split("\nEvents:\n", 1)[1].splitlines()
    header = lines[0]
    cols = [header.index(h) for h in ("Type", "Reason", "Age", "From", "Message")]
    rows = []
    for line in lines[2:]:
        if not line.startswith("  ") or not line.strip():
            break
        cut = [line[a:b].strip() for a, b in zip(cols, cols[1:] + [len(line)])]
        rows.append((cut[0], cut[1], cut[3], cut[4]))
    return rows


def test_describe_shows_the_kubelets_events(cluster: Cluster) -> None:
    cluster.apply(busybox_pod("events-ok", "sleep 3600"))
    wait_for(lambda: cluster.pod("events-ok")["status"].get("phase") == "Running", 60, "events-ok Running", cluster)
    # 127.0.0.1:1 refuses at once: an image no registry serves, without naming a registry
    cluster.apply(busybox_pod("bad-image", "true", image="127.0.0.1:1/nothing:1"))

    def reasons(name: str, binary: str = KUBECTL) -> set[str]:
        return {r[1] for r in event_rows(cluster.run(binary, "describe", "pod", name).stdout)}
    want_ok = {"Scheduled", "Pulled", "Created", "Started"}
    wait_for(lambda: want_ok <= reasons("events-ok"), 30, "the healthy pod's events", cluster)
    want_bad = {"Scheduled", "Pulling", "Failed", "BackOff"}
    wait_for(lambda: want_bad <= reasons("bad-image"), 60, "the bad image's events", cluster)
    c = "spec.containers{main}: "   # kubectl prints the event's fieldPath before its message
    for binary in (KUBECTL, PYKUBECTL):
        ok = event_rows(cluster.run(binary, "describe", "pod", "events-ok").stdout)
        assert ("Normal", "Started", "kubelet", c + "Started container main") in ok, ok
        assert ("Normal", "Created", "kubelet", c + "Created container: main") in ok, ok
        assert ("Normal", "Pulled", "kubelet", c + f'Container image "{BUSYBOX}" already present on machine') in ok
        bad = event_rows(cluster.run(binary, "describe", "pod", "bad-image").stdout)
        messages = {(t, r): m for t, r, _, m in bad}
        assert messages[("Normal", "Pulling")] == c + 'Pulling image "127.0.0.1:1/nothing:1"', bad
        failed = [m for t, r, _, m in bad if (t, r) == ("Warning", "Failed")]
        assert any(m.startswith(c + 'Failed to pull image "127.0.0.1:1/nothing:1": ') for m in failed), bad
        assert c + "Error: ErrImagePull" in failed, bad
        assert messages[("Normal", "BackOff")] == c + 'Back-off pulling image "127.0.0.1:1/nothing:1"', bad
    waiting = cluster.pod("bad-image")["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
    assert waiting in ("ErrImagePull", "ImagePullBackOff")
    # the events name the container, as a kubelet's do
    events = json.loads(cluster.kubectl("get", "events", "--field-selector", "involvedObject.name=events-ok",
                                        "-o", "json").stdout)["items"]
    started = [e for e in events if e["reason"] == "Started"]
    assert started and started[0]["involvedObject"]["fieldPath"] == "spec.containers{main}"
    assert started[0]["source"] == {"component": "kubelet", "host": cluster.node}
    for binary in (KUBECTL, PYKUBECTL):   # the node's own events, from its kubelet
        node = {(t, r, src, m) for t, r, src, m in event_rows(cluster.run(binary, "describe", "node", cluster.node).stdout)}
        assert ("Normal", "Starting", "kubelet", "Starting kubelet.") in node, node
        assert ("Normal", "NodeReady", "kubelet", f"Node {cluster.node} status is now: NodeReady") in node, node


def test_logs_previous_shows_the_crashed_container(cluster: Cluster) -> None:
    cluster.apply(busybox_pod("crash", "echo run $(date +%s%N); exit 3"))

    def restarted() -> bool:
        st = cluster.pod("crash")["status"].get("containerStatuses") or [{}]
        return int(st[0].get("restartCount", 0)) >= 2
    wait_for(restarted, 60, "two restarts", cluster)
    for binary in (KUBECTL, PYKUBECTL):
        prev = cluster.run(binary, "logs", "crash", "--previous")
        assert prev.stdout.startswith("run ") and prev.stdout.count("\n") == 1, prev.stdout
    # the previous instance is the one lastState names, and its output is its own
    st = cluster.pod("crash")["status"]["containerStatuses"][0]
    assert st["lastState"]["terminated"]["exitCode"] == 3
    never = cluster.kubectl("logs", "events-ok", "--previous", check=False)
    assert never.returncode == 1
    assert 'previous terminated container "main" in pod "events-ok" not found' in never.stderr
    r = cluster.run(PYKUBECTL, "logs", "events-ok", "--previous", check=False)
    assert r.returncode == 1 and 'previous terminated container "main" in pod "events-ok" not found' in r.stderr
    describe = cluster.kubectl("describe", "pod", "crash").stdout
    assert ("Warning", "BackOff") in {(t, r) for t, r, _, _ in event_rows(describe)}, describe


def top_rows(text: str) -> dict[str, list[str]]:
    """`kubectl top` output as first column -> the other columns."""
    lines = text.strip().splitlines()
    return {line.split()[0]: line.split()[1:] for line in lines[1:]}


def millicores(text: str) -> int:
    assert text.endswith("m"), text
    return int(text[:-1])


def busy_reference(cluster: Cluster, pod: dict[str, Any], seconds: float) -> int:
    """The busy container's CPU use (millicores) over `seconds`, read from its cgroup here
    (the machine may be shared: the loop gets what the scheduler gives it)."""
    from kubelet.stats.cgroups import CgroupReader
    cid = pod["status"]["containerStatuses"][0]["containerID"].split("://", 1)[1]
    cgroup = f"{cluster.cgroup_parent}/pod{pod['metadata']['uid']}/{cid}"
    reader = CgroupReader()
    first, t0 = reader.usage(cgroup), time.monotonic()
    time.sleep(seconds)
    last, t1 = reader.usage(cgroup), time.monotonic()
    assert first is not None and last is not None, cgroup
    return int((last.cpu_ns - first.cpu_ns) / (t1 - t0) / 1e6)


def test_top_shows_a_busy_loop_using_one_core(cluster: Cluster) -> None:
    cluster.apply(busybox_pod("busy", "while true; do :; done"))
    cluster.apply(busybox_pod("idle", "sleep 3600"))
    for name in ("busy", "idle"):
        wait_for(lambda n=name: cluster.pod(n)["status"].get("phase") == "Running", 60, f"{name} Running", cluster)

    def measured() -> bool:
        r = cluster.kubectl("top", "pod", "--no-headers", check=False)
        return r.returncode == 0 and {"busy", "idle"} <= set(top_rows("NAME\n" + r.stdout))
    wait_for(measured, 60, "metrics for busy and idle", cluster)
    reference = busy_reference(cluster, cluster.pod("busy"), 4.0)   # two scrapes at --metric-resolution 2
    for binary in (KUBECTL, PYKUBECTL):
        pods = top_rows(cluster.run(binary, "top", "pod").stdout)
        busy, idle = millicores(pods["busy"][0]), millicores(pods["idle"][0])
        print(f"\n[top] {binary.rsplit('/', 1)[1]}: busy {busy}m (its cgroup said {reference}m), idle {idle}m")
        # about one core on an idle machine; on a shared one, what the loop really got
        assert busy <= 1100 and 0.5 * reference <= busy <= 1.5 * reference + 50, (busy, reference)
        assert idle <= 50 and busy >= 200, pods
        assert pods["busy"][1].endswith("Mi")
        containers = cluster.run(binary, "top", "pod", "busy", "--containers").stdout
        assert containers.split("\n", 1)[0].split() == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"], containers
        assert top_rows(containers)["busy"][0] == "main"
        nodes = top_rows(cluster.run(binary, "top", "node").stdout)
        cpu, pct, mem, mem_pct = nodes[cluster.node]
        assert millicores(cpu) >= busy - 100 and pct.endswith("%") and mem.endswith("Mi") and mem_pct.endswith("%")
    # the official Python client reads the same API
    from kubernetes import client as k8s
    from kubernetes import config as k8s_config
    api = k8s.CustomObjectsApi(k8s_config.new_client_from_config(config_file=str(cluster.kubeconfig)))
    pod_metrics = api.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", "default", "pods", "busy")
    assert pod_metrics["kind"] == "PodMetrics" and pod_metrics["containers"][0]["name"] == "main"
    assert pod_metrics["containers"][0]["usage"]["cpu"].endswith(("n", "u", "m"))
    node_list = api.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert [n["metadata"]["name"] for n in node_list["items"]] == [cluster.node]
    assert node_list["items"][0]["usage"]["memory"].endswith(("Ki", "Mi", "Gi"))
