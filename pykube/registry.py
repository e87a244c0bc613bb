"""`pykube server --registry`: the cluster's image registry, Debian's `docker-registry`.

Owns the registry's files under `<data dir>/server/registry/` and its process, a supervised
component of the server (NODE-STACK.md, "A real registry"):
- `tls.crt`/`tls.key`: a serving certificate from the cluster CA (`server/tls/server-ca.*`),
  so every node, which trusts that CA since it joined, trusts the registry;
- `htpasswd` (bcrypt, which the registry requires) with the user `pykube`, whose password
  is kept in `password` (0600); every repository needs it (or an `imagePullSecret` naming it);
- `config.yml`, storage in `data/`, the log in `<data dir>/logs/registry.log`;
- `registries.yaml` for the nodes (k3s' format, kubelet/images/registries.py): the registry
  as itself and as the mirror of docker.io, so `busybox` resolves to it on an offline node.
  The server's own agent uses it; `deploy/vagrant/provision.sh` shares it with the agents.
The process is the server's child (killall stops it with the server's tree) and dies with
it (PR_SET_PDEATHSIG).
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

import yaml

from pykube.embedded_etcd import die_with_parent
from pykube.supervisor import Component, Ready

log = logging.getLogger("pykube.registry")

USER = "pykube"
DEFAULT_PORT = 5443


@dataclass
class RegistryFiles:
    dir: Path
    address: str            # host:port the nodes pull from
    ca: Path                # the cluster CA

    @property
    def config(self) -> Path:
        return self.dir / "config.yml"

    @property
    def registries(self) -> Path:
        return self.dir / "registries.yaml"

    @property
    def password_file(self) -> Path:
        return self.dir / "password"

    @property
    def url(self) -> str:
        return f"https://{self.address}"


def files_for(data_dir: Path, address: str, port: int) -> RegistryFiles:
    return RegistryFiles(data_dir / "server" / "registry", f"{address}:{port}",
                         data_dir / "server" / "tls" / "server-ca.crt")


def _private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_bytes(data)


def render_config(f: RegistryFiles, port: int, http_secret: str) -> str:
    return yaml.safe_dump({
        "version": 0.1,
        "log": {"level": "info", "formatter": "text"},
        "storage": {"filesystem": {"rootdirectory": str(f.dir / "data")}, "delete": {"enabled": True}},
        "http": {"addr": f"0.0.0.0:{port}", "secret": http_secret,
                 "tls": {"certificate": str(f.dir / "tls.crt"), "key": str(f.dir / "tls.key")}},
        "auth": {"htpasswd": {"realm": "pykube-registry", "path": str(f.dir / "htpasswd")}},
    }, sort_keys=False)


def node_registries(f: RegistryFiles) -> str:
    """The nodes' registries.yaml: the registry by its own name and as docker.io's mirror."""
    return yaml.safe_dump({"mirrors": {"docker.io": {"endpoint": [f.url]}},
                           "configs": {f.address: {}}}, sort_keys=False)


def prepare(f: RegistryFiles, port: int, sans: list[str]) -> None:
    """Write (or keep) the certificate, password, htpasswd, config and registries.yaml."""
    import bcrypt

    from apiserver.tls import cert_sans, issue_cert
    tls = f.ca.parent
    want = sorted({f.address.rsplit(":", 1)[0], "127.0.0.1", "localhost", socket.gethostname(), *sans})
    crt = f.dir / "tls.crt"
    if not crt.exists() or not set(want) <= cert_sans(crt.read_bytes()):
        cert, key = issue_cert(f.ca.read_bytes(), (tls / "server-ca.key").read_bytes(), "pykube-registry", want)
        _private(f.dir / "tls.key", key)
        crt.write_bytes(cert)
    if not f.password_file.exists():
        _private(f.password_file, secrets.token_urlsafe(18).encode())
    password = f.password_file.read_text().strip()
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()
    _private(f.dir / "htpasswd", f"{USER}:{hashed}\n".encode())
    _private(f.config, render_config(f, port, secrets.token_hex(16)).encode())
    f.registries.write_text(node_registries(f))


async def _answers(f: RegistryFiles, port: int) -> bool:
    """`GET /v2/` over TLS with the cluster CA: 401 (auth required) means serving."""
    ctx = ssl.create_default_context(cafile=str(f.ca))
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                                                        server_hostname="127.0.0.1"), 2)
    except (OSError, asyncio.TimeoutError, ssl.SSLError):
        return False
    try:
        writer.write(b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        line = await asyncio.wait_for(reader.readline(), 2)
        return line.split()[1:2] == [b"401"]
    except (OSError, asyncio.TimeoutError, IndexError):
        return False
    finally:
        writer.close()


def component(data_dir: Path, address: str, port: int, sans: list[str]) -> Component:
    """The registry as a supervised component: ready once `/v2/` asks for credentials."""
    f = files_for(data_dir, address, port)

    async def run(ready: Ready) -> None:
        await asyncio.to_thread(prepare, f, port, sans)
        logs = data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        out = await asyncio.to_thread(open, logs / "registry.log", "ab")
        try:
            proc = await asyncio.create_subprocess_exec("docker-registry", "serve", str(f.config),
                                                        stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
                                                        preexec_fn=die_with_parent)
        except FileNotFoundError:
            raise RuntimeError("--registry needs docker-registry (the Debian package of that name)") from None
        finally:
            out.close()
        try:
            for _ in range(200):
                if proc.returncode is not None:
                    raise RuntimeError(f"docker-registry exited with {proc.returncode}; see {logs / 'registry.log'}")
                if await _answers(f, port):
                    break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"docker-registry did not answer on :{port}; see {logs / 'registry.log'}")
            log.info("registry %s (user %s, password in %s; nodes: %s)", f.url, USER, f.password_file,
                     f.registries)
            ready()
            code = await proc.wait()
            raise RuntimeError(f"docker-registry exited with {code}")
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 10)
                except asyncio.TimeoutError:
                    proc.kill()
                    await proc.wait()
    return Component("registry", run)
