"""killall's pure parts: which processes, units, bridges, routes and CNI chains are ours."""
from __future__ import annotations

import os
from pathlib import Path

from component_base.procs import ancestors
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


def test_never_ourselves_or_our_parents(tmp_path: Path) -> None:
    assert os.getpid() not in procs.processes_of(Path.cwd())
    assert os.getppid() in ancestors(os.getpid())


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
