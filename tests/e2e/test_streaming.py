"""Interactive pods end to end, as root: exec, attach, run, cp and the Python client's stream.

A real containerd, CNI and kubelet process (stream_cluster.py); the real kubectl 1.37
(WebSocket v5 first, SPDY when told to fall back) and pykubectl side by side, driven
under a pseudo-terminal where kubectl needs one (`-it`): a shell answers a typed command
and its exit code comes back; stdin is piped through `exec -i` and closed at its end;
`attach` joins a `stdin: true, tty: true` pod; `run -it --rm` gives the output and deletes
the pod; `cp` copies a file and a directory in and out; the official Python client runs
its own e2e test's `stream()` steps (test_pod_apis, test_pod_exec_close_channel,
test_exit_code); `debug` adds an ephemeral container that sees its target's processes.
"""
from __future__ import annotations

import asyncio
import gzip
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from client.errors import NotFound
from httpstream import channels
from tests.e2e.stream_cluster import (BUSYBOX, KUBECTL, PYKUBECTL, PtySession, StreamCluster, pod_manifest,
                                      node_images, stream_cluster, wait_for)

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.root]
BINARIES = pytest.mark.parametrize("binary", [KUBECTL, PYKUBECTL], ids=["kubectl", "pykubectl"])


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return node_images(tmp_path_factory, ("pause", "busybox"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory, images: Path) -> AsyncIterator[StreamCluster]:
    async with stream_cluster(tmp_path_factory.mktemp("stream-e2e"), images) as c:
        await c.client.create(pod_manifest("box", ["sleep", "3600"]))
        await c.running_pod("box")
        yield c


def _short(binary: str) -> str:
    return "k" if binary == KUBECTL else "p"


@BINARIES
async def test_exec_it_runs_a_shell_in_a_pty(cluster: StreamCluster, binary: str) -> None:
    s = PtySession([binary, "exec", "-it", "box", "--", "sh"], cluster.env())
    try:
        await s.expect("/ #")
        s.send("echo $((6*7))-$(tty)\r")
        await s.expect("42-/dev/pts/")             # a real TTY in the container
        s.send("exit 5\r")
        assert await s.wait() == 5
        assert b"command terminated with exit code 5" in s.output
    finally:
        s.close()


@BINARIES
async def test_exec_reports_output_streams_and_exit_code(cluster: StreamCluster, binary: str) -> None:
    r = await cluster.kubectl("exec", "box", "--", "sh", "-c", "echo out; echo err >&2; exit 3", binary=binary)
    assert (r.returncode, r.stdout) == (3, b"out\n")
    assert r.stderr == b"err\ncommand terminated with exit code 3\n"


@pytest.mark.parametrize("binary,env", [(KUBECTL, {}), (PYKUBECTL, {}),
                                        (KUBECTL, {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"})],
                         ids=["kubectl", "pykubectl", "kubectl-spdy"])
async def test_exec_i_pipes_stdin_until_its_end(cluster: StreamCluster, binary: str, env: dict[str, str]) -> None:
    data = b"".join(b"line %d\n" % i for i in range(20000))      # ~200 KB, many frames
    r = await cluster.kubectl("exec", "-i", "box", "--", "sh", "-c", "wc -c; echo done", binary=binary,
                              stdin=data, env=cluster.env(**env))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(len(data)).encode(), b"done"]


@BINARIES
async def test_attach_to_a_pod_with_stdin_and_tty(cluster: StreamCluster, binary: str) -> None:
    name = f"tty-{_short(binary)}"
    await cluster.client.create(pod_manifest(name, ["sh"], stdin=True, tty=True))
    await cluster.running_pod(name)
    s = PtySession([binary, "attach", "-it", name], cluster.env())
    try:
        await s.expect("If you don't see a command prompt, try pressing enter.")
        s.send("echo attached-$((1+1))\r")
        await s.expect("attached-2")
        s.send("exit\r")                        # the container's shell ends: so does the session
        assert await s.wait() == 0
        assert f"Session ended, resume using 'kubectl attach {name} -c main -n default -i -t' command".encode() \
            in s.output
    finally:
        s.close()


@BINARIES
async def test_run_it_rm_returns_the_output_and_deletes_the_pod(cluster: StreamCluster, binary: str) -> None:
    name = f"run-it-{_short(binary)}"
    s = PtySession([binary, "run", "-it", "--rm", name, f"--image={BUSYBOX}", "--restart=Never", "--", "sh"],
                   cluster.env())
    try:
        await s.expect("/ #")
        s.send("echo hello-$((2+3))\r")
        await s.expect("hello-5")
        s.send("exit 4\r")
        assert await s.wait(60) == 4
    finally:
        s.close()
    assert f'pod "{name}" deleted from default namespace'.encode() in s.output
    assert f"pod default/{name} terminated (Error)".encode() in s.output
    await _gone(cluster, name)


@BINARIES
async def test_run_i_rm_with_piped_stdin(cluster: StreamCluster, binary: str) -> None:
    name = f"run-i-{_short(binary)}"
    r = await cluster.kubectl("run", "-i", "--rm", name, f"--image={BUSYBOX}", "--restart=Never", "--",
                              "sh", "-c", "cat; echo done", binary=binary, stdin=b"piped-input\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().endswith(f'piped-input\ndone\npod "{name}" deleted from default namespace\n')
    await _gone(cluster, name)


async def _gone(cluster: StreamCluster, name: str) -> None:
    async def gone() -> bool:
        try:
            p = await cluster.pod(name)
        except NotFound:
            return True
        return p.metadata.deletion_timestamp is not None
    await wait_for(gone, 30, f"pod {name} deleted")


@BINARIES
async def test_cp_a_file_and_a_directory_in_and_out(cluster: StreamCluster, binary: str, tmp_path: Path) -> None:
    n = _short(binary)
    src = tmp_path / "in.txt"
    src.write_bytes(os.urandom(300_000))
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("alpha\n")
    (tree / "sub" / "b.txt").write_text("beta\n")
    for args in ((str(src), f"box:/tmp/cp-{n}.bin"), (str(tree), f"box:/tmp/tree-{n}")):
        r = await cluster.kubectl("cp", *args, binary=binary)
        assert r.returncode == 0, r.stderr
    r = await cluster.kubectl("exec", "box", "--", "sh", "-c", f"wc -c < /tmp/cp-{n}.bin; cat /tmp/tree-{n}/sub/b.txt")
    assert r.stdout.split() == [b"300000", b"beta"]
    out_file, out_tree = tmp_path / "out.bin", tmp_path / "out-tree"
    for args in ((f"box:/tmp/cp-{n}.bin", str(out_file)), (f"box:/tmp/tree-{n}", str(out_tree))):
        r = await cluster.kubectl("cp", *args, binary=binary)
        assert r.returncode == 0, r.stderr
        # busybox tar's notice, on stdout as kubectl prints it (kubectl may drop it when the copy ends first)
        assert r.stdout in (b"", b"tar: removing leading '/' from member names\n")
    assert out_file.read_bytes() == src.read_bytes()
    assert (out_tree / "a.txt").read_text() == "alpha\n" and (out_tree / "sub" / "b.txt").read_text() == "beta\n"


@pytest.mark.parametrize("protocol", ["v4.channel.k8s.io", "v4.base64.channel.k8s.io", "channel.k8s.io",
                                      "base64.channel.k8s.io", ""])
async def test_older_channel_protocols(cluster: StreamCluster, protocol: str) -> None:
    """What older clients offer: v4 ends with a Status, earlier ones with the error's text."""
    from websockets.asyncio.client import connect
    cfg = cluster.client.config
    query = "command=sh&command=-c&command=echo+hi%3B+echo+err+%3E%262%3B+exit+2&stdout=true&stderr=true"
    url = cfg.server.replace("https://", "wss://") + f"/api/v1/namespaces/default/pods/box/exec?{query}"
    async with connect(url, ssl=cfg.ssl_context(), subprotocols=[protocol] if protocol else None,  # type: ignore[arg-type]
                       additional_headers={"Authorization": f"Bearer {cfg.token}"}, proxy=None) as ws:
        assert (ws.subprotocol or "") == protocol
        got = [channels.decode(protocol, m) async for m in ws]
    data = {ch: b"".join(d for c, d in got if c == ch) for ch in (1, 2, 3)}
    assert (data[1], data[2]) == (b"hi\n", b"err\n")
    if protocol.startswith("v4"):
        assert channels.exit_code(json.loads(data[3])) == 2
    else:
        assert data[3].startswith(b"command terminated with non-zero exit code") and data[3].endswith(b"exit code 2")


@BINARIES
async def test_debug_it_adds_an_ephemeral_container_that_sees_the_target(cluster: StreamCluster,
                                                                          binary: str) -> None:
    name = f"dbg-{_short(binary)}-{uuid.uuid4().hex[:4]}"
    s = PtySession([binary, "debug", "-it", "box", f"--image={BUSYBOX}", "--target=main", "-c", name, "--", "sh"],
                   cluster.env())
    try:
        await s.expect('Targeting container "main".')
        await s.expect("If you don't see a command prompt, try pressing enter.")
        s.send("ps -o pid,args; echo seen-$((2*3))\r")
        await s.expect("seen-6")
        assert b"sleep 3600" in s.output          # the target's processes: its PID namespace is shared
        s.send("exit 4\r")
        assert await s.wait() == 0                # the attach ends with the container, as kubectl's does
        assert (f"Session ended, the ephemeral container will not be restarted but may be reattached using "
                f"'kubectl attach box -c {name} -n default -i -t' if it is still running").encode() in s.output
    finally:
        s.close()

    async def terminated() -> dict[str, Any] | None:
        pod = (await cluster.pod("box")).to_dict()
        st = next((e for e in pod["status"].get("ephemeralContainerStatuses") or [] if e["name"] == name), None)
        return st if st and "terminated" in st["state"] else None
    st = await wait_for(terminated, 30, f"{name} terminated", cluster.node)
    assert st["state"]["terminated"]["exitCode"] == 4 and st["restartCount"] == 0 and st["ready"] is False
    pod = (await cluster.pod("box")).to_dict()
    assert pod["status"]["phase"] == "Running" and pod["status"]["containerStatuses"][0]["ready"] is True
    r = await cluster.kubectl("describe", "pod", "box")
    assert b"Ephemeral Containers:" in r.stdout and f"  {name}:".encode() in r.stdout


@BINARIES
async def test_debug_i_pipes_stdin_to_a_new_debugger(cluster: StreamCluster, binary: str) -> None:
    """Without a TTY the debugger's stdin is a pipe; as with containerd under Kubernetes, the
    attach ends when the local stdin does (kubectl debug sets no stdinOnce), so the input
    stays open until the answer is seen."""
    name = f"once-{_short(binary)}-{uuid.uuid4().hex[:4]}"
    proc = await asyncio.create_subprocess_exec(
        binary, "debug", "box", "-i", f"--image={BUSYBOX}", "-c", name, "--", "sh", "-c",
        "while read line; do echo got-$line; done", env=cluster.env(), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        seen = b""
        async with asyncio.timeout(60):
            while b"got-second" not in seen:
                proc.stdin.write(b"second\n")   # until the debugger runs and answers
                await proc.stdin.drain()
                try:
                    seen += await asyncio.wait_for(proc.stdout.read(4096), 1)
                except TimeoutError:
                    continue
        proc.stdin.close()
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    r = await cluster.kubectl("logs", "box", "-c", name, binary=binary)
    assert r.returncode == 0 and b"got-second\n" in r.stdout
    r = await cluster.kubectl("debug", "box", f"--image={BUSYBOX}", "-c", name, binary=binary)
    assert r.returncode == 1
    assert f'existing ephemeral containers "{name}" may not be changed'.encode() in r.stderr


def _python_client_steps(kubeconfig: str) -> dict[str, Any]:
    """The stream() steps of the Python client's own e2e tests, against pod "box"."""
    from kubernetes import client as k8s, config as k8s_config
    from kubernetes.stream import stream
    from kubernetes.stream.ws_client import ERROR_CHANNEL
    cfg = k8s.Configuration()
    k8s_config.load_kube_config(config_file=kubeconfig, client_configuration=cfg)
    api = k8s.CoreV1Api(k8s.ApiClient(cfg))
    seen: dict[str, Any] = {}
    seen["dates"] = stream(api.connect_get_namespaced_pod_exec, "box", "default",
                           command=["/bin/sh", "-c", "for i in $(seq 1 3); do date; done"],
                           stderr=False, stdin=False, stdout=True, tty=False)
    seen["gzip"] = stream(api.connect_get_namespaced_pod_exec, "box", "default",
                          command=["/bin/sh", "-c", 'echo -n "This is a test string" | gzip'],
                          stderr=False, stdin=False, stdout=True, tty=False, binary=True)
    seen["uptime"] = stream(api.connect_post_namespaced_pod_exec, "box", "default", command=["uptime"],
                            stderr=False, stdin=False, stdout=True, tty=False)
    resp = stream(api.connect_post_namespaced_pod_exec, "box", "default", command=["/bin/sh"],
                  stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
    seen["protocol"] = resp.subprotocol
    resp.write_stdin("echo test string 1\n")
    seen["line1"] = resp.readline_stdout(timeout=5)
    seen["no_stderr"] = not resp.peek_stderr()
    resp.write_stdin("echo test string 2 >&2\n")
    seen["line2"] = resp.readline_stderr(timeout=5)
    resp.write_stdin("exit\n")
    deadline = time.monotonic() + 10
    status = ""
    while not status and time.monotonic() < deadline:
        resp.update(timeout=1)
        status = resp.read_channel(ERROR_CHANNEL)
    seen["status"] = json.loads(status)
    resp.update(timeout=5)
    seen["open_after_exit"] = resp.is_open()
    cat = stream(api.connect_post_namespaced_pod_exec, "box", "default", command=["/bin/sh", "-c", "cat"],
                 stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
    cat.write_stdin("test-close\n")
    seen["cat"] = cat.readline_stdout(timeout=5)
    cat.close_channel(0)
    cat.run_forever(timeout=15)
    seen["cat_closed"] = (cat.is_open(), cat.returncode)
    codes = []
    for command in (["false"], ["/bin/sh", "-c", "sleep 1; exit 3"], ["true"], ["/bin/sh", "-c", "ls /"]):
        c = stream(api.connect_get_namespaced_pod_exec, "box", "default", command=command, stderr=True,
                   stdin=False, stdout=True, tty=False, _preload_content=False)
        c.run_forever(timeout=10)
        codes.append(c.returncode)
    seen["codes"] = codes
    return seen


async def test_python_client_stream_exec(cluster: StreamCluster) -> None:
    seen = await asyncio.to_thread(_python_client_steps, cluster.kubeconfig)
    assert len(seen["dates"].splitlines()) == 3
    assert gzip.decompress(seen["gzip"]) == b"This is a test string"
    assert len(seen["uptime"].splitlines()) == 1 and "load average" in seen["uptime"]
    assert seen["protocol"] == "v5.channel.k8s.io"
    assert (seen["line1"], seen["no_stderr"], seen["line2"]) == ("test string 1", True, "test string 2")
    assert seen["status"]["status"] == "Success" and seen["open_after_exit"] is False
    assert seen["cat"] == "test-close" and seen["cat_closed"] == (False, 0)   # v5 closed stdin: cat ended
    assert seen["codes"] == [1, 3, 0, 0]
