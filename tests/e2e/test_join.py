"""Joining nodes to `pykube server`: a wrong token or another server's CA is refused with
a clear message; the right token gives a node that `pykubectl get nodes` shows Ready.

One `pykube server --disable-agent` process (sqlite in a tmp data dir, free port); hollow
agents (`--runtime fake`, as kubemark) so the test needs no root; as root, one real agent
too (its own containerd, CNI bridge, pod range) on a fresh data dir, which builds its own
sandbox and busybox images and runs a pod, removed afterwards with `pykube killall`, which
must leave nothing behind.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.e2e.host_leftovers import leftovers
from tests.support.runtime_node import IP_FORWARD, missing_node_tools

REPO = Path(__file__).resolve().parents[2]
PYKUBE = [sys.executable, "-m", "pykube.main"]
PYKUBECTL = str(Path(sys.executable).parent / "pykubectl")
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


@dataclass
class Proc:
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def spawn(args: list[str], log: Path) -> Proc:
    f = log.open("ab")
    p = subprocess.Popen([*PYKUBE, *args], stdout=f, stderr=f, stdin=subprocess.DEVNULL, env=ENV, cwd=REPO)
    f.close()
    return Proc(p, log)


@dataclass
class Server:
    data_dir: Path
    url: str
    token: str
    kubeconfig: Path
    proc: Proc


def start_server(data_dir: Path, log: Path, *extra: str) -> Server:
    proc = spawn(["server", "-d", str(data_dir), "--secure-port", "0", "--bind-address", "127.0.0.1",
                  "--disable-agent", *extra], log)
    token_file, kubeconfig = data_dir / "server" / "node-token", data_dir / "admin.kubeconfig"
    deadline = time.monotonic() + 60
    while not (token_file.exists() and kubeconfig.exists() and "server ready" in proc.text()):
        if proc.proc.poll() is not None or time.monotonic() > deadline:
            proc.stop()
            raise AssertionError(f"server did not start:\n{proc.text()[-3000:]}")
        time.sleep(0.1)
    url = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    return Server(data_dir, url, token_file.read_text().strip(), kubeconfig, proc)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("join")
    srv = start_server(base / "server", base / "server.log", "--cluster-cidr", "10.78.0.0/16")
    try:
        yield srv
    finally:
        srv.proc.stop()


def run_agent(server: Server, token: str, base: Path, name: str, timeout: float = 30) -> tuple[int, str]:
    r = subprocess.run([*PYKUBE, "agent", "-s", server.url, "--token", token, "-d", str(base / name),
                        "--runtime", "fake", "--port", "0", "--node-name", name, "--join-timeout", "5"],
                       capture_output=True, text=True, env=ENV, cwd=REPO, timeout=timeout)
    return r.returncode, r.stderr


def nodes(server: Server) -> dict[str, str]:
    out = subprocess.run([PYKUBECTL, "--kubeconfig", str(server.kubeconfig), "get", "nodes", "--no-headers"],
                         capture_output=True, text=True, check=True).stdout
    return {line.split()[0]: line.split()[1] for line in out.splitlines() if line.strip()}


def wait_ready(server: Server, names: list[str], procs: list[Proc], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        seen = nodes(server)
        if all(seen.get(n) == "Ready" for n in names):
            return
        for p in procs:
            assert p.proc.poll() is None, f"agent exited:\n{p.text()[-3000:]}"
        assert time.monotonic() < deadline, f"nodes not Ready: {seen}\n" + "\n".join(p.text()[-2000:] for p in procs)
        time.sleep(0.5)


def test_wrong_secret_is_refused(server: Server, tmp_path: Path) -> None:
    bad = server.token.rsplit(":", 1)[0] + ":not-the-node-secret"
    code, err = run_agent(server, bad, tmp_path, "wrong-secret")
    assert code == 1
    assert "refused the token (401 Unauthorized)" in err
    assert "wrong-secret" not in nodes(server)


def test_token_of_another_server_is_refused(server: Server, tmp_path: Path) -> None:
    """The first server's token against a second server (another CA): refused before any
    credential is sent."""
    other = start_server(tmp_path / "other", tmp_path / "other.log")
    try:
        code, err = run_agent(other, server.token, tmp_path, "other-ca")
    finally:
        other.proc.stop()
    assert code == 1
    assert "is not the one the token names" in err and "another server" in err


def test_malformed_token_is_refused(server: Server, tmp_path: Path) -> None:
    code, err = run_agent(server, "letmein", tmp_path, "malformed")
    assert code == 1 and "token does not start with K10" in err


def test_right_token_nodes_go_ready(server: Server, tmp_path: Path) -> None:
    agents = [spawn(["agent", "--server", server.url, "--token", server.token, "-d", str(tmp_path / n),
                     "--runtime", "fake", "--port", "0", "--node-name", n], tmp_path / f"{n}.log")
              for n in ("hollow-1", "hollow-2")]
    try:
        wait_ready(server, ["hollow-1", "hollow-2"], agents)
        assert "joined https://127.0.0.1" in agents[0].text()
    finally:
        for a in agents:
            a.stop()
    for a in agents:
        assert a.proc.returncode == 0, a.text()[-2000:]
        assert "kubelet stopped" in a.text()


def test_token_file_and_pid_lock(server: Server, tmp_path: Path) -> None:
    (tmp_path / "tok").write_text(server.token + "\n")
    first = spawn(["agent", "-s", server.url, "--token-file", str(tmp_path / "tok"), "-d", str(tmp_path / "n"),
                   "--runtime", "fake", "--port", "0", "--node-name", "from-file"], tmp_path / "a.log")
    try:
        deadline = time.monotonic() + 30
        while "agent from-file ready" not in first.text():
            assert first.proc.poll() is None and time.monotonic() < deadline, first.text()[-2000:]
            time.sleep(0.1)
        code, err = run_agent(server, server.token, tmp_path, "n")   # same data dir
        assert code == 1 and "already runs" in err
    finally:
        first.stop()


@pytest.fixture
def real_agent_env() -> Iterator[None]:
    if os.geteuid() != 0:
        pytest.skip("a real agent needs root (containerd, CNI)")
    missing = missing_node_tools()
    if missing:
        pytest.skip(f"missing node tools: {missing}")
    forward = IP_FORWARD.read_text()
    try:
        yield
    finally:
        IP_FORWARD.write_text(forward)


def test_real_agent_joins_and_killall_cleans_up(server: Server, real_agent_env: None) -> None:
    tag = uuid.uuid4().hex[:6]
    short = Path(tempfile.mkdtemp(prefix="pkj-", dir="/tmp"))  # containerd's socket path must stay short
    data_dir, bridge, network, cg = short / "data", f"pkj{tag}", f"pkj-{tag}", f"pykube-j{tag}"
    agent = spawn(["agent", "-s", server.url, "--token", server.token, "-d", str(data_dir),
                   "--node-name", f"real-{tag}", "--port", "0", "--cni-bridge", bridge, "--cni-network", network,
                   "--cgroup-parent", f"/{cg}/kubepods", "--cluster-cidr", "10.78.0.0/16", "--disable-proxy"],
                  short / "agent.log")
    # not pykube's, though its command line names the data dir: killall must spare it
    tail = subprocess.Popen(["tail", "-f", str(short / "agent.log"), str(data_dir / "run" / "agent.pid")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(server, [f"real-{tag}"], [agent], timeout=90)
        # a fresh data dir and only the Debian packages: the agent builds its sandbox and busybox images
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"on-{tag}", "namespace": "default"},
               "spec": {"nodeName": f"real-{tag}", "terminationGracePeriodSeconds": 1, "containers": [
                   {"name": "c", "image": "local/busybox:1", "command": ["sh", "-c", "echo hi from $(hostname); sleep 600"]}]}}
        kubectl = [PYKUBECTL, "--kubeconfig", str(server.kubeconfig)]
        subprocess.run([*kubectl, "apply", "-f", "-"], input=yaml.safe_dump(pod), text=True, check=True,
                       capture_output=True)
        deadline = time.monotonic() + 90
        while (logs := subprocess.run([*kubectl, "logs", f"on-{tag}"], capture_output=True, text=True)).stdout \
                != f"hi from on-{tag}\n":
            assert time.monotonic() < deadline, f"the pod never ran: {logs.stderr}\n{agent.text()[-3000:]}"
            time.sleep(0.5)
        assert (data_dir / "agent" / "images" / "pause.tar").is_file()
        subprocess.run([*kubectl, "delete", "pod", f"on-{tag}", "--wait=false"], capture_output=True, check=True)
    finally:
        r = subprocess.run([*PYKUBE, "killall", "-d", str(data_dir)], capture_output=True, text=True,
                           env=ENV, cwd=REPO, timeout=120)
        spared = tail.poll() is None
        tail.kill()
        tail.wait()
        agent.stop()
        left = leftovers(data_dir, bridge, network, ["10.78.0.0/16"], [], cg)
        if not left:
            shutil.rmtree(short, ignore_errors=True)
    assert r.returncode == 0, r.stderr
    assert "sent SIGTERM" in r.stderr and "killall" in r.stderr
    assert spared, "killall stopped a process it did not start"
    assert left == [], f"left behind: {left}; kept {short}"


def test_control_plane_components_run_as_their_own_identities(server: Server) -> None:
    """The controller-manager, scheduler and DNS authenticate with their own certificates
    (server/cred/), each holding its Kubernetes role and no more; the nodes' join token is
    in system:nodes."""
    kubectl = str(Path(sys.executable).parent / "kubectl")
    cred = server.data_dir / "server" / "cred"
    for name, user, may, may_not in (("scheduler", "system:kube-scheduler", "create pods --subresource=binding", "delete secrets"),
                                     ("dns", "system:coredns", "watch endpoints", "create pods"),
                                     ("controller", "system:kube-controller-manager", "delete secrets", None)):
        kc = str(cred / f"{name}.kubeconfig")
        who = subprocess.run([kubectl, "--kubeconfig", kc, "auth", "whoami"], capture_output=True, text=True, timeout=60)
        assert who.returncode == 0 and user in who.stdout, who.stdout + who.stderr
        r = subprocess.run([kubectl, "--kubeconfig", kc, "auth", "can-i", *may.split(), "-A"], capture_output=True,
                           text=True, timeout=60)
        assert r.stdout.strip() == "yes", (name, may, r.stdout, r.stderr)
        if may_not:
            verb, res = may_not.split()
            r = subprocess.run([kubectl, "--kubeconfig", kc, "auth", "can-i", verb, res, "-A"], capture_output=True,
                               text=True, timeout=60)
            assert r.stdout.strip() == "no", (name, may_not, r.stdout)
    node_kc = server.data_dir / "agent" / "kubelet.kubeconfig"
    who = subprocess.run([kubectl, "--kubeconfig", str(node_kc), "auth", "whoami"], capture_output=True, text=True,
                         timeout=60)
    assert "system:nodes" in who.stdout, who.stdout + who.stderr


def test_logs_and_exec_reach_a_joined_node(server: Server, tmp_path: Path) -> None:
    """The kubelet of a joined node (authenticated as `system:nodes` by the join token) asks
    the apiserver who calls it (TokenReview) and whether they may (SubjectAccessReview):
    the apiserver's proxy may; a user the kubelet is handed directly may not."""
    kubectl = str(Path(sys.executable).parent / "kubectl")
    kc = ["--kubeconfig", str(server.kubeconfig)]
    agent = spawn(["agent", "--server", server.url, "--token", server.token, "-d", str(tmp_path / "hollow-x"),
                   "--runtime", "fake", "--port", "0", "--node-name", "hollow-x"], tmp_path / "hollow-x.log")
    try:
        wait_ready(server, ["hollow-x"], [agent])
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "talker", "namespace": "default"},
               "spec": {"nodeName": "hollow-x", "containers": [
                   {"name": "c", "image": "busybox", "command": ["sh", "-c", "echo said-this; sleep 1000"]}]}}
        subprocess.run([kubectl, *kc, "apply", "-f", "-"], input=yaml.safe_dump(pod), text=True, check=True,
                       capture_output=True, timeout=60)
        r = subprocess.run([kubectl, *kc, "wait", "--for=condition=Ready", "pod/talker", "--timeout=60s"],
                           capture_output=True, text=True, timeout=90)
        assert r.returncode == 0, r.stderr + agent.text()[-2000:]
        r = subprocess.run([kubectl, *kc, "logs", "talker"], capture_output=True, text=True, timeout=60)
        assert (r.returncode, r.stdout) == (0, "said-this\n"), r.stderr + agent.text()[-3000:]
        r = subprocess.run([kubectl, *kc, "exec", "talker", "--", "hostname"], capture_output=True, text=True,
                           timeout=60)
        assert (r.returncode, r.stdout) == (0, "talker\n"), r.stderr
        r = subprocess.run([kubectl, *kc, "get", "--raw", "/api/v1/nodes/hollow-x/proxy/pods"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and '"talker"' in r.stdout, r.stderr
    finally:
        agent.stop()
