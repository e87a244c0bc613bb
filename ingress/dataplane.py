"""The nginx data plane: its kube-system objects, its configuration directory, its reloads.

- `manifests(node, conf_dir)` (pure): the IngressClass `nginx` (controller
  `pykube.io/ingress-nginx`, the cluster default), and in kube-system the Deployment
  `ingress-nginx` (Debian's nginx from the offline image `local/nginx:1.22`, run with
  `-c /etc/pykube-ingress/nginx.conf` from a hostPath of `conf_dir`, so it is pinned to the
  controller's node) and the LoadBalancer Service `ingress-nginx` on 80 and 443;
- `ConfigDir`: `stage(rendered)` writes the candidate as `staging.conf` beside the
  certificate files it names, `test()` runs `nginx -t` on it (the node's nginx is the
  binary the image was built from), `promote()` renames it to `nginx.conf` atomically;
  the running nginx never sees an untested file;
- reloaders: `PodReloader` runs `nginx -s reload` in each running data-plane pod through
  the pods/exec subresource; `ProcessNginx` runs nginx as a child process of this one and
  reloads it with SIGHUP (tests, and machines that run no pods).
nginx reloads gracefully: old workers finish the requests they hold.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
from pathlib import Path
from typing import Any, Protocol

from ingress.nginxconf import DEFAULT_CERT, Rendered

log = logging.getLogger(__name__)

CONTROLLER = "pykube.io/ingress-nginx"
CLASS_NAME = "nginx"
NAMESPACE, NAME = "kube-system", "ingress-nginx"
LABELS = {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}
IMAGE = "local/nginx:1.22"
MOUNT = "/etc/pykube-ingress"
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
Obj = dict[str, Any]


def manifests(node_name: str, conf_dir: Path) -> list[Obj]:
    meta = {"namespace": NAMESPACE, "name": NAME, "labels": dict(LABELS)}
    pod = {"metadata": {"labels": dict(LABELS)}, "spec": {
        "nodeSelector": {"kubernetes.io/hostname": node_name},
        "tolerations": [{"operator": "Exists"}],
        "terminationGracePeriodSeconds": 10,
        "containers": [{
            "name": "nginx", "image": IMAGE, "imagePullPolicy": "IfNotPresent",
            "command": ["/usr/sbin/nginx", "-c", f"{MOUNT}/nginx.conf"],
            "ports": [{"name": "http", "containerPort": 80}, {"name": "https", "containerPort": 443}],
            "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 2},
            "volumeMounts": [{"name": "conf", "mountPath": MOUNT, "readOnly": True}]}],
        "volumes": [{"name": "conf", "hostPath": {"path": str(conf_dir), "type": "Directory"}}]}}
    return [
        {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
         "metadata": {"name": CLASS_NAME, "annotations": {DEFAULT_CLASS_ANNOTATION: "true"},
                      "labels": dict(LABELS)},
         "spec": {"controller": CONTROLLER}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": {
            "replicas": 1, "selector": {"matchLabels": dict(LABELS)}, "template": pod}},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": {
            "type": "LoadBalancer", "selector": dict(LABELS),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                      {"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}]}},
    ]


def self_signed_pem(common_name: str = "Kubernetes Ingress Controller Fake Certificate") -> bytes:
    """A certificate and key (one PEM) for hosts without a Secret of their own."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("ingress.local")]), critical=False)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _write(path: Path, data: bytes, mode: int = 0o600) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class ConfigDir:
    """`<dir>/nginx.conf` (what nginx runs), `staging.conf` (a candidate), `default.pem`,
    `certs/*.pem`."""

    def __init__(self, root: Path, nginx: str = "nginx") -> None:
        self.root = root
        self.nginx = nginx
        self.live = root / "nginx.conf"
        self.staging = root / "staging.conf"

    def prepare(self, initial: Rendered) -> None:
        """The directory, the default certificate, and a first nginx.conf if there is none."""
        (self.root / "certs").mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        if not (self.root / DEFAULT_CERT).exists():
            _write(self.root / DEFAULT_CERT, self_signed_pem())
        if not self.live.exists():
            self.stage(initial)
            self.promote()

    def current(self) -> str:
        return self.live.read_text() if self.live.exists() else ""

    def stage(self, rendered: Rendered) -> None:
        for rel, data in rendered.files.items():
            path = self.root / rel
            if not path.exists() or path.read_bytes() != data:
                _write(path, data)
        _write(self.staging, rendered.text.encode(), 0o644)

    async def test(self) -> tuple[bool, str]:
        """`nginx -t` of the staged configuration: (ok, nginx's message)."""
        proc = await asyncio.create_subprocess_exec(
            self.nginx, "-t", "-q", "-e", "stderr", "-c", str(self.staging),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        return proc.returncode == 0, (err or out).decode(errors="replace").strip()

    def promote(self, keep: set[str] | None = None) -> None:
        os.replace(self.staging, self.live)
        if keep is not None:                      # certificates no longer named
            for path in (self.root / "certs").glob("*.pem"):
                if f"certs/{path.name}" not in keep:
                    path.unlink(missing_ok=True)


class Reloader(Protocol):
    async def reload(self) -> None: ...


class PodReloader:
    """`nginx -s reload` in every running pod of the data plane, through pods/exec."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def reload(self) -> None:
        from api.models import Pod
        from client.stream import open_stream, stream_query
        selector = ",".join(f"{k}={v}" for k, v in LABELS.items())
        pods = (await self.client.list(Pod, NAMESPACE, label_selector=selector)).items
        for pod in pods:
            if not pod.status or pod.status.phase != "Running" or pod.metadata.deletion_timestamp:
                continue
            query = stream_query(["/usr/sbin/nginx", "-c", f"{MOUNT}/nginx.conf", "-s", "reload"],
                                 "nginx", False, True, True, False)
            out: list[bytes] = []
            session = await open_stream(self.client.config, f"/api/v1/namespaces/{NAMESPACE}/pods/"
                                        f"{pod.metadata.name}/exec", query)
            code, message = await session.run(None, out.append, out.append)
            if code != 0:
                raise RuntimeError(f"nginx -s reload in {pod.metadata.name}: {message}: "
                                   f"{b''.join(out).decode(errors='replace').strip()}")


class ProcessNginx:
    """nginx as a child process (`-c <conf dir>/nginx.conf`), reloaded with SIGHUP."""

    def __init__(self, conf: ConfigDir) -> None:
        self.conf = conf
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            self.conf.nginx, "-e", "stderr", "-c", str(self.conf.live),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)

    async def reload(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGHUP)

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGQUIT)
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()
