"""Pod volumes materialised on the node: emptyDir, hostPath, configMap, secret and claims.

Owns `<data dir>/pods/<uid>/volumes/<plugin>/<name>` (the layout Kubernetes uses under
/var/lib/kubelet): `VolumeManager.setup(pod)` makes every volume the pod declares and
returns the host path of each; `mounts_for` (pure) turns a container's volumeMounts into
runtime mounts (subPath, readOnly; configMap and secret volumes are always read-only);
`cleanup(uid)` unmounts and removes everything of a pod that is gone.

- emptyDir: a directory; `medium: Memory` is a tmpfs (root only, with sizeLimit).
- hostPath: the host path itself, checked or created per `type` (DirectoryOrCreate,
  Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice, or unchecked).
- configMap / secret: one file per key (or per `items` entry) with `defaultMode` /
  `mode`, rewritten atomically when the data changes; refetched at most every
  `refresh_seconds`. A missing object fails the setup unless `optional`.
- projected / downwardAPI: files from a ServiceAccount token, ConfigMaps, Secrets and pod
  fields (kubelet/projected.py), read-only, refreshed like configMap volumes.
- persistentVolumeClaim: the claim must be Bound (else the setup fails and is retried, the
  pod stays ContainerCreating) and its volume must name it; a hostPath volume is that
  directory (checked or created per its type), a `local` volume its path; the data stays
  when the pod goes (the directory belongs to the volume, not the pod).
Other volume types are not supported: the setup fails with a message naming them.
"""
from __future__ import annotations

import asyncio
import base64
import os
import shutil
import stat
import time
from pathlib import Path

from api.models.core import ConfigMap, Container, KeyToPath, Pod, Secret, Volume
from api.models.persistentvolume import PersistentVolume, PersistentVolumeClaim
from client.errors import NotFound
from client.rest import Client
from kubelet.env import PodContext
from kubelet.projected import ProjectedVolumes, ProjectionError
from kubelet.runtime.interface import Mount

EMPTY_DIR, HOST_PATH = "kubernetes.io~empty-dir", "kubernetes.io~host-path"
PROJECTED, DOWNWARD_API = "kubernetes.io~projected", "kubernetes.io~downward-api"
CONFIG_MAP, SECRET = "kubernetes.io~configmap", "kubernetes.io~secret"


class VolumeError(Exception):
    """A volume could not be set up (the pod stays ContainerCreating); `volume` names it."""

    volume: str = ""


def _check_host_path(path: Path, kind: str) -> None:
    if kind == "DirectoryOrCreate":
        path.mkdir(mode=0o755, parents=True, exist_ok=True)
    elif kind == "FileOrCreate":
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o644)
    elif kind:
        checks = {"Directory": stat.S_ISDIR, "File": stat.S_ISREG, "Socket": stat.S_ISSOCK,
                  "CharDevice": stat.S_ISCHR, "BlockDevice": stat.S_ISBLK}
        check = checks.get(kind)
        if check is None:
            raise VolumeError(f"hostPath type {kind!r} is not supported")
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise VolumeError(f"hostPath type check failed: {path} does not exist") from None
        if not check(mode):
            raise VolumeError(f"hostPath type check failed: {path} is not a {kind}")


def project(data: dict[str, bytes], items: list[KeyToPath] | None, default_mode: int,
            what: str) -> dict[str, tuple[bytes, int]]:
    """Files (relative path → content, mode) a configMap or secret volume holds."""
    if not items:
        return {k: (v, default_mode) for k, v in data.items()}
    out = {}
    for it in items:
        if it.key not in data:
            raise VolumeError(f"configmap references non-existent config key: {it.key}"
                              if what == "configmap" else f"references non-existent secret key: {it.key}")
        out[it.path] = (data[it.key], it.mode if it.mode is not None else default_mode)
    return out


