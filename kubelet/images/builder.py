"""Offline image builder: OCI archives for pause, busybox, nginx and curl, made with umoci.

Owns the air-gap images pykube needs on a machine that reaches no registry
(NODE-STACK.md, "Images without a registry"). The kubelet builds them on demand
(kubelet/images/offline.py: the sandbox image at start, busybox and nginx when a pod
asks for them); `make up` builds them ahead through the CLI shim deploy/images/build.py.
Each image is a root filesystem made
from files already on the host (busybox-static; Debian's nginx-light and curl with the
libraries ``ldd`` names), packed with ``umoci init/new/insert/config/gc`` and written as
a tar of the OCI layout, ``<out>/<image>.tar``. The layout's index.json names the
image (``io.containerd.image.name``, e.g. ``docker.io/local/nginx:1.22``), so
``ctr images import`` or ``Containerd.import_images_dir`` needs nothing else.

Idempotent and fast: a ``<image>.tar.stamp`` records a fingerprint of this script, the
image's settings and its host inputs (path, size, mtime); an up-to-date archive is
skipped. Usage: ``build.py [--out DIR] [--force] [pause busybox nginx]``.
Needs ``umoci`` and ``busybox-static`` (and ``nginx-light`` for nginx), Debian packages.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import sys
import tarfile
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUSYBOX = Path("/bin/busybox")
DEFAULT_OUT = Path("/var/lib/pykube/agent/images")


@dataclass
class ImageSpec:
    name: str  # archive name: <name>.tar
    ref: str  # full image name, docker.io/local/<repo>:<tag>
    populate: Callable[[Path], Awaitable[list[Path]]]  # fills rootfs, returns host inputs
    inputs: Callable[[], Awaitable[list[Path]]]
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=lambda: [PATH_ENV])
    ports: list[str] = field(default_factory=list)
    stop_signal: str = ""
    workdir: str = ""

    @property
    def tag(self) -> str:
        return self.ref.rsplit(":", 1)[1]


async def run(*argv: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {err.decode().strip()}")
    return out.decode()


# ---- root filesystems -------------------------------------------------------------


def replicate(rootfs: Path, host_path: str) -> None:
    """Copy a host file into ``rootfs`` at the same path, recreating every symlink met
    on the way (so ``/lib64/ld-linux-x86-64.so.2`` keeps working in a merged-/usr tree)."""
    parts = Path(host_path).parts[1:]
    cur = Path("/")
    for i, part in enumerate(parts):
        nxt = cur / part
        dst = rootfs / nxt.relative_to("/")
        if nxt.is_symlink():
            target = os.readlink(nxt)
            if not os.path.lexists(dst):
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(target, dst)
            base = Path(target) if os.path.isabs(target) else cur / target
            replicate(rootfs, os.path.normpath(base.joinpath(*parts[i + 1 :])))
            return
        cur = nxt
    dst = rootfs / cur.relative_to("/")
    if cur.is_dir():
        dst.mkdir(parents=True, exist_ok=True)
    elif not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(cur, dst)


def base_dirs(rootfs: Path) -> None:
    for d in ("etc", "proc", "sys", "dev", "run", "root", "var/tmp"):
        (rootfs / d).mkdir(parents=True, exist_ok=True)
    tmp = rootfs / "tmp"
    tmp.mkdir(exist_ok=True)
    tmp.chmod(0o1777)


def users(rootfs: Path, extra_users: str = "", extra_groups: str = "") -> None:
    (rootfs / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\n" + extra_users
        + "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    )
    (rootfs / "etc/group").write_text("root:x:0:\n" + extra_groups + "nogroup:x:65534:\n")


async def busybox_inputs() -> list[Path]:
    return [Path(os.path.realpath(BUSYBOX))]


async def populate_pause(rootfs: Path) -> list[Path]:
    base_dirs(rootfs)
    (rootfs / "bin").mkdir()
    shutil.copy2(os.path.realpath(BUSYBOX), rootfs / "bin/busybox")
    users(rootfs)
    return await busybox_inputs()


async def populate_busybox(rootfs: Path) -> list[Path]:
    await populate_pause(rootfs)
    for rel in (await run(str(BUSYBOX), "--list-full")).split():
        link = rootfs / rel
        if link.exists() or link.is_symlink() or rel == "bin/busybox":
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath("/bin/busybox", "/" + str(Path(rel).parent)), link)
    return await busybox_inputs()


NGINX_CONF = """\
# pykube's nginx for containers: foreground, logs to stdout/stderr, IPv4 port 80.
user www-data;
worker_processes auto;
pid /run/nginx.pid;
daemon off;
error_log /dev/stderr notice;
include /etc/nginx/modules-enabled/*.conf;

events {
    worker_connections 768;
}

http {
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /dev/stdout;

    server {
        listen 80 default_server;
        server_name _;
        root /usr/share/nginx/html;
        index index.html;
        location / {
            try_files $uri $uri/ =404;
        }
    }
}
"""
NGINX_TREES = ("/etc/nginx", "/usr/share/nginx", "/usr/lib/nginx")


async def nginx_libraries() -> list[str]:
    objs = ["/usr/sbin/nginx", *map(str, sorted(Path("/usr/lib/nginx/modules").glob("*.so")))]
    libs: set[str] = set()
    for obj in objs:
        for line in (await run("ldd", obj)).splitlines():
            words = line.split()
            path = words[2] if "=>" in words and len(words) > 2 else words[0]
            if path.startswith("/"):
                libs.add(path)
    return sorted(libs)


async def nginx_inputs() -> list[Path]:
    if not Path("/usr/sbin/nginx").exists():
        raise RuntimeError("nginx is not installed on this host (apt-get install nginx-light)")
    files = [Path("/usr/sbin/nginx"), *(Path(os.path.realpath(p)) for p in await nginx_libraries())]
    for tree in NGINX_TREES:
        files.extend(sorted(p for p in Path(tree).rglob("*") if p.is_file()))
    return files


async def populate_nginx(rootfs: Path) -> list[Path]:
    base_dirs(rootfs)
    for top in ("bin", "sbin", "lib", "lib64"):  # merged-/usr layout
        (rootfs / "usr" / top).mkdir(parents=True, exist_ok=True)
        os.symlink(f"usr/{top}", rootfs / top)
    for path in ["/usr/sbin/nginx", *await nginx_libraries()]:
        replicate(rootfs, path)
    for tree in NGINX_TREES:
        shutil.copytree(tree, rootfs / tree.lstrip("/"), symlinks=True, dirs_exist_ok=True)
    for link in (rootfs / "etc/nginx/modules-enabled").glob("*"):
        if link.is_symlink() and os.path.isabs(target := os.readlink(link)):
            replicate(rootfs, target)  # usually under /usr/share/nginx, already copied
    for d in ("sites-enabled", "sites-available", "conf.d"):
        shutil.rmtree(rootfs / "etc/nginx" / d, ignore_errors=True)
    (rootfs / "etc/nginx/conf.d").mkdir()
    (rootfs / "etc/nginx/nginx.conf").write_text(NGINX_CONF)
    index = rootfs / "usr/share/nginx/html/index.html"
    if not index.exists():
        index.parent.mkdir(parents=True, exist_ok=True)
        index.write_text("<html><body><h1>Welcome to nginx!</h1></body></html>\n")
    for d in ("var/lib/nginx", "var/log/nginx", "var/www"):
        (rootfs / d).mkdir(parents=True, exist_ok=True)
    os.symlink("/dev/stdout", rootfs / "var/log/nginx/access.log")
    os.symlink("/dev/stderr", rootfs / "var/log/nginx/error.log")
    users(rootfs, "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n", "www-data:x:33:\n")
    return await nginx_inputs()


CURL = Path("/usr/bin/curl")


async def curl_libraries() -> list[str]:
    libs: list[str] = []
    for line in (await run("ldd", str(CURL))).splitlines():
        words = line.split()
        path = words[2] if "=>" in words and len(words) > 2 else words[0]
        if path.startswith("/"):
            libs.append(path)
    return sorted(set(libs))


async def curl_inputs() -> list[Path]:
    if not CURL.exists():
        raise RuntimeError("curl is not installed on this host (apt-get install curl)")
    return [Path(os.path.realpath(BUSYBOX)), CURL, *(Path(os.path.realpath(p)) for p in await curl_libraries())]


async def populate_curl(rootfs: Path) -> list[Path]:
    """busybox (for a shell) and the host's curl with the libraries ldd names: a client to
    call the API from inside a pod (`curl --cacert .../ca.crt -H "Authorization: Bearer ..."`)."""
    await populate_busybox(rootfs)
    for path in [str(CURL), *await curl_libraries()]:
        replicate(rootfs, path)
    return await curl_inputs()


IMAGES: dict[str, ImageSpec] = {
    "pause": ImageSpec(
        "pause", "docker.io/local/pause:1", populate_pause, busybox_inputs,
        entrypoint=["/bin/busybox", "sleep", "2147483647"],
    ),
    "busybox": ImageSpec(
        "busybox", "docker.io/local/busybox:1", populate_busybox, busybox_inputs, cmd=["sh"]
    ),
    "nginx": ImageSpec(
        "nginx", "docker.io/local/nginx:1.22", populate_nginx, nginx_inputs,
        cmd=["/usr/sbin/nginx"], ports=["80/tcp"], stop_signal="SIGQUIT",
    ),
    "curl": ImageSpec(
        "curl", "docker.io/local/curl:1", populate_curl, curl_inputs, cmd=["sh"]
    ),
}
#: what `build.py` (and so `make up`) builds when named none; curl is built on demand
DEFAULT_BUILD = ("pause", "busybox", "nginx")


def spec_for(ref: str) -> ImageSpec | None:
    """The offline image a reference names (``local/busybox:1`` and the full
    ``docker.io/local/busybox:1`` alike), or None."""
    from kubelet.runtime.interface import normalize_image
    want = normalize_image(ref)
    return next((s for s in IMAGES.values() if s.ref == want), None)


# ---- packing ----------------------------------------------------------------------


async def fingerprint(spec: ImageSpec) -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    settings = [spec.ref, spec.entrypoint, spec.cmd, spec.env, spec.ports, spec.stop_signal]
    h.update(json.dumps(settings).encode())
    for p in await spec.inputs():
        st = p.stat()
        h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def name_image(layout: Path, ref: str) -> None:
    """Write the full image name into index.json (index.json is not content-addressed)."""
    index_path = layout / "index.json"
    index = json.loads(index_path.read_text())
    for m in index["manifests"]:
        m.setdefault("annotations", {})["io.containerd.image.name"] = ref
    index_path.write_text(json.dumps(index))


def tar_layout(layout: Path, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    with tarfile.open(tmp, "w") as tar:
        for path in sorted(layout.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(layout)), recursive=False)
    os.replace(tmp, dest)


async def build(spec: ImageSpec, out: Path, force: bool = False) -> bool:
    """Build ``<out>/<spec.name>.tar`` unless up to date; True when (re)built."""
    out.mkdir(parents=True, exist_ok=True)
    dest, stamp = out / f"{spec.name}.tar", out / f"{spec.name}.tar.stamp"
    fp = await fingerprint(spec)
    if not force and dest.exists() and stamp.exists() and stamp.read_text().strip() == fp:
        return False
    with tempfile.TemporaryDirectory(prefix=f".build-{spec.name}-", dir=out) as work:
        rootfs, layout = Path(work) / "rootfs", Path(work) / "layout"
        rootfs.mkdir()
        await spec.populate(rootfs)
        image = f"{layout}:{spec.tag}"
        await run("umoci", "init", "--layout", str(layout))
        await run("umoci", "new", "--image", image)
        await run("umoci", "insert", "--image", image, "--history.created_by", f"pykube build.py {spec.name}", str(rootfs), "/")
        config = ["umoci", "config", "--image", image, "--os", "linux", "--no-history"]
        config += [f"--config.entrypoint={a}" for a in spec.entrypoint]
        config += [f"--config.cmd={a}" for a in spec.cmd]
        config += [f"--config.env={e}" for e in spec.env]
        config += [f"--config.exposedports={p}" for p in spec.ports]
        if spec.stop_signal:
            config.append(f"--config.stopsignal={spec.stop_signal}")
        if spec.workdir:
            config.append(f"--config.workingdir={spec.workdir}")
        await run(*config)
        await run("umoci", "gc", "--layout", str(layout))
        name_image(layout, spec.ref)
        tar_layout(layout, dest)
    stamp.write_text(fp + "\n")
    return True


async def build_all(names: list[str], out: Path, force: bool = False) -> dict[str, bool]:
    unknown = [n for n in names if n not in IMAGES]
    if unknown:
        raise SystemExit(f"unknown image(s): {', '.join(unknown)}; known: {', '.join(IMAGES)}")
    results = await asyncio.gather(*(build(IMAGES[n], out, force) for n in names))
    return dict(zip(names, results))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build pykube's offline OCI images with umoci.")
    ap.add_argument("images", nargs="*", default=list(DEFAULT_BUILD), help=f"any of {', '.join(IMAGES)}")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory for <image>.tar")
    ap.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("warning: not root; file ownership in the images will be yours", file=sys.stderr)
    for name, built in asyncio.run(build_all(args.images, args.out, args.force)).items():
        print(f"{IMAGES[name].ref}: {'built' if built else 'up to date'} -> {args.out / (name + '.tar')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
