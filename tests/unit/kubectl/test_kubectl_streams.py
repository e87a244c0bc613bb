"""The pure parts of pykubectl's streaming commands: run, cp, port-forward, proxy, debug, pod choice."""
from __future__ import annotations

import io
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from kubectl import cmd_cp, cmd_debug, cmd_portforward, cmd_proxy, cmd_run, podfor
from kubectl.errors import CmdError

POD = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "c", "ports": [
    {"containerPort": 8080, "name": "http"}]}]}}


def test_run_builds_kubectls_pod() -> None:
    pod = cmd_run.pod_object("t", "busybox", ["sh", "-c", "echo"], command=True, stdin=True, tty=True,
                             restart="Never", env=["A=1"], labels="", port="80", pull="")
    c = pod["spec"]["containers"][0]
    assert pod["metadata"]["labels"] == {"run": "t"} and pod["spec"]["restartPolicy"] == "Never"
    assert (c["name"], c["command"], c["stdin"], c["stdinOnce"], c["tty"]) == ("t", ["sh", "-c", "echo"], True, True,
                                                                               True)
    assert c["env"] == [{"name": "A", "value": "1"}] and c["ports"] == [{"containerPort": 80}]
    args_pod = cmd_run.pod_object("t", "busybox", ["x"], command=False, stdin=False, tty=False, restart="Always",
                                  env=[], labels="a=b,c=d", port="", pull="IfNotPresent")
    assert args_pod["spec"]["containers"][0]["args"] == ["x"] and args_pod["metadata"]["labels"] == {"a": "b", "c": "d"}


def test_run_exit_status_of_a_finished_pod() -> None:
    done = {"metadata": {"name": "t", "namespace": "default"}, "status": {"phase": "Failed", "containerStatuses": [
        {"state": {"terminated": {"exitCode": 4, "reason": "Error"}}}]}}
    assert cmd_run.exit_status(done) == (4, "pod default/t terminated (Error)")
    assert cmd_run.exit_status({"status": {"phase": "Succeeded"}}) == (0, "")


def test_cp_file_specs() -> None:
    assert cmd_cp.parse_spec("box:/tmp/x") == cmd_cp.FileSpec("/tmp/x", "box")
    assert cmd_cp.parse_spec("ns/box:x") == cmd_cp.FileSpec("x", "box", "ns")
    assert cmd_cp.parse_spec("./local:file") == cmd_cp.FileSpec("./local:file")
    assert cmd_cp.parse_spec("/abs/path") == cmd_cp.FileSpec("/abs/path")


def test_cp_tar_round_trip_strips_the_remote_prefix(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "d" / "f.txt").write_text("x")
    buf = io.BytesIO()
    cmd_cp.make_tar(src, "renamed", buf)
    names = tarfile.open(fileobj=io.BytesIO(buf.getvalue())).getnames()
    assert sorted(names) == ["renamed", "renamed/d", "renamed/d/f.txt"]
    # as `tar cf - /tmp/renamed` lists it in the pod: tmp/renamed/...
    remote = io.BytesIO()
    with tarfile.open(fileobj=remote, mode="w") as tar:
        tar.add(str(src), arcname="tmp/renamed")
    remote.seek(0)
    cmd_cp.extract(remote, "tmp/renamed", tmp_path / "out", lambda m: None)
    assert (tmp_path / "out" / "d" / "f.txt").read_text() == "x"


def test_cp_skips_members_outside_the_destination_and_links(tmp_path: Path) -> None:
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w") as tar:
        for name, kind in (("p/../../escape", tarfile.REGTYPE), ("p/link", tarfile.SYMTYPE)):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, "/etc/passwd"
            tar.addfile(info, io.BytesIO(b""))
    evil.seek(0)
    warnings: list[str] = []
    cmd_cp.extract(evil, "p", tmp_path / "out", warnings.append)
    assert not (tmp_path / "escape").exists() and not (tmp_path / "out" / "link").exists()
    assert len(warnings) == 2 and "outside target destination" in warnings[0] and "skipping symlink" in warnings[1]
    with pytest.raises(CmdError, match="corrupted"):
        other = io.BytesIO()
        with tarfile.open(fileobj=other, mode="w") as tar:
            tar.addfile(tarfile.TarInfo("q/file"), io.BytesIO(b""))
        other.seek(0)
        cmd_cp.extract(other, "p", tmp_path / "out2", warnings.append)


