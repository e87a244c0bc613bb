"""CRI log rendering (tailLines, timestamps, partial lines) and the pod → runtime config translation."""
from __future__ import annotations

import json
from pathlib import Path

from kubelet.logs import LogOptions, parse_line, render, select, stream_log
from kubelet.network import cni_conflist, write_cni_config
from kubelet.podconfig import NodeContext, container_config, linux_resources, sandbox_config
from kubelet.runtime_pod import ANN_RESTART_COUNT
from tests.support.kubelet_pods import pod

LOG = """2026-01-02T03:04:05.000000001Z stdout F one
2026-01-02T03:04:06.000000002Z stderr P tw
2026-01-02T03:04:06.100000000Z stderr F o
2026-01-02T03:04:07.000000000Z stdout F three
"""


def entries() -> list:
    return [e for line in LOG.splitlines() if (e := parse_line(line))]


def test_render_joins_partial_lines() -> None:
    assert render(entries(), False) == "one\ntwo\nthree\n"
    assert render(entries(), True).splitlines()[1] == "2026-01-02T03:04:06.000000002Z two"


def test_tail_lines_counts_full_lines() -> None:
    assert render(select(entries(), LogOptions(tail_lines=2)), False) == "two\nthree\n"
    assert render(select(entries(), LogOptions(tail_lines=0)), False) == ""
    assert render(select(entries(), LogOptions(tail_lines=10)), False) == "one\ntwo\nthree\n"


def test_options_from_query() -> None:
    o = LogOptions.from_query({"follow": "true", "tailLines": "5", "timestamps": "1", "limitBytes": "3"})
    assert (o.follow, o.tail_lines, o.timestamps, o.limit_bytes) == (True, 5, True, 3)


async def test_stream_log_with_limit(tmp_path: Path) -> None:
    f = tmp_path / "0.log"
    f.write_text(LOG)

    async def running() -> bool:
        return False
    out = b"".join([c async for c in stream_log(f, LogOptions(), running)])
    assert out == b"one\ntwo\nthree\n"
    out = b"".join([c async for c in stream_log(f, LogOptions(follow=True, limit_bytes=5), running)])
    assert out == b"one\nt"


def test_sandbox_and_container_config(tmp_path: Path) -> None:
    p = pod(containers=[{"name": "c", "image": "busybox:1", "ports": [{"containerPort": 80, "hostPort": 8080}],
                         "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "250m"}}}])
    node = NodeContext(tmp_path, "/pykube/kubepods")
    sb = sandbox_config(p, node, attempt=1)
    assert sb.cgroup_parent == "/pykube/kubepods/poduid-web"
    assert sb.log_directory == str(tmp_path / "default_web_uid-web")
    assert sb.hostname == "web" and sb.attempt == 1 and sb.dns is None
    assert [(m.container_port, m.host_port) for m in sb.port_mappings] == [(80, 8080)]
    assert p.spec is not None
    r = linux_resources(p.spec.containers[0])
    assert r is not None and (r.cpu_shares, r.cpu_quota, r.cpu_period, r.memory_limit_in_bytes) == \
        (256, 50000, 100000, 128 * 1024 * 1024)
    cc = container_config(p, p.spec.containers[0], 3, ["sh"], [], {"A": "1"}, [])
    assert cc.log_path == "c/3.log" and cc.attempt == 3 and cc.annotations[ANN_RESTART_COUNT] == "3"
    node.cluster_dns = ["10.96.0.10"]
    dns = sandbox_config(p, node, 0).dns
    assert dns is not None and dns.servers == ["10.96.0.10"] and dns.searches[0] == "default.svc.cluster.local"


def test_cni_conflist(tmp_path: Path) -> None:
    c = cni_conflist("10.244.3.0/24", "br-test", "net-test", tmp_path / "ipam")
    bridge = c["plugins"][0]
    assert c["name"] == "net-test" and bridge["bridge"] == "br-test"
    assert bridge["isGateway"] and bridge["ipMasq"] and bridge["hairpinMode"]
    assert bridge["ipam"]["ranges"] == [[{"subnet": "10.244.3.0/24", "gateway": "10.244.3.1"}]]
    assert [p["type"] for p in c["plugins"]] == ["bridge", "portmap", "loopback"]
    assert write_cni_config(tmp_path, "10.244.3.0/24") is True
    assert write_cni_config(tmp_path, "10.244.3.0/24") is False
    assert json.loads((tmp_path / "10-pykube.conflist").read_text())["plugins"][0]["bridge"] == "cni0"


def test_log_instance_is_the_one_last_state_names() -> None:
    from kubelet.logs import log_instance
    from kubelet.runtime.interface import ContainerState
    from tests.support.kubelet_pods import cstatus
    p = pod()
    dead0 = cstatus(p, state=ContainerState.EXITED, exit_code=1, restarts=0)
    dead1 = cstatus(p, state=ContainerState.EXITED, exit_code=1, restarts=1)
    running2 = cstatus(p, restarts=2)
    # running after a crash: previous is the crashed one, current the running one
    assert log_instance(p, "c", [running2, dead1], True) is dead1
    assert log_instance(p, "c", [running2, dead1], False) is running2
    # waiting to restart (CrashLoopBackOff): the exited one is lastState, so it is "previous"
    assert log_instance(p, "c", [dead1, dead0], True) is dead1
    assert log_instance(p, "c", [dead1], True) is dead1
    # finished for good (restartPolicy Never): previous is the instance before it, if any
    never = pod(restart_policy="Never")
    done = cstatus(never, state=ContainerState.EXITED, exit_code=1)
    assert log_instance(never, "c", [done], True) == 'previous terminated container "c" in pod "web" not found'
    assert log_instance(p, "c", [running2], True) == 'previous terminated container "c" in pod "web" not found'
    waiting = pod(status={"containerStatuses": [{"name": "c", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]})
    assert log_instance(waiting, "c", [], False) == \
        'container "c" in pod "web" is waiting to start: trying and failing to pull image'
    assert log_instance(pod(), "c", [], False) == 'container "c" in pod "web" is waiting to start: ContainerCreating'
