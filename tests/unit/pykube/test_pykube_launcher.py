"""The launcher: every command registers, flags parse, logs are one component-prefixed line."""
from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import pytest

from pykube import runstate
from component_base.logs import OneLineFormatter, component_of, setup_logging
from pykube.main import build_parser
from pykube.node import dns_ip
from pykube.supervisor import COMPONENT


def test_commands_are_registered() -> None:
    sub = build_parser()._subparsers._group_actions[0]  # type: ignore[union-attr]
    for name in ("server", "agent", "killall", "apiserver", "controller-manager", "scheduler", "kubelet"):
        assert name in sub.choices


def test_server_flags() -> None:
    args = build_parser().parse_args(
        ["server", "-d", "/tmp/x", "--secure-port", "0", "--tls-san", "a", "--tls-san", "b",
         "--datastore-endpoint", "etcd://127.0.0.1:2379", "--cluster-cidr", "10.77.0.0/16",
         "--service-cidr", "10.112.0.0/16", "--disable-agent", "--node-name", "n1", "-v"])
    assert args.data_dir == Path("/tmp/x") and args.secure_port == 0 and args.tls_san == ["a", "b"]
    assert args.disable_agent and args.node_name == "n1" and args.verbose == 1
    assert args.service_cidr == "10.112.0.0/16"


def test_agent_needs_a_server() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["agent", "--token", "x"])
    args = build_parser().parse_args(["agent", "-s", "https://h:6443", "--token", "t", "--runtime", "fake",
                                      "--port", "0", "-d", "/tmp/a"])
    assert args.server == "https://h:6443" and args.runtime == "fake" and args.port == 0


def test_dns_ip_is_the_tenth_service_address() -> None:
    assert dns_ip("10.96.0.0/12") == "10.96.0.10"
    assert dns_ip("10.112.0.0/16") == "10.112.0.10"


def test_component_prefix() -> None:
    assert component_of("kubelet.proxy.iptables") == "kube-proxy"
    assert component_of("kubelet") == "kubelet"
    assert component_of("controllers.deployment") == "controller-manager"
    assert component_of("client.informer", "scheduler") == "scheduler"
    assert component_of("pykube.join") == "agent"
    assert component_of("controllers.base", "servicelb") == "servicelb"   # the running component wins
    assert component_of("supervisor", "kubelet") == "supervisor"


def test_one_line_per_event_even_with_an_exception() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    setup_logging(0, stream)
    try:
        token = COMPONENT.set("scheduler")
        try:
            raise RuntimeError("first line\nsecond line")
        except RuntimeError:
            logging.getLogger("client.watch").exception("watch failed")
        COMPONENT.reset(token)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    [line] = stream.getvalue().splitlines()
    assert " ERROR scheduler: watch failed (RuntimeError: first line)" in line
    assert isinstance(logging.Formatter(), logging.Formatter) and OneLineFormatter(False, False)


def test_pid_file_refuses_a_second_process(tmp_path: Path) -> None:
    path = runstate.claim_pid_file(tmp_path, "server")
    assert path.read_text().strip() == str(os.getpid())
    assert runstate.claim_pid_file(tmp_path, "server") == path      # ourselves again: fine
    path.write_text(f"{os.getppid()}\n")                             # a live other process
    with pytest.raises(runstate.AlreadyRunning, match="already runs"):
        runstate.claim_pid_file(tmp_path, "server")
    path.write_text("999999999\n")                                   # a dead one: taken over
    runstate.claim_pid_file(tmp_path, "server")
    runstate.release_pid_file(tmp_path, "server")
    assert not path.exists()


def test_apiserver_defaults_match_the_design(monkeypatch: pytest.MonkeyPatch) -> None:
    """`pykube apiserver` with no flags: 127.0.0.1:6443, the data dir of DESIGN.md, and
    sqlite inside it (no --datastore-endpoint)."""
    from pathlib import Path

    from apiserver.server import default_data_dir
    from pykube.main import build_parser
    args = build_parser().parse_args(["apiserver"])
    assert (args.bind_address, args.secure_port, args.datastore_endpoint) == ("127.0.0.1", 6443, None)
    monkeypatch.delenv("PYKUBE_DATA_DIR", raising=False)
    monkeypatch.setattr("os.geteuid", lambda: 0)
    assert default_data_dir() == Path("/var/lib/pykube")
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert default_data_dir() == Path.home() / ".local" / "share" / "pykube"


def test_server_passes_scheduler_flags_through() -> None:
    """`pykube server --kube-scheduler-arg` takes every `pykube scheduler` flag; the server's
    own --leader-elect and its stable identity come first."""
    from pykube import components
    opts = components.scheduler_options("node-a_1234", False, [
        "scheduler-name=my-scheduler", "--scheduler-name=default-scheduler",
        "percentage-of-nodes-to-score=50", "leader-elect-lease-duration=30s",
        "leader-elect-renew-deadline=20s", "leader-elect-retry-period=4s"])
    assert opts.scheduler_names == frozenset({"my-scheduler", "default-scheduler"})
    assert opts.percentage_of_nodes_to_score == 50
    assert (opts.lease_duration, opts.renew_deadline, opts.retry_period) == (30.0, 20.0, 4.0)
    assert opts.leader_elect is False and opts.identity == "node-a_1234"
    args = build_parser().parse_args(["server", "--kube-scheduler-arg", "scheduler-name=x"])
    assert args.kube_scheduler_arg == ["scheduler-name=x"]
