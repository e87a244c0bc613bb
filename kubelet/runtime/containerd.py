"""A private containerd for one node: its configuration, process, shims and images.

Owns the life of a containerd under a data dir (config, root, state, socket, runc root,
log, pid file) as NODE-STACK.md describes: ``render_config`` is a pure function of
``ContainerdOptions``; ``Containerd.start`` writes it, starts ``containerd --config``
and waits until the socket answers CRI Version; ``Containerd.stop`` stops it and,
unless asked to keep pods, first removes every sandbox through CRI and afterwards kills
any shim left for this socket (shims reparent to PID 1, so they are found by
``-address <socket>`` on their command line in /proc, never by name) and unmounts
whatever is still mounted under the data dir. Images come in offline through
``ctr images import`` (``import_image``, ``import_images_dir`` for k3s-style
``<data dir>/agent/images/*.tar``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import tarfile
import time
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from kubelet.runtime.cri import CRIRuntime
from kubelet.runtime.interface import RuntimeServiceError

K8S_NAMESPACE = "k8s.io"  # the containerd namespace CRI uses
SHIM_SOCKET_DIR = Path("/run/containerd/s")  # fixed in containerd 1.6, whatever the config
TASKS_DIR = "io.containerd.runtime.v2.task"   # under the state dir: one bundle per task
_IMAGE_NAME_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


@dataclass
class ContainerdOptions:
    data_dir: Path
    sandbox_image: str = "local/pause:1"
    cni_bin_dir: str = "/usr/lib/cni"
    cni_conf_dir: Path | None = None  # default: <data_dir>/cni/net.d
    cni_max_conf_num: int = 1
    restrict_oom_score_adj: bool = True  # required without CAP_SYS_RESOURCE
    netns_mounts_under_state_dir: bool = True
    snapshotter: str = "overlayfs"
    systemd_cgroup: bool = False
    log_level: str = "info"
    containerd_bin: str = "containerd"
    ctr_bin: str = "ctr"
    # registries.yaml, translated (kubelet/images/registries.py): certs.d name -> hosts.toml,
    # and host -> (username, password) for pulls that carry no credentials
    registry_hosts: dict[str, str] = field(default_factory=dict)
    registry_auths: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        if self.cni_conf_dir is None:
            self.cni_conf_dir = self.data_dir / "cni" / "net.d"

    @property
    def root(self) -> Path:
        return self.data_dir / "root"

    @property
    def state(self) -> Path:
        return self.data_dir / "state"

    @property
    def socket(self) -> Path:
        return self.data_dir / "run" / "containerd.sock"

    @property
    def runc_root(self) -> Path:
        return self.data_dir / "runc"

    @property
    def certs_dir(self) -> Path:
        return self.data_dir / "certs.d"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "containerd.toml"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "containerd.log"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "containerd.pid"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def render_config(o: ContainerdOptions) -> str:
    """containerd 1.6 config (version 2) for a private instance under ``o.data_dir``."""
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    t = _toml
    return f"""version = 2
root = {t(o.root)}
state = {t(o.state)}

[grpc]
  address = {t(o.socket)}

[ttrpc]
  address = {t(str(o.socket) + ".ttrpc")}

[debug]
  level = {t(o.log_level)}

[{cri}]
  sandbox_image = {t(o.sandbox_image)}
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  restrict_oom_score_adj = {t(o.restrict_oom_score_adj)}
  netns_mounts_under_state_dir = {t(o.netns_mounts_under_state_dir)}

[{cri}.containerd]
  snapshotter = {t(o.snapshotter)}
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = {t(o.systemd_cgroup)}
  Root = {t(o.runc_root)}

[{cri}.cni]
  bin_dir = {t(o.cni_bin_dir)}
  conf_dir = {t(o.cni_conf_dir)}
  max_conf_num = {t(o.cni_max_conf_num)}
