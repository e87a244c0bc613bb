"""killall's pure parts: which processes, units, bridges, routes and CNI chains are ours."""
from __future__ import annotations

import os
from pathlib import Path

from pykube import hostnet, procs
from pykube.killall import remove_empty_cgroups, states, units_for
from pykube.runstate import HostState


def test_refers_to_the_data_dir_only() -> None:
    d = Path("/var/lib/pk-test")
    assert procs.refers_to(["pykube", "server", "--data-dir", "/var/lib/pk-test"], d)
    assert procs.refers_to(["pykube", "server", "--data-dir=/var/lib/pk-test"], d)
    assert procs.refers_to(["containerd", "--config", "/var/lib/pk-test/agent/containerd/containerd.toml"], d)
    assert not procs.refers_to(["pykube", "server", "--data-dir", "/var/lib/pk-test2"], d)
    assert not procs.refers_to(["pykube", "server"], d)


def test_shims_are_recognised() -> None:
    assert procs.is_shim(["/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-id", "x",
                          "-address", "/d/run/containerd.sock"])
    assert not procs.is_shim(["containerd", "--config", "/d/containerd.toml"])


def test_never_ourselves_or_our_parents(tmp_path: Path) -> None:
    assert os.getppid() in procs.ancestors(os.getpid())


async def test_killall_stops_the_pid_file_tree_and_nothing_else(tmp_path: Path) -> None:
    """The server named by the pid file and its children stop; a `tail -f` of the server's
    log, whose command line names the data dir, is left running; so is a process that got
    the pid file's pid after the server was gone (the file is older than the process)."""
    import asyncio
    import subprocess

    from pykube import runstate
    from pykube.killall import stop_processes
    data = tmp_path / "data"
    (data / "logs").mkdir(parents=True)
    (data / "logs" / "server.log").write_text("hello\n")
    server = subprocess.Popen(["sh", "-c", "sleep 300 & sleep 300 & wait"])
    decoy = subprocess.Popen(["tail", "-f", str(data / "logs" / "server.log")], stdout=subprocess.DEVNULL)
    try:
        pf = runstate.pid_file(data, "server")
        pf.parent.mkdir(parents=True, exist_ok=True)
        pf.write_text(f"{server.pid}\n")
        for _ in range(200):   # the server has started its two children
            if len(procs.descendants(server.pid)) == 2:
                break
            await asyncio.sleep(0.01)
        children = procs.descendants(server.pid)
        assert len(children) == 2
        stopped = await stop_processes(data, timeout=5)
        assert sorted(stopped) == sorted([server.pid, *children])
        assert server.wait(timeout=5) is not None
        assert decoy.poll() is None                       # still running
        # a stale pid file naming a process younger than the file is not ours
        os.utime(pf, (1_000_000, 1_000_000))
        pf.write_text(f"{decoy.pid}\n")
        os.utime(pf, (1_000_000, 1_000_000))
        assert procs.pid_from_file(pf) is None
        assert await stop_processes(data, timeout=1) == []
        assert decoy.poll() is None
    finally:
        for p in (server, decoy):
            if p.poll() is None:
                p.kill()
                p.wait()


def test_units_naming_the_data_dir(tmp_path: Path) -> None:
    (tmp_path / "pykube-server.service").write_text(
        "[Service]\nExecStart=/opt/pykube/.venv/bin/pykube server --data-dir /srv/pk\n")
    (tmp_path / "pykube-agent.service").write_text("[Service]\nExecStart=/usr/bin/pykube agent -s https://h\n")
    (tmp_path / "other.service").write_text("[Service]\nExecStart=/bin/true /srv/pk\n")
    assert units_for(Path("/srv/pk"), tmp_path) == ["pykube-server.service"]
    assert units_for(Path("/var/lib/pykube"), tmp_path) == ["pykube-agent.service"]
    assert units_for(Path("/elsewhere"), tmp_path) == []


def test_bridge_and_network_from_the_conflist(tmp_path: Path) -> None:
    from kubelet.network import write_cni_config
    write_cni_config(tmp_path, "10.77.3.0/24", bridge="pkq1", network="pkq-net")
    assert hostnet.bridges_in_conflists(tmp_path) == ["pkq1"]
    assert hostnet.networks_in_conflists(tmp_path) == ["pkq-net"]
    assert hostnet.bridges_in_conflists(tmp_path / "missing") == []


def test_routes_within_the_pod_range() -> None:
    out = ("default via 192.0.2.1 dev eth0\n"
           "10.77.1.0/24 via 192.0.2.11 dev eth0\n"
           "10.77.0.0/24 dev pkq1 proto kernel scope link src 10.77.0.1\n"
           "10.78.1.0/24 via 192.0.2.12 dev eth0\n"
           "192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2\n")
    assert hostnet.routes_within(out, ["10.77.0.0/16"]) == ["10.77.1.0/24", "10.77.0.0/24"]
    assert hostnet.routes_within(out, []) == []


def test_cni_nat_leftovers_of_our_network_only() -> None:
    save = "\n".join([
        "*nat",
        ":CNI-aaa - [0:0]",
        '-A POSTROUTING -s 10.77.0.5/32 -m comment --comment "name: \\"pkq-net\\" id: \\"abc\\"" -j CNI-aaa',
        '-A POSTROUTING -s 10.88.0.5/32 -m comment --comment "name: \\"other\\" id: \\"def\\"" -j CNI-bbb',
        "-A CNI-aaa -d 10.77.0.0/24 -j ACCEPT",
        "COMMIT"])
    rules, chains = hostnet.cni_nat_leftovers(save, ["pkq-net"])
    assert chains == ["CNI-aaa"]
    assert rules == ['POSTROUTING -s 10.77.0.5/32 -m comment --comment "name: \\"pkq-net\\" id: \\"abc\\"" -j CNI-aaa']
    assert hostnet._split_rule(rules[0])[-4:] == ["--comment", 'name: "pkq-net" id: "abc"', "-j", "CNI-aaa"]


def test_states_recorded_or_defaults(tmp_path: Path) -> None:
    assert states(tmp_path) == []
    (tmp_path / "agent").mkdir()
    [default] = states(tmp_path)
    assert default.containerd_dir == str(tmp_path / "agent" / "containerd") and default.cni_bridge == "cni0"
    HostState(role="server", data_dir=str(tmp_path), cni_bridge="pkq1", cluster_cidr="10.77.0.0/16").write()
    [recorded] = states(tmp_path)
    assert (recorded.role, recorded.cni_bridge, recorded.cluster_cidr) == ("server", "pkq1", "10.77.0.0/16")


def test_empty_cgroups_removed_busy_ones_kept(tmp_path: Path) -> None:
    for hier in ("cpu", "memory"):
        (tmp_path / hier / "pkq" / "kubepods" / "pod1").mkdir(parents=True)
    (tmp_path / "memory" / "pkq" / "kubepods" / "pod1" / "busy").write_text("")  # not empty: kept
    (tmp_path / "cpu" / "unrelated").mkdir()
    removed = remove_empty_cgroups("/pkq/kubepods", tmp_path)
    assert removed == 3
    assert not (tmp_path / "cpu" / "pkq").exists()
    assert (tmp_path / "memory" / "pkq" / "kubepods" / "pod1").exists()
    assert (tmp_path / "cpu" / "unrelated").exists()
