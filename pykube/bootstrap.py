"""What every server of one cluster must share, kept in etcd and sealed with the token.

Owns the bootstrap data of an HA control plane (k3s keeps the same in its datastore): the
cluster CA certificate and key, the service-account signing key and the admin token, the
files `server/tls/server-ca.crt`, `server/tls/server-ca.key`, `server/tls/service-account.key`
and `server/token` of a data dir. `seal` packs them as JSON and encrypts it with AES-GCM
under sha256("pykube-bootstrap:" + the node token's secret); `unseal` reverses it and fails
with a clear error on a wrong token. The first server (`--cluster-init`) stores them under
the etcd key `/pykube/bootstrap` once its files exist; a joining server reads them before
its apiserver starts, so it serves with the same CA and accepts the same tokens.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pykube.embedded_etcd import etcdctl

KEY = "/pykube/bootstrap"
FILES = ("server/tls/server-ca.crt", "server/tls/server-ca.key", "server/tls/service-account.key", "server/token")


class BootstrapError(RuntimeError):
    pass


def _key(secret: str) -> bytes:
    return hashlib.sha256(f"pykube-bootstrap:{secret}".encode()).digest()


def seal(data_dir: Path, secret: str) -> str:
    files = {f: base64.b64encode((data_dir / f).read_bytes()).decode() for f in FILES}
    nonce = os.urandom(12)
    box = AESGCM(_key(secret)).encrypt(nonce, json.dumps(files).encode(), b"pykube")
    return base64.b64encode(nonce + box).decode()


def unseal(sealed: str, secret: str) -> dict[str, bytes]:
    try:
        raw = base64.b64decode(sealed)
        plain = AESGCM(_key(secret)).decrypt(raw[:12], raw[12:], b"pykube")
    except (InvalidTag, ValueError) as e:
        raise BootstrapError("the cluster's bootstrap data does not open with this token: "
                             "use the first server's <data dir>/server/node-token") from e
    return {f: base64.b64decode(v) for f, v in json.loads(plain).items() if f in FILES}


def write_files(data_dir: Path, files: dict[str, bytes]) -> None:
    for rel, content in files.items():
        path = data_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(content)


async def store(endpoint: str, data_dir: Path, secret: str) -> None:
    await etcdctl(endpoint, "put", KEY, seal(data_dir, secret))


async def fetch(endpoint: str, data_dir: Path, secret: str) -> None:
    """Read, open and write the bootstrap files (never over this server's own)."""
    sealed = (await etcdctl(endpoint, "get", KEY, "--print-value-only")).strip()
    if not sealed:
        raise BootstrapError(f"no bootstrap data in the etcd at {endpoint}: was the first server "
                             "started with --cluster-init?")
    files = unseal(sealed, secret)
    write_files(data_dir, {f: c for f, c in files.items() if not (data_dir / f).exists()})
