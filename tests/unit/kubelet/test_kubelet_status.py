"""generate_pod_status: phase, conditions, IPs and container statuses as Kubernetes has them."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubelet.runtime.interface import ContainerState, SandboxState
from kubelet.status import StatusContext, generate_pod_status, pod_phase
from tests.support.kubelet_pods import cstatus, pod, runtime_pod, sandbox

NOW = datetime(2026, 1, 2, 3, 10, 0, tzinfo=UTC)


class Probes:
    def __init__(self, results: dict[tuple[str, str], bool | None]) -> None:
        self.results = results

    def result(self, cid: str, kind: str) -> bool | None:
        return self.results.get((cid, kind), {"liveness": True, "readiness": False, "startup": None}[kind])


def ctx(**kw: Any) -> StatusContext:
    return StatusContext(host_ip="192.168.1.10", now=NOW, **kw)


def cond(status: dict[str, Any], ctype: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == ctype)


def test_pending_pod_waits_in_container_creating() -> None:
    p = pod()
    s = generate_pod_status(p, runtime_pod(p), ctx())
    assert s["phase"] == "Pending"
    cs = s["containerStatuses"][0]
    assert cs["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert cs["ready"] is False and cs["restartCount"] == 0
    assert cond(s, "Ready")["status"] == "False" and cond(s, "Ready")["reason"] == "ContainersNotReady"
    assert cond(s, "Ready")["message"] == "containers with unready status: [c]"
    assert "podIP" not in s and s["hostIP"] == "192.168.1.10"
    assert s["startTime"] == "2026-01-02T03:10:00Z"


def test_running_pod_is_ready_with_ip() -> None:
    p = pod()
    st = cstatus(p)
    s = generate_pod_status(p, runtime_pod(p, sandbox(), [st]), ctx())
    assert s["phase"] == "Running"
    assert s["podIP"] == "10.244.0.5" and s["podIPs"] == [{"ip": "10.244.0.5"}]
    assert s["hostIPs"] == [{"ip": "192.168.1.10"}]
    cs = s["containerStatuses"][0]
    assert cs["state"] == {"running": {"startedAt": "2026-01-02T03:04:05Z"}}
    assert cs["ready"] is True and cs["started"] is True
    assert cs["containerID"] == f"containerd://{st.id}"
    assert cs["imageID"] == "docker.io/library/busybox@sha256:abc"
    assert [c["type"] for c in s["conditions"]] == ["PodReadyToStartContainers", "Initialized", "Ready",
                                                     "ContainersReady", "PodScheduled"]
    assert all(c["status"] == "True" for c in s["conditions"])


def test_readiness_probe_gates_ready() -> None:
    p = pod(containers=[{"name": "c", "image": "busybox:1", "readinessProbe": {"exec": {"command": ["true"]}}}])
    st = cstatus(p)
    rp = runtime_pod(p, sandbox(), [st])
    s = generate_pod_status(p, rp, ctx(probe=Probes({})))
    assert s["phase"] == "Running" and s["containerStatuses"][0]["ready"] is False
    assert cond(s, "Ready")["status"] == "False"
    s = generate_pod_status(p, rp, ctx(probe=Probes({(st.id, "readiness"): True})))
    assert s["containerStatuses"][0]["ready"] is True and cond(s, "Ready")["status"] == "True"


def test_startup_probe_gates_started_and_ready() -> None:
    p = pod(containers=[{"name": "c", "image": "busybox:1", "startupProbe": {"exec": {"command": ["true"]}}}])
    st = cstatus(p)
    s = generate_pod_status(p, runtime_pod(p, sandbox(), [st]), ctx(probe=Probes({})))
    cs = s["containerStatuses"][0]
    assert cs["started"] is False and cs["ready"] is False


def test_crash_loop_shows_waiting_with_last_state() -> None:
    p = pod()
    dead = cstatus(p, state=ContainerState.EXITED, exit_code=1, restarts=3)
    waiting = {"c": ("CrashLoopBackOff", "back-off 40s restarting failed container=c pod=web_default(uid-web)")}
    s = generate_pod_status(p, runtime_pod(p, sandbox(), [dead]), ctx(waiting=waiting))
    cs = s["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert cs["lastState"]["terminated"]["reason"] == "Error"
    assert cs["restartCount"] == 3
    assert s["phase"] == "Running"  # restarting, as Kubernetes reports it


def test_restarted_container_has_last_state() -> None:
    p = pod()
    s = generate_pod_status(p, runtime_pod(p, sandbox(), [
        cstatus(p, state=ContainerState.EXITED, exit_code=137, restarts=0),
        cstatus(p, restarts=1)]), ctx())
    cs = s["containerStatuses"][0]
    assert "running" in cs["state"] and cs["restartCount"] == 1
    assert cs["lastState"]["terminated"]["exitCode"] == 137


def test_terminal_phases() -> None:
    p = pod(restart_policy="Never")
    ok = generate_pod_status(p, runtime_pod(p, sandbox(SandboxState.NOTREADY, ip=""),
                                            [cstatus(p, state=ContainerState.EXITED)]), ctx())
    assert ok["phase"] == "Succeeded"
    assert cond(ok, "Ready")["reason"] == "PodCompleted"
    assert ok["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    bad = generate_pod_status(p, runtime_pod(p, sandbox(), [cstatus(p, state=ContainerState.EXITED, exit_code=2)]), ctx())
    assert bad["phase"] == "Failed"


def test_terminal_phase_sticks_and_keeps_ip() -> None:
    p = pod(restart_policy="Never", status={"phase": "Failed", "podIP": "10.244.0.9", "podIPs": [{"ip": "10.244.0.9"}]})
    s = generate_pod_status(p, runtime_pod(p, sandbox(SandboxState.NOTREADY, ip=""), []), ctx())
    assert s["phase"] == "Failed" and s["podIP"] == "10.244.0.9"


def test_phase_table() -> None:
    run = {"state": {"running": {}}}
    wait = {"state": {"waiting": {"reason": "ContainerCreating"}}}
    crash = {"state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": {"terminated": {"exitCode": 1}}}
    done = {"state": {"terminated": {"exitCode": 0}}}
    failed = {"state": {"terminated": {"exitCode": 1}}}
    assert pod_phase("Always", [run, wait]) == "Pending"
    assert pod_phase("Always", [run, crash]) == "Running"
    assert pod_phase("Always", [done]) == "Running"
    assert pod_phase("OnFailure", [done]) == "Succeeded"
    assert pod_phase("OnFailure", [failed]) == "Running"
    assert pod_phase("Never", [done, failed]) == "Failed"
    assert pod_phase("Never", [run, failed]) == "Running"
    assert pod_phase("Always", []) == "Pending"


def test_transition_times_move_only_on_change() -> None:
    p = pod()
    rp = runtime_pod(p, sandbox(), [cstatus(p)])
    first = generate_pod_status(p, rp, ctx())
    later = StatusContext(host_ip="192.168.1.10", now=datetime(2026, 1, 2, 4, 0, 0, tzinfo=UTC))
    p2 = pod(status=first)
    again = generate_pod_status(p2, rp, later)
    assert again == first  # same world, same status: nothing to write
    unready = generate_pod_status(p2, runtime_pod(p, sandbox(), [cstatus(p, state=ContainerState.EXITED)]),
                                  StatusContext(host_ip="192.168.1.10", now=later.now,
                                                waiting={"c": ("CrashLoopBackOff", "x")}))
    assert cond(unready, "Ready")["lastTransitionTime"] == "2026-01-02T04:00:00Z"
    assert cond(unready, "Initialized")["lastTransitionTime"] == cond(first, "Initialized")["lastTransitionTime"]


def test_pod_scheduled_condition_is_kept_from_the_scheduler() -> None:
    sched = {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2025-12-31T00:00:00Z"}
    p = pod(status={"phase": "Pending", "conditions": [sched], "qosClass": "BestEffort"})
    s = generate_pod_status(p, runtime_pod(p), ctx())
    assert cond(s, "PodScheduled") == sched and s["qosClass"] == "BestEffort"


def test_init_containers_status() -> None:
    p = pod(initContainers=[{"name": "init", "image": "busybox:1"}])
    s = generate_pod_status(p, runtime_pod(p, sandbox(), [cstatus(p, "init", spec_list="init")]), ctx())
    assert s["phase"] == "Pending"
    assert cond(s, "Initialized")["status"] == "False"
    assert cond(s, "Initialized")["reason"] == "ContainersNotInitialized"
    assert "running" in s["initContainerStatuses"][0]["state"]
    assert s["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
    done = cstatus(p, "init", ContainerState.EXITED, spec_list="init")
    s = generate_pod_status(p, runtime_pod(p, sandbox(), [done, cstatus(p)]), ctx())
    assert s["phase"] == "Running" and cond(s, "Initialized")["status"] == "True"
    assert s["initContainerStatuses"][0]["ready"] is True
    assert s["initContainerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    never = pod(initContainers=[{"name": "init", "image": "busybox:1"}], restart_policy="Never")
    bad = cstatus(never, "init", ContainerState.EXITED, exit_code=1, spec_list="init")
    assert generate_pod_status(never, runtime_pod(never, sandbox(), [bad]), ctx())["phase"] == "Failed"


def test_ephemeral_containers_are_reported_beside_and_never_ready() -> None:
    p = pod(ephemeralContainers=[{"name": "debugger", "image": "busybox:1"}])
    s = generate_pod_status(p, runtime_pod(p, sandbox(), [cstatus(p)]), ctx())
    assert [e["name"] for e in s["ephemeralContainerStatuses"]] == ["debugger"]
    assert s["ephemeralContainerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert s["phase"] == "Running" and cond(s, "Ready")["status"] == "True"   # a waiting debugger changes neither
    dbg = cstatus(p, "debugger", spec_list="ephemeral")
    s = generate_pod_status(p, runtime_pod(p, sandbox(), [cstatus(p), dbg]), ctx())
    e = s["ephemeralContainerStatuses"][0]
    assert "running" in e["state"] and e["ready"] is False
    assert [c["name"] for c in s["containerStatuses"]] == ["c"]
    dbg = cstatus(p, "debugger", ContainerState.EXITED, exit_code=3, spec_list="ephemeral")
    s = generate_pod_status(p, runtime_pod(p, sandbox(), [cstatus(p), dbg]), ctx())
    assert s["ephemeralContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 3 and s["phase"] == "Running"
