"""The pure parts of `pykube lab`: the plan (names, addresses, roles, flags per node), the
lab record's round trip, the free-subnet pick and the cgroup re-mount lines, and the
command line's answers that need no root."""
from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from pykube.lab.netns import cgroup_mount_script, enter_prefix, free_lab_octet
from pykube.lab.state import Lab, plan

REPO = Path(__file__).resolve().parents[2]


def test_plan_names_addresses_and_roles(tmp_path: Path) -> None:
    lab = plan(tmp_path, "172.31.40", nodes=3, servers=1, datastore="sqlite", tag="abc123")
    assert [(n.name, n.role, n.ip) for n in lab.nodes] == [
        ("server-1", "server", "172.31.40.11"), ("agent-1", "agent", "172.31.40.12"),
        ("agent-2", "agent", "172.31.40.13")]
    assert [n.netns for n in lab.nodes][0] == "pkl-abc123-server-1"
    assert all(len(n.host_veth) <= 15 for n in lab.nodes) and lab.bridge == "pklbrabc123"
    assert lab.server.name == "server-1" and lab.gateway == "172.31.40.1"
    assert lab.nodes[2].data_dir == str(tmp_path / "nodes" / "agent-2")


def test_extra_args_per_node(tmp_path: Path) -> None:
    lab = plan(tmp_path, "172.31.40", 2, 1, "etcd", grace="15s", tag="t1")
    server, agent = lab.nodes
    regs = tmp_path / "nodes"
    assert lab.extra_args(server) == ("--cgroup-parent /pykube-lab-t1/server-1/kubepods "
                                      f"--private-registry {regs}/server-1/registries.yaml "
                                      "--datastore-endpoint etcd://172.31.40.11:2379 "
                                      "--node-monitor-grace-period 15s")
    assert lab.extra_args(agent) == ("--cgroup-parent /pykube-lab-t1/agent-1/kubepods "
                                     f"--private-registry {regs}/agent-1/registries.yaml")


def test_with_a_registry_the_server_uses_its_own_registries_file(tmp_path: Path) -> None:
    """`lab up --registry`: server-1's agent takes the registries.yaml `--registry` writes;
    agents get the one provision.sh copies from the shared folder, in their data dir."""
    lab = plan(tmp_path, "172.31.40", 2, 1, "sqlite", tag="t1", registry=True)
    server, agent = lab.nodes
    assert "--private-registry" not in lab.extra_args(server)
    assert f"--private-registry {tmp_path}/nodes/agent-1/registries.yaml" in lab.extra_args(agent)
    assert lab.registry_url == "https://172.31.40.11:5443"


@pytest.mark.parametrize("nodes,servers,msg", [(3, 0, "at least one server"), (1, 2, "no more servers"),
                                               (201, 1, "at most 200")])
def test_plan_refuses(tmp_path: Path, nodes: int, servers: int, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        plan(tmp_path, "172.31.40", nodes, servers, "sqlite")


def test_record_round_trip(tmp_path: Path) -> None:
    lab = plan(tmp_path / "lab", "172.31.41", 2, 1, "sqlite", tag="ff00aa")
    lab.nodes[1].anchor_pid = 4242
    lab.write()
    again = Lab.read(tmp_path / "lab")
    assert again == lab
    assert Lab.read(tmp_path / "nothing") is None


def test_free_octet_skips_used_subnets() -> None:
    used = "\n".join(f"inet 172.31.{x}.1/24" for x in range(16, 250) if x != 77)
    assert free_lab_octet(used, random.Random(1)) == 77
    with pytest.raises(RuntimeError, match="no free"):
        free_lab_octet(used + "\ninet 172.31.77.1/24")


def test_cgroup_mount_lines() -> None:
    v1 = ("cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid 0 0\n"
          "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\nproc /proc proc rw 0 0\n")
    assert cgroup_mount_script(v1) == (
        "mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup && "
        "mkdir -p /sys/fs/cgroup/unified && mount -t cgroup2 -o rw,nosuid cgroup2 /sys/fs/cgroup/unified && "
        "mkdir -p /sys/fs/cgroup/memory && mount -t cgroup -o rw,memory cgroup /sys/fs/cgroup/memory")
    v2 = "cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\n"
    assert cgroup_mount_script(v2) == "mount -t cgroup2 -o rw,nsdelegate cgroup2 /sys/fs/cgroup"
    assert enter_prefix(12) == ["nsenter", "-t", "12", "-n", "-m", "-u", "--"]


def test_status_without_a_lab(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "pykube.main", "lab", "--dir", str(tmp_path), "status"],
                       capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 1
    import os
    if os.geteuid() == 0:
        assert f"no lab in {tmp_path}" in r.stderr
    else:
        assert "run as root" in r.stderr


def test_up_refuses_an_ha_lab_on_another_datastore_before_making_anything(tmp_path: Path) -> None:
    import os
    r = subprocess.run([sys.executable, "-m", "pykube.main", "lab", "--dir", str(tmp_path / "lab"), "up",
                        "--nodes", "3", "--servers", "3", "--datastore", "etcd"], capture_output=True, text=True,
                       cwd=REPO)
    if os.geteuid() != 0:
        assert r.returncode == 1 and "run as root" in r.stderr
        return
    assert r.returncode == 2
    assert "--servers > 1 runs the servers' own etcd cluster" in r.stderr
    assert not (tmp_path / "lab").exists()


def test_an_ha_lab_inits_on_server_1_and_joins_the_others(tmp_path: Path) -> None:
    lab = plan(tmp_path, "172.31.40", 4, 3, "sqlite", tag="t1")
    assert lab.ha and [lab.cluster_role(n) for n in lab.nodes] == ["init", "join", "join", ""]
    assert [n.name for n in lab.nodes] == ["server-1", "server-2", "server-3", "agent-1"]
    assert not plan(tmp_path, "172.31.40", 2, 1, "sqlite").ha
