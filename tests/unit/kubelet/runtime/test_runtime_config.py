"""Pure pieces of the runtime layer: image names, containerd config, stubs, image builder."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import tarfile
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from kubelet.runtime.containerd import ContainerdOptions, image_name_in_archive, render_config, shim_socket
from kubelet.runtime.interface import normalize_image

REPO = Path(__file__).resolve().parents[4]


@pytest.mark.parametrize(
    "ref, want",
    [
        ("busybox", "docker.io/library/busybox:latest"),
        ("local/pause:1", "docker.io/local/pause:1"),
        ("docker.io/local/nginx:1.22", "docker.io/local/nginx:1.22"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
        ("registry.example/a/b:2", "registry.example/a/b:2"),
        ("busybox@sha256:abc", "docker.io/library/busybox@sha256:abc"),
    ],
)
def test_normalize_image(ref: str, want: str) -> None:
    assert normalize_image(ref) == want


def test_render_config(tmp_path: Path) -> None:
    o = ContainerdOptions(data_dir=tmp_path / "n", sandbox_image="local/pause:2", cni_bin_dir="/opt/cni/bin")
    cfg = tomllib.loads(render_config(o))
    cri = cfg["plugins"]["io.containerd.grpc.v1.cri"]
    assert cfg["root"] == str(tmp_path / "n/root") and cfg["grpc"]["address"] == str(o.socket)
    assert cri["sandbox_image"] == "local/pause:2"
    assert cri["restrict_oom_score_adj"] is True and cri["netns_mounts_under_state_dir"] is True
    assert cri["cni"] == {"bin_dir": "/opt/cni/bin", "conf_dir": str(tmp_path / "n/cni/net.d"), "max_conf_num": 1}
    runc = cri["containerd"]["runtimes"]["runc"]
    assert runc["options"] == {"SystemdCgroup": False, "Root": str(tmp_path / "n/runc")}


def test_shim_socket_follows_containerd_naming() -> None:
    argv = ["containerd-shim-runc-v2", "-namespace", "k8s.io", "-id", "abc", "-address", "/x/c.sock"]
    sock = shim_socket(argv)
    assert sock is not None and sock.parent == Path("/run/containerd/s") and len(sock.name) == 64
    assert shim_socket(["sleep", "1"]) is None


def test_image_name_in_archive(tmp_path: Path) -> None:
    index = {"manifests": [{"annotations": {"io.containerd.image.name": "docker.io/local/x:1"}}]}
    tar_path = tmp_path / "x.tar"
    with tarfile.open(tar_path, "w") as tar:
        data = json.dumps(index).encode()
        info = tarfile.TarInfo("index.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert image_name_in_archive(tar_path) == "docker.io/local/x:1"


def test_stub_generation_is_relative_and_atomic(tmp_path: Path) -> None:
    from kubelet.runtime import cri_pb

    cri_pb.generate(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["api_pb2.py", "api_pb2_grpc.py"]  # the staging dir is gone
    assert "from . import api_pb2 as" in (tmp_path / "api_pb2_grpc.py").read_text()
    assert "/runtime.v1.RuntimeService/RunPodSandbox" in (tmp_path / "api_pb2_grpc.py").read_text()


def _builder() -> ModuleType:  # deploy/ is not a package: load the script by path
    spec = importlib.util.spec_from_file_location("pykube_image_build", REPO / "kubelet/images/builder.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(not os.path.islink("/lib64"), reason="needs a merged-/usr host")
def test_builder_replicates_symlink_chains(tmp_path: Path) -> None:
    build = _builder()
    loader = "/lib64/ld-linux-x86-64.so.2"
    if not os.path.exists(loader):
        pytest.skip("no x86-64 loader here")
    build.replicate(tmp_path, loader)
    assert (tmp_path / "lib64").is_symlink()
    resolved = tmp_path / os.path.realpath(loader).lstrip("/")
    assert resolved.is_file() and not resolved.is_symlink()
    assert build.IMAGES["nginx"].ref == "docker.io/local/nginx:1.22"
    assert build.IMAGES["nginx"].stop_signal == "SIGQUIT"


def test_an_ephemeral_container_joins_its_targets_pid_namespace() -> None:
    from kubelet.runtime.cri import container_config_pb, pb
    from kubelet.runtime.interface import ContainerConfig, SandboxConfig
    sandbox = SandboxConfig(name="web", namespace="default", uid="u1")
    ns = container_config_pb(ContainerConfig(name="dbg", image="busybox", pid_target_id="abc123"),
                             sandbox).linux.security_context.namespace_options
    assert (ns.pid, ns.target_id, ns.network) == (pb.TARGET, "abc123", pb.POD)
    ns = container_config_pb(ContainerConfig(name="app", image="busybox"), sandbox).linux.security_context.namespace_options
    assert (ns.pid, ns.target_id) == (pb.CONTAINER, "")