""" + _registry_config(o)


def _registry_config(o: ContainerdOptions) -> str:
    """The CRI registry section: hosts files under certs.d, node-level credentials."""
    if not o.registry_hosts and not o.registry_auths:
        return ""
    cri = 'plugins."io.containerd.grpc.v1.cri".registry'
    out = f"\n[{cri}]\n  config_path = {_toml(o.certs_dir)}\n"
    for host, (user, password) in sorted(o.registry_auths.items()):
        out += f"\n[{cri}.configs.{_toml(host)}.auth]\n  username = {_toml(user)}\n  password = {_toml(password)}\n"
    return out


def write_registry_hosts(o: ContainerdOptions) -> None:
    """Lay out `certs.d/<name>/hosts.toml` afresh (containerd reads them at each pull)."""
    tmp = o.certs_dir.with_name("certs.d.new")
    shutil.rmtree(tmp, ignore_errors=True)
    for name, text in o.registry_hosts.items():
        (tmp / name).mkdir(parents=True, exist_ok=True)
        (tmp / name / "hosts.toml").write_text(text)
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(o.certs_dir, ignore_errors=True)
    tmp.rename(o.certs_dir)


# ---- processes found through /proc (pure reads, no names matched) -----------------


def process_argv(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def _ppid(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return -1
    return int(stat.rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    """True unless the process is gone or a zombie (PID 1 may be slow to reap)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def shim_pids(state_dir: Path) -> list[int]:
    """Live shims of the containerd whose state dir this is: containerd starts each shim in
    its task's bundle (``<state>/io.containerd.runtime.v2.task/<ns>/<id>/``), which stays
    the shim's working directory. Found by that, never by a command line."""
    bundles = {str(b) for b in (state_dir / TASKS_DIR).glob("*/*") if b.is_dir()}
    if not bundles:
        return []
    found = []
    for pid in _pids():
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if cwd in bundles and _alive(pid):
            found.append(pid)
    return sorted(found)


def find_shims(socket: Path | str) -> list[int]:
    """PIDs of containerd shims serving ``socket`` (``-address <socket>`` in argv)."""
    sock = str(socket)
    found = []
    for pid in _pids():
        argv = process_argv(pid)
        if _flag(argv, "-address") == sock:
            found.append(pid)
    return found


def _flag(argv: list[str], name: str) -> str:
    for i, a in enumerate(argv[:-1]):
        if a == name:
            return argv[i + 1]
    return ""


def shim_socket(argv: list[str]) -> Path | None:
    """The socket a runc v2 shim listens on: containerd 1.6 names it
    ``/run/containerd/s/<sha256 of "<address>/<namespace>/<id>">``."""
    address, ns, sid = _flag(argv, "-address"), _flag(argv, "-namespace"), _flag(argv, "-id")
    if not (address and ns and sid):
        return None
    return SHIM_SOCKET_DIR / hashlib.sha256(os.path.join(address, ns, sid).encode()).hexdigest()


def descendants(root: int) -> list[int]:
    """All processes below ``root`` (children first found, grandchildren after)."""
    parents = {pid: _ppid(pid) for pid in _pids()}
    out, frontier = [], {root}
    while frontier:
        nxt = {p for p, pp in parents.items() if pp in frontier}
        out.extend(sorted(nxt))
        frontier = nxt
    return out


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below ``path``, deepest first."""
    prefix = str(path.resolve()).rstrip("/") + "/"
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if (point + "/").startswith(prefix):
            points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def image_name_in_archive(tar_path: Path) -> str | None:
    """The image name an OCI archive's index.json carries, if any."""
    with tarfile.open(tar_path) as tar:
        try:
            member = tar.getmember("index.json")
        except KeyError:
            member = tar.getmember("./index.json")
        f = tar.extractfile(member)
        index = json.load(f) if f else {}
    for m in index.get("manifests", []):
        for key in _IMAGE_NAME_ANNOTATIONS:
            name = m.get("annotations", {}).get(key)
            if name and "/" in name:
                return str(name)
    return None


async def _run(*argv: str, timeout: float = 60) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    if proc.returncode != 0:
        raise RuntimeServiceError(f"{argv[0]} {argv[1:4]} failed: {err.decode().strip()}")
    return out.decode()


