"""The pure parts of an HA control plane: the bootstrap data opens only with the cluster's
token, a joining member's etcd flags, the etcd a joining server asks, and the flag
combinations `pykube server` refuses before starting anything."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from pykube import bootstrap
from pykube.embedded_etcd import Member, etcd_endpoint_of, parse_member_add
from pykube.server import _embedded_etcd


def test_bootstrap_opens_only_with_the_token(tmp_path: Path) -> None:
    src, dst = tmp_path / "a", tmp_path / "b"
    for rel in bootstrap.FILES:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(f"content of {rel}".encode())
    sealed = bootstrap.seal(src, "the-secret")
    assert b"content of" not in sealed.encode()
    with pytest.raises(bootstrap.BootstrapError, match="does not open with this token"):
        bootstrap.unseal(sealed, "another-secret")
    bootstrap.write_files(dst, bootstrap.unseal(sealed, "the-secret"))
    assert all((dst / rel).read_bytes() == (src / rel).read_bytes() for rel in bootstrap.FILES)
    assert oct((dst / "server/tls/server-ca.key").stat().st_mode & 0o777) == "0o600"


def test_member_flags_new_existing_and_restarted(tmp_path: Path) -> None:
    m = Member("server-2", "10.0.0.12", tmp_path / "etcd")
    argv = m.argv("server-1=http://10.0.0.11:2380,server-2=http://10.0.0.12:2380", "existing")
    assert argv[argv.index("--initial-cluster-state") + 1] == "existing"
    assert argv[argv.index("--listen-client-urls") + 1] == "http://10.0.0.12:2379,http://127.0.0.1:2379"
    (tmp_path / "etcd" / "member").mkdir(parents=True)
    assert "--initial-cluster" not in m.argv()          # a restarted member rejoins with its data
    assert etcd_endpoint_of("https://10.0.0.11:6443") == "http://10.0.0.11:2379"
    out = 'Member 1 added\n\nETCD_NAME="server-2"\nETCD_INITIAL_CLUSTER="a=http://x:2380,server-2=http://y:2380"\n'
    assert parse_member_add(out) == "a=http://x:2380,server-2=http://y:2380"


@pytest.mark.parametrize("flags, msg", [
    ({"cluster_init": True, "datastore_endpoint": "etcd://x:2379"}, "leave out --datastore-endpoint"),
    ({"cluster_init": True, "server": "https://x:6443", "token": "K10"}, "give one of them"),
    ({"server": "https://x:6443"}, "--server needs --token"),
])
def test_refused_flag_combinations(tmp_path: Path, flags: dict[str, object], msg: str) -> None:
    args = argparse.Namespace(**{"cluster_init": False, "server": None, "token": None, "datastore_endpoint": None,
                                 "advertise_address": "10.0.0.11", "node_ip": None, **flags})
    with pytest.raises(ValueError, match=msg):
        _embedded_etcd(args, tmp_path, "server-1")
