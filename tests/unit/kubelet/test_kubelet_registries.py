"""A node's registries.yaml (k3s' format) as containerd reads it: a mirror of docker.io
becomes certs.d/docker.io/hosts.toml whose server is the mirror (no upstream fallback
offline), the registry itself gets its own hosts file with push, the cluster CA is trusted
for every registry, node-level auth lands in the CRI config, and a bad file is refused
with the field named."""
from __future__ import annotations

import base64
import tomllib
from pathlib import Path

import pytest

from kubelet.images.registries import RegistriesError, cri_auths, hosts_files, parse
from kubelet.runtime.containerd import ContainerdOptions, render_config, write_registry_hosts

LAB = """
mirrors:
  docker.io:
    endpoint: ["https://10.0.0.1:5443"]
  "*":
    endpoint: ["10.0.0.2:5000"]
configs:
  "10.0.0.1:5443":
    auth: {username: pykube, password: pw}
    tls: {ca_file: /etc/pykube/extra-ca.crt}
  "10.0.0.2:5000":
    auth: {auth: %s}
    tls: {insecure_skip_verify: true}
""" % base64.b64encode(b"u:p").decode()


def test_mirror_and_registry_hosts_files() -> None:
    files = {k: tomllib.loads(v) for k, v in hosts_files(parse(LAB), "/data/agent/server-ca.crt").items()}
    assert set(files) == {"docker.io", "_default", "10.0.0.1:5443", "10.0.0.2:5000"}
    hub = files["docker.io"]
    assert hub["server"] == "https://10.0.0.1:5443"
    assert hub["ca"] == ["/data/agent/server-ca.crt", "/etc/pykube/extra-ca.crt"]
    assert hub["host"]["https://10.0.0.1:5443"]["capabilities"] == ["pull", "resolve"]
    own = files["10.0.0.1:5443"]
    assert own["host"]["https://10.0.0.1:5443"]["capabilities"] == ["pull", "resolve", "push"]
    assert files["_default"]["host"]["https://10.0.0.2:5000"]["skip_verify"] is True


def test_node_level_auth_goes_to_the_cri_config(tmp_path: Path) -> None:
    cfg = parse(LAB)
    assert cri_auths(cfg) == {"10.0.0.1:5443": ("pykube", "pw"), "10.0.0.2:5000": ("u", "p")}
    o = ContainerdOptions(data_dir=tmp_path, registry_hosts=hosts_files(cfg), registry_auths=cri_auths(cfg))
    reg = tomllib.loads(render_config(o))["plugins"]["io.containerd.grpc.v1.cri"]["registry"]
    assert reg["config_path"] == str(tmp_path / "certs.d")
    assert reg["configs"]["10.0.0.1:5443"]["auth"] == {"username": "pykube", "password": "pw"}
    write_registry_hosts(o)
    assert sorted(p.parent.name for p in (tmp_path / "certs.d").glob("*/hosts.toml")) == \
        ["10.0.0.1:5443", "10.0.0.2:5000", "_default", "docker.io"]
    o.registry_hosts = {"docker.io": o.registry_hosts["docker.io"]}
    write_registry_hosts(o)   # laid afresh: a registry taken out of the file is gone
    assert [p.parent.name for p in (tmp_path / "certs.d").glob("*/hosts.toml")] == ["docker.io"]


def test_without_registries_the_config_has_no_registry_section(tmp_path: Path) -> None:
    assert "registry" not in tomllib.loads(render_config(ContainerdOptions(data_dir=tmp_path)))["plugins"][
        "io.containerd.grpc.v1.cri"]


@pytest.mark.parametrize("text, field", [
    ("mirrors:\n  docker.io:\n    endpoint: https://x\n", "mirrors.docker.io.endpoint"),
    ("configs:\n  reg.example:\n    auth: [1]\n", "configs.reg.example.auth"),
    ("configs:\n  reg.example:\n    tls: yes\n", "configs.reg.example.tls"),
    ("- a list\n", "top level"),
    ("mirrors: {a: [\n", "not YAML"),
])
def test_bad_files_name_the_field(text: str, field: str) -> None:
    with pytest.raises(RegistriesError, match=field.replace(".", r"\.")):
        parse(text)