class Containerd:
    """One private containerd process serving CRI on ``options.socket``."""

    def __init__(self, options: ContainerdOptions) -> None:
        self.options = options
        self.process: asyncio.subprocess.Process | None = None

    @property
    def socket(self) -> Path:
        return self.options.socket

    @property
    def address(self) -> str:
        return f"unix://{self.options.socket}"

    def runtime(self) -> CRIRuntime:
        return CRIRuntime(self.address)

    async def start(self, timeout: float = 20.0) -> None:
        o = self.options
        assert o.cni_conf_dir is not None
        for d in (o.root, o.state, o.socket.parent, o.runc_root, o.cni_conf_dir):
            d.mkdir(parents=True, exist_ok=True)
        o.config_path.write_text(render_config(o))
        write_registry_hosts(o)
        if await self._answers(0.5):
            raise RuntimeServiceError(f"a containerd already answers on {o.socket}")
        o.socket.unlink(missing_ok=True)
        log = await asyncio.to_thread(open, o.log_path, "ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                o.containerd_bin, "--config", str(o.config_path),
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,
            )
        finally:
            log.close()  # the child keeps its own copy of the descriptor
        o.pid_file.write_text(f"{self.process.pid}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                break
            if o.socket.exists() and await self._answers(1.0):
                return
            await asyncio.sleep(0.05)
        tail = o.log_path.read_text(errors="replace")[-2000:]
        await self._terminate(2.0)
        raise RuntimeServiceError(f"containerd did not become ready; log tail:\n{tail}")

    async def _answers(self, timeout: float) -> bool:
        rt = CRIRuntime(self.address, timeout=timeout)
        try:
            await rt.version()
            return True
        except RuntimeServiceError:
            return False
        finally:
            await rt.close()

    async def remove_all_pods(self) -> None:
        """Stop and remove every sandbox (and so every container) through CRI."""
        rt = self.runtime()
        try:
            for sb in await rt.list_pod_sandboxes():
                await rt.stop_pod_sandbox(sb.id)
                await rt.remove_pod_sandbox(sb.id)
        finally:
            await rt.close()

    async def stop(self, keep_pods: bool = False, timeout: float = 10.0) -> None:
        """Stop containerd; unless ``keep_pods``, leave no pod, shim or mount behind."""
        if not keep_pods and self.process is not None and self.process.returncode is None:
            try:
                await self.remove_all_pods()
            except RuntimeServiceError:
                pass  # fall through to the hard cleanup below
        await self._terminate(timeout)
        if not keep_pods:
            await kill_shims(self.socket, state_dir=self.options.state)
            await unmount_all(self.options.data_dir)

    async def _terminate(self, timeout: float) -> None:
        p = self.process
        if p is None or p.returncode is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(p.wait(), timeout)
        except TimeoutError:
            p.kill()
            await p.wait()
        self.options.pid_file.unlink(missing_ok=True)

    async def import_image(self, tar_path: Path | str, base_name: str | None = None) -> str:
        """Import an OCI archive into CRI's namespace (``import_archive``); returns ctr's output."""
        return await import_archive(self.socket, tar_path, base_name, self.options.ctr_bin)

    async def import_images_dir(self, directory: Path | str) -> list[Path]:
        """Import every ``*.tar`` in ``directory`` (air-gap images); returns those imported."""
        tars = sorted(Path(directory).glob("*.tar"))
        for tar in tars:
            await self.import_image(tar)
        return tars


async def import_archive(socket: Path | str, tar_path: Path | str, base_name: str | None = None,
                         ctr_bin: str = "ctr") -> str:
    """``ctr images import`` of an OCI archive into CRI's namespace of the containerd on
    ``socket``; returns ctr's output.

    ``base_name`` (``docker.io/local/busybox``) defaults to the name the archive's
    index.json carries (our builder writes ``io.containerd.image.name``).
    """
    tar_path = Path(tar_path)
    if base_name is None:
        name = image_name_in_archive(tar_path)
        if name is None:
            raise RuntimeServiceError(f"{tar_path}: no image name inside; pass base_name")
        base_name = name.rsplit("@", 1)[0]
        last = base_name.rsplit("/", 1)[-1]
        if ":" in last:
            base_name = base_name[: base_name.rindex(":")]
    return await _run(ctr_bin, "--address", str(socket), "-n", K8S_NAMESPACE,
                      "images", "import", "--base-name", base_name, "--digests", str(tar_path), timeout=300)


async def kill_shims(socket: Path | str, timeout: float = 5.0, *, state_dir: Path | None = None) -> list[int]:
    """SIGKILL every shim left for ``socket`` and the processes below it, and remove
    the sockets they leave; returns the shims still alive after ``timeout``. With
    ``state_dir`` (what a cleanup of our own containerd passes) the shims are those working
    in its task bundles (``shim_pids``); without, those whose command line serves ``socket``
    (tests looking for leftovers)."""
    shims = await asyncio.to_thread(shim_pids, state_dir) if state_dir is not None \
        else await asyncio.to_thread(find_shims, socket)
    sockets = [s for s in (shim_socket(process_argv(p)) for p in shims) if s is not None]
    for shim in shims:
        for pid in [*reversed(await asyncio.to_thread(descendants, shim)), shim]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout
    while shims and time.monotonic() < deadline:
        shims = [p for p in shims if _alive(p)]
        if shims:
            await asyncio.sleep(0.05)
    if not shims:
        for sock in sockets:
            sock.unlink(missing_ok=True)
    return shims


async def unmount_all(path: Path) -> None:
    """Lazily unmount whatever is still mounted at or below ``path``."""
    if not path.exists():
        return
    for point in mounts_under(path):
        proc = await asyncio.create_subprocess_exec(
            "umount", "-l", point, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        await proc.wait()