def test_port_forward_port_specs() -> None:
    assert cmd_portforward.parse_ports(["8080:80", ":80", "9000", "0:http"]) == [
        (8080, "80"), (0, "80"), (9000, "9000"), (0, "http")]
    with pytest.raises(CmdError, match="should be a number"):
        cmd_portforward.parse_ports(["x:80"])
    with pytest.raises(CmdError, match="between 1 and 65535"):
        cmd_portforward.parse_ports(["1:70000"])
    assert cmd_portforward.pod_port(POD, "http") == 8080 and cmd_portforward.pod_port(POD, "81") == 81
    svc = {"metadata": {"name": "s"}, "spec": {"ports": [{"name": "web", "port": 80, "targetPort": "http"},
                                                         {"port": 81, "targetPort": 9090}]}}
    assert cmd_portforward.service_target_port(svc, POD, "80") == 8080
    assert cmd_portforward.service_target_port(svc, POD, "web") == 8080
    assert cmd_portforward.service_target_port(svc, POD, "81") == 9090
    with pytest.raises(CmdError, match="does not have a service port 82"):
        cmd_portforward.service_target_port(svc, POD, "82")


def test_proxy_filter_is_kubectls() -> None:
    args = SimpleNamespace(disable_filter=False, accept_hosts=cmd_proxy.ACCEPT_HOSTS, accept_paths="^.*",
                           reject_paths=cmd_proxy.REJECT_PATHS, reject_methods="^$")
    assert cmd_proxy.allowed(args, "GET", "/api/v1/pods", "127.0.0.1:8001")
    assert cmd_proxy.allowed(args, "GET", "/api/v1/pods", "localhost:8001")
    assert not cmd_proxy.allowed(args, "GET", "/api/v1/pods", "evil.example:8001")
    assert not cmd_proxy.allowed(args, "POST", "/api/v1/namespaces/d/pods/p/exec", "127.0.0.1:8001")
    assert cmd_proxy.allowed(SimpleNamespace(**{**vars(args), "disable_filter": True}), "POST",
                             "/api/v1/namespaces/d/pods/p/exec", "anywhere")


def test_debug_container_and_pod_choice() -> None:
    c = cmd_debug.debug_container("debugger-x", "busybox", ["sh"], True, True, "app")
    assert c == {"name": "debugger-x", "image": "busybox", "terminationMessagePolicy": "File", "command": ["sh"],
                 "stdin": True, "tty": True, "targetContainerName": "app",
                 "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}   # kubectl's "general" profile
    assert podfor.pick_selector({"kind": "Service", "spec": {"selector": {"b": "2", "a": "1"}}}) == "a=1,b=2"
    assert podfor.pick_selector({"kind": "Deployment", "spec": {"selector": {"matchLabels": {"app": "x"}}}}) == "app=x"
    ready = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
             "metadata": {"creationTimestamp": "2026-01-02T00:00:00Z"}}
    running = {"status": {"phase": "Running"}, "metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"}}
    pending = {"status": {"phase": "Pending"}, "metadata": {"creationTimestamp": "2025-01-01T00:00:00Z"}}
    assert podfor.rank_pods([pending, running, ready]) == [ready, running, pending]


def test_container_choice_names_init_and_ephemeral_containers_as_kubectl() -> None:
    from kubectl.cmd_logs import pick_containers
    pod = {"metadata": {"name": "web"},
           "spec": {"initContainers": [{"name": "setup"}], "containers": [{"name": "app"}, {"name": "side"}],
                    "ephemeralContainers": [{"name": "debugger-x"}]}}
    assert pick_containers(pod, "", False) == (
        ["app"], 'Defaulted container "app" out of: setup (init), app, side, debugger-x (ephem)')
    assert pick_containers(pod, "debugger-x", False) == (["debugger-x"], None)
    assert pick_containers(pod, "", True) == (["setup", "app", "side", "debugger-x"], None)
