"""compute_pod_actions: what the kubelet decides to do, from spec and runtime state."""
from __future__ import annotations

from kubelet.actions import compute_pod_actions, should_restart
from kubelet.runtime.interface import ContainerState, SandboxState
from tests.support.kubelet_pods import cstatus, pod, runtime_pod, sandbox

TWO = [{"name": "a", "image": "busybox:1"}, {"name": "b", "image": "busybox:1"}]


def test_new_pod_creates_sandbox_and_starts_all() -> None:
    p = pod(containers=TWO)
    a = compute_pod_actions(p, runtime_pod(p))
    assert a.create_sandbox and a.attempt == 0 and not a.kill_pod
    assert a.start == ["a", "b"]


def test_running_pod_needs_nothing() -> None:
    p = pod(containers=TWO)
    a = compute_pod_actions(p, runtime_pod(p, sandbox(), [cstatus(p, "a"), cstatus(p, "b")]))
    assert not a.create_sandbox and not a.kill_pod and a.start == [] and a.kill == {}


def test_dead_sandbox_is_replaced_with_next_attempt() -> None:
    p = pod()
    rp = runtime_pod(p, sandbox(SandboxState.NOTREADY, ip="", attempt=2),
                     [cstatus(p, state=ContainerState.EXITED, exit_code=137)])
    a = compute_pod_actions(p, rp)
    assert a.create_sandbox and a.kill_pod and a.attempt == 3 and a.start == ["c"]


def test_sandbox_without_ip_is_replaced() -> None:
    p = pod()
    a = compute_pod_actions(p, runtime_pod(p, sandbox(ip=""), [cstatus(p)]))
    assert a.create_sandbox and a.kill_pod


def test_host_network_sandbox_needs_no_ip() -> None:
    p = pod(hostNetwork=True)
    a = compute_pod_actions(p, runtime_pod(p, sandbox(ip=""), [cstatus(p)]))
    assert not a.create_sandbox and not a.kill_pod


def test_never_pod_gets_no_second_sandbox() -> None:
    p = pod(restart_policy="Never")
    rp = runtime_pod(p, sandbox(SandboxState.NOTREADY, ip=""), [cstatus(p, state=ContainerState.EXITED, exit_code=1)])
    a = compute_pod_actions(p, rp)
    assert not a.create_sandbox and a.kill_pod and a.start == []


def test_on_failure_new_sandbox_skips_succeeded_containers() -> None:
    p = pod(containers=TWO, restart_policy="OnFailure")
    rp = runtime_pod(p, sandbox(SandboxState.NOTREADY, ip=""),
                     [cstatus(p, "a", ContainerState.EXITED, exit_code=0),
                      cstatus(p, "b", ContainerState.EXITED, exit_code=2)])
    a = compute_pod_actions(p, rp)
    assert a.create_sandbox and a.start == ["b"]


def test_exited_container_restart_by_policy() -> None:
    for policy, code, want in [("Always", 0, True), ("Always", 1, True), ("OnFailure", 0, False),
                               ("OnFailure", 1, True), ("Never", 1, False), ("Never", 0, False)]:
        p = pod(restart_policy=policy)
        st = cstatus(p, state=ContainerState.EXITED, exit_code=code)
        assert should_restart(p, st) is want, (policy, code)
        a = compute_pod_actions(p, runtime_pod(p, sandbox(), [st]))
        assert (a.start == ["c"]) is want
        assert a.kill_pod is (not want)  # nothing runs and nothing starts: stop the sandbox


def test_created_container_is_replaced() -> None:
    p = pod()
    st = cstatus(p, state=ContainerState.CREATED)
    a = compute_pod_actions(p, runtime_pod(p, sandbox(), [st]))
    assert a.start == ["c"] and st.id in a.kill


def test_failed_liveness_kills_and_restarts() -> None:
    p = pod()
    st = cstatus(p)
    a = compute_pod_actions(p, runtime_pod(p, sandbox(), [st]), {st.id: "liveness probe failed"})
    assert a.kill == {st.id: "liveness probe failed"} and a.start == ["c"] and not a.kill_pod


def test_failed_liveness_under_never_kills_without_restart() -> None:
    p = pod(restart_policy="Never")
    st = cstatus(p)
    a = compute_pod_actions(p, runtime_pod(p, sandbox(), [st]), {st.id: "liveness probe failed"})
    assert st.id in a.kill and a.start == [] and a.kill_pod