def _write_files(target: Path, files: dict[str, tuple[bytes, int]]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for rel, (content, mode) in files.items():
        dest = target / rel
        if ".." in Path(rel).parts:
            raise VolumeError(f"invalid path {rel!r}")
        wanted.add(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            if dest.read_bytes() == content and stat.S_IMODE(dest.stat().st_mode) == mode:
                continue
        except OSError:
            pass
        tmp = dest.with_name(f".{dest.name}.tmp")
        tmp.write_bytes(content)
        tmp.chmod(mode)
        os.replace(tmp, dest)
    for p in sorted(target.rglob("*"), reverse=True):
        if p.is_file() and p not in wanted:
            p.unlink()


def mounts_for(container: Container, paths: dict[str, Path], read_only_volumes: set[str]) -> list[Mount]:
    out = []
    for vm in container.volume_mounts or []:
        host = paths.get(vm.name)
        if host is None:
            raise VolumeError(f"volumeMount {vm.name!r} names no volume of the pod")
        if vm.sub_path:
            host = host / vm.sub_path
            if not host.exists():
                host.mkdir(parents=True, exist_ok=True)
        out.append(Mount(container_path=vm.mount_path, host_path=str(host),
                         readonly=bool(vm.read_only) or vm.name in read_only_volumes))
    return out


class VolumeManager:
    def __init__(self, root: Path, client: Client, refresh_seconds: float = 60.0) -> None:
        self.root = root
        self.client = client
        self.refresh_seconds = refresh_seconds
        self._fetched: dict[tuple[str, str], float] = {}
        self.is_root = os.geteuid() == 0
        self.projected = ProjectedVolumes(client, self._fetch)

    def pod_dir(self, uid: str) -> Path:
        return self.root / uid

    async def setup(self, pod: Pod) -> tuple[dict[str, Path], set[str]]:
        """Make every volume of `pod`; returns (name → host path, read-only volume names)."""
        assert pod.spec is not None
        uid = pod.metadata.uid or ""
        paths: dict[str, Path] = {}
        read_only: set[str] = set()
        for v in pod.spec.volumes or []:
            try:
                paths[v.name] = await self._setup_one(pod, uid, v)
            except VolumeError as e:
                e.volume = e.volume or v.name
                raise
            if v.config_map is not None or v.secret is not None or v.projected is not None \
                    or v.downward_api is not None:
                read_only.add(v.name)
            if v.persistent_volume_claim and v.persistent_volume_claim.get("readOnly"):
                read_only.add(v.name)
        return paths, read_only

    async def _setup_one(self, pod: Pod, uid: str, v: Volume) -> Path:
        base = self.pod_dir(uid) / "volumes"
        if v.empty_dir is not None:
            path = base / EMPTY_DIR / v.name
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o777)
            if v.empty_dir.medium == "Memory" and self.is_root and not os.path.ismount(path):
                size = f",size={v.empty_dir.size_limit}" if v.empty_dir.size_limit else ""
                await _run("mount", "-t", "tmpfs", "-o", f"mode=0777{size}", "tmpfs", str(path))
            return path
        if v.host_path is not None:
            path = Path(v.host_path.path)
            _check_host_path(path, v.host_path.type or "")
            return path
        if v.config_map is not None or v.secret is not None:
            return await self._setup_object(pod, uid, v, base)
        if v.projected is not None or v.downward_api is not None:
            return await self._setup_projected(pod, uid, v, base)
        if v.persistent_volume_claim is not None:
            return await self._setup_claim(pod, v)
        raise VolumeError(f"volume {v.name!r}: unsupported volume type")

    async def _setup_claim(self, pod: Pod, v: Volume) -> Path:
        """A PVC-backed volume: the bound PersistentVolume's directory on this node."""
        ns = pod.metadata.namespace or "default"
        name = str((v.persistent_volume_claim or {}).get("claimName") or "")
        try:
            pvc = await self.client.get(PersistentVolumeClaim, name, namespace=ns)
        except NotFound:
            raise VolumeError(f'persistentvolumeclaim "{name}" not found') from None
        if pvc.metadata.deletion_timestamp:
            raise VolumeError(f"can't start pod because PVC {ns}/{name} is being deleted")
        phase = (pvc.status.phase if pvc.status else None) or ""
        volume_name = (pvc.spec.volume_name if pvc.spec else None) or ""
        if phase != "Bound" or not volume_name:
            raise VolumeError(f'PVC {ns}/{name} has non-bound phase ("{phase}") or empty '
                              f'pvc.Spec.VolumeName ("{volume_name}")')
        try:
            pv = await self.client.get(PersistentVolume, volume_name)
        except NotFound:
            raise VolumeError(f'persistentvolume "{volume_name}" not found') from None
        ref = pv.spec.claim_ref if pv.spec else None
        if ref is None or ref.uid != pvc.metadata.uid:
            raise VolumeError(f'persistentvolume "{volume_name}" is not bound to claim {ns}/{name}')
        assert pv.spec is not None
        if pv.spec.host_path is not None:
            path = Path(pv.spec.host_path.path)
            await asyncio.to_thread(_check_host_path, path, pv.spec.host_path.type or "")
            return path
        if pv.spec.local is not None:
            path = Path(pv.spec.local.path)
            if not path.exists():
                raise VolumeError(f"local volume {volume_name}: path {path} does not exist")
            return path
        raise VolumeError(f'persistentvolume "{volume_name}": unsupported volume source')

    async def _setup_object(self, pod: Pod, uid: str, v: Volume, base: Path) -> Path:
        ns = pod.metadata.namespace or "default"
        if v.config_map is not None:
            src, plugin, what = v.config_map, CONFIG_MAP, "configmap"
            name = v.config_map.name or ""
        else:
            assert v.secret is not None
            src, plugin, what = v.secret, SECRET, "secret"
            name = v.secret.secret_name or ""
        path = base / plugin / v.name
        key = (uid, v.name)
        if path.exists() and time.monotonic() - self._fetched.get(key, 0) < self.refresh_seconds:
            return path
        try:
            data = await self._fetch(what, ns, name)
        except NotFound:
            if src.optional:
                path.mkdir(parents=True, exist_ok=True)
                return path
            raise VolumeError(f'{what} "{name}" not found') from None
        mode = src.default_mode if src.default_mode is not None else 0o644
        await asyncio.to_thread(_write_files, path, project(data, src.items, mode, what))
        self._fetched[key] = time.monotonic()
        return path

    async def _setup_projected(self, pod: Pod, uid: str, v: Volume, base: Path) -> Path:
        downward = v.downward_api is not None
        path = base / (DOWNWARD_API if downward else PROJECTED) / v.name
        key = (uid, v.name)
        if path.exists() and time.monotonic() - self._fetched.get(key, 0) < self.refresh_seconds:
            return path
        ctx = PodContext(node_name=(pod.spec.node_name if pod.spec else None) or "")
        try:
            files = await self.projected.files(pod, (v.downward_api if downward else v.projected) or {}, ctx, downward)
        except ProjectionError as e:
            raise VolumeError(f"volume {v.name!r}: {e}") from None
        await asyncio.to_thread(_write_files, path, files)
        self._fetched[key] = time.monotonic()
        return path

    async def _fetch(self, what: str, ns: str, name: str) -> dict[str, bytes]:
        if what == "configmap":
            cm = await self.client.get(ConfigMap, name, namespace=ns)
            data = {k: v.encode() for k, v in (cm.data or {}).items()}
            data.update({k: base64.b64decode(v) for k, v in (cm.binary_data or {}).items()})
            return data
        s = await self.client.get(Secret, name, namespace=ns)
        return {k: base64.b64decode(v) for k, v in (s.data or {}).items()}

    async def cleanup(self, uid: str) -> None:
        """Unmount and remove every volume of a pod that is gone."""
        for k in [k for k in self._fetched if k[0] == uid]:
            del self._fetched[k]
        self.projected.forget(uid)
        d = self.pod_dir(uid)
        if not d.exists():
            return
        empty = d / "volumes" / EMPTY_DIR
        if empty.is_dir():
            for p in empty.iterdir():
                if os.path.ismount(p):
                    await _run("umount", "-l", str(p))
        await asyncio.to_thread(shutil.rmtree, d, True)


async def _run(*argv: str) -> None:
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise VolumeError(f"{argv[0]} failed: {err.decode().strip()}")
