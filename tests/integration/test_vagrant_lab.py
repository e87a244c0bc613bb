"""The Vagrant lab's Vagrantfile as Vagrant itself reads it (`vagrant validate`, no VM, no
box): the default settings give server-1 and agent-1..2 with the libvirt provider and pass
the VirtualBox config with its provider ignored (VirtualBox is not in Debian); a settings
file changes the count; three servers make an HA lab, two are refused with the reason. The machines'
provisioning script is deploy/vagrant/provision.sh, which tests/e2e/test_lab.py runs inside
network-namespace nodes."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

VAGRANT_DIR = Path(__file__).resolve().parents[2] / "deploy" / "vagrant"


def vagrant(tmp_path: Path, *args: str, settings: str | None = None,
            provider: str = "libvirt") -> subprocess.CompletedProcess[str]:
    if shutil.which("vagrant") is None:
        pytest.skip("vagrant is not installed (Debian packages vagrant, vagrant-libvirt; see .ci/run)")
    env = {**os.environ, "VAGRANT_HOME": str(tmp_path / "home"), "VAGRANT_DOTFILE_PATH": str(tmp_path / "dot"),
           "VAGRANT_DEFAULT_PROVIDER": provider, "VAGRANT_CHECKPOINT_DISABLE": "1",
           "PYKUBE_VAGRANT_SETTINGS": str(tmp_path / "none.yaml")}
    if settings is not None:
        (tmp_path / "local.yaml").write_text(settings)
        env["PYKUBE_VAGRANT_SETTINGS"] = str(tmp_path / "local.yaml")
    return subprocess.run(["vagrant", *args], cwd=VAGRANT_DIR, env=env, capture_output=True, text=True,
                          timeout=120)


def test_default_lab_validates_and_lists_three_machines(tmp_path: Path) -> None:
    r = vagrant(tmp_path, "validate")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "validated successfully" in r.stdout
    st = vagrant(tmp_path, "status")
    assert st.returncode == 0, st.stderr
    names = [line.split()[0] for line in st.stdout.splitlines() if "not created" in line]
    assert names == ["server-1", "agent-1", "agent-2"]
    assert not (VAGRANT_DIR / ".vagrant").exists()


def test_virtualbox_config_validates(tmp_path: Path) -> None:
    r = vagrant(tmp_path, "validate", "--ignore-provider", provider="virtualbox")
    assert r.returncode == 0, r.stdout + r.stderr


def test_settings_file_sets_the_node_count(tmp_path: Path) -> None:
    st = vagrant(tmp_path, "status", settings="agents: 4\ncpus: 1\nmemory: 1024\n")
    assert st.returncode == 0, st.stderr
    assert [line.split()[0] for line in st.stdout.splitlines() if "not created" in line] == \
        ["server-1", "agent-1", "agent-2", "agent-3", "agent-4"]


def test_three_servers_make_an_ha_lab_and_two_are_refused(tmp_path: Path) -> None:
    st = vagrant(tmp_path, "status", settings="servers: 3\nagents: 1\n")
    assert st.returncode == 0, st.stderr
    assert [line.split()[0] for line in st.stdout.splitlines() if "not created" in line] == \
        ["server-1", "server-2", "server-3", "agent-1"]
    (tmp_path / "two").mkdir()
    r = vagrant(tmp_path / "two", "validate", settings="servers: 2\n")
    assert r.returncode != 0
    assert "servers must be 1, or 3 or more" in r.stdout + r.stderr