def test_changed_spec_restarts_container() -> None:
    p = pod()
    old = pod(containers=[{"name": "c", "image": "busybox:0"}])
    assert old.spec is not None
    st = cstatus(p, hash_of=old.spec.containers[0])
    a = compute_pod_actions(p, runtime_pod(p, sandbox(), [st]))
    assert st.id in a.kill and a.start == ["c"]


def test_deleted_pod_does_not_restart() -> None:
    p = pod()
    p.metadata.deletion_timestamp = "2026-01-01T00:00:00Z"
    assert not should_restart(p, cstatus(p, state=ContainerState.EXITED, exit_code=1))


def test_latest_instance_decides() -> None:
    p = pod()
    rp = runtime_pod(p, sandbox(), [cstatus(p, state=ContainerState.EXITED, exit_code=1, restarts=0),
                                    cstatus(p, state=ContainerState.RUNNING, restarts=1)])
    a = compute_pod_actions(p, rp)
    assert a.start == [] and a.kill == {}


INIT = [{"name": "i1", "image": "busybox:1"}, {"name": "i2", "image": "busybox:1"}]


def test_init_containers_run_first_one_at_a_time() -> None:
    p = pod(initContainers=INIT)
    a = compute_pod_actions(p, runtime_pod(p))
    assert a.create_sandbox and a.start == ["i1"]
    a = compute_pod_actions(p, runtime_pod(p, sandbox(), [cstatus(p, "i1", spec_list="init")]))
    assert a.start == [] and not a.kill_pod  # i1 still running
    done1 = cstatus(p, "i1", ContainerState.EXITED, spec_list="init")
    assert compute_pod_actions(p, runtime_pod(p, sandbox(), [done1])).start == ["i2"]
    done2 = cstatus(p, "i2", ContainerState.EXITED, spec_list="init")
    assert compute_pod_actions(p, runtime_pod(p, sandbox(), [done1, done2])).start == ["c"]


def test_failed_init_container_restarts_or_fails_the_pod() -> None:
    for policy, start, kill in (("Always", ["i1"], False), ("Never", [], True)):
        p = pod(initContainers=INIT, restart_policy=policy)
        bad = cstatus(p, "i1", ContainerState.EXITED, exit_code=2, spec_list="init")
        a = compute_pod_actions(p, runtime_pod(p, sandbox(), [bad]))
        assert a.start == start and a.kill_pod is kill


def test_no_new_sandbox_when_nothing_would_start() -> None:
    p = pod(restart_policy="OnFailure")
    rp = runtime_pod(p, sandbox(SandboxState.NOTREADY, ip=""), [cstatus(p, state=ContainerState.EXITED)])
    a = compute_pod_actions(p, rp)
    assert not a.create_sandbox and a.start == []


DEBUGGER = [{"name": "debugger", "image": "busybox:1", "targetContainerName": "c"}]


def test_an_ephemeral_container_starts_once_in_the_running_sandbox() -> None:
    p = pod(ephemeralContainers=DEBUGGER)
    a = compute_pod_actions(p, runtime_pod(p, sandbox(), [cstatus(p)]))
    assert a.start_ephemeral == ["debugger"] and a.start == [] and not a.kill_pod and not a.create_sandbox
    done = cstatus(p, "debugger", ContainerState.EXITED, exit_code=1, spec_list="ephemeral")
    a = compute_pod_actions(p, runtime_pod(p, sandbox(), [cstatus(p), done]))
    assert a.start_ephemeral == [] and a.start == [] and not a.kill_pod   # never restarted


def test_an_ephemeral_container_starts_while_init_containers_run() -> None:
    p = pod(initContainers=[{"name": "setup", "image": "busybox:1"}], ephemeralContainers=DEBUGGER)
    running_init = cstatus(p, "setup", spec_list="init")
    a = compute_pod_actions(p, runtime_pod(p, sandbox(), [running_init]))
    assert a.start_ephemeral == ["debugger"] and a.start == []


def test_no_ephemeral_container_starts_in_a_pod_being_deleted_or_rebuilt() -> None:
    p = pod(ephemeralContainers=DEBUGGER)
    a = compute_pod_actions(p, runtime_pod(p, sandbox(SandboxState.NOTREADY, ip=""), [cstatus(p)]))
    assert a.create_sandbox and a.start_ephemeral == []
    p.metadata.deletion_timestamp = "2026-01-02T03:04:05Z"
    a = compute_pod_actions(p, runtime_pod(p, sandbox(), [cstatus(p)]))
    assert a.start_ephemeral == []
