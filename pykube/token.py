"""Node join tokens, k3s style: `K10<sha256 of the cluster CA PEM>::<user>:<secret>`.

Owns the token's format (parse, format, the CA hash) and the server's token file
`<data dir>/server/node-token`. Pure apart from `ensure_node_token`, which reads or
writes that one file.

The hash pins the server: a joining agent fetches the CA from the server, hashes it and
trusts nothing unless the hash equals the one in its token. The secret is what the agent
then presents as its bearer token; the server accepts it as the user `node`.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

PREFIX = "K10"
NODE_USER = "node"
_HASH = re.compile(r"^[0-9a-f]{64}$")
_SECRET = re.compile(r"^[A-Za-z0-9._~+/=-]{8,}$")


class TokenError(ValueError):
    """A token that cannot be used; the message says why, in one line."""


def ca_hash(ca_pem: bytes) -> str:
    """The hex sha256 of the CA certificate bundle, exactly as the server serves it."""
    return hashlib.sha256(ca_pem).hexdigest()


@dataclass(frozen=True)
class NodeToken:
    ca_hash: str
    secret: str
    user: str = NODE_USER

    def __str__(self) -> str:
        return f"{PREFIX}{self.ca_hash}::{self.user}:{self.secret}"

    @property
    def bearer(self) -> str:
        """What the agent sends as `Authorization: Bearer ...`."""
        return self.secret

    def matches_ca(self, ca_pem: bytes) -> bool:
        return hmac.compare_digest(self.ca_hash, ca_hash(ca_pem))


def parse(text: str) -> NodeToken:
    """`K10<64 hex>::<user>:<secret>`; raises TokenError with the reason."""
    value = text.strip()
    if not value.startswith(PREFIX):
        raise TokenError("token does not start with K10: use the full token from the server's "
                         "<data dir>/server/node-token")
    head, sep, cred = value[len(PREFIX):].partition("::")
    if not sep:
        raise TokenError("token has no '::' between the CA hash and the credentials")
    if not _HASH.match(head):
        raise TokenError("token's CA hash is not 64 lowercase hex digits (a sha256)")
    user, sep, secret = cred.partition(":")
    if not sep or not user:
        raise TokenError("token's credentials are not <user>:<secret>")
    if not _SECRET.match(secret):
        raise TokenError("token's secret is too short or has characters a bearer token cannot carry")
    return NodeToken(ca_hash=head, secret=secret, user=user)


def new_secret() -> str:
    return secrets.token_hex(20)


def secret_from_flag(value: str) -> str:
    """The server's `--token`: a bare secret, or a full K10 token whose secret is used."""
    v = value.strip()
    if v.startswith(PREFIX) and "::" in v:
        return parse(v).secret
    if not _SECRET.match(v):
        raise TokenError("--token must be at least 8 characters of [A-Za-z0-9._~+/=-]")
    return v


def token_path(data_dir: Path) -> Path:
    return data_dir / "server" / "node-token"


def ensure_node_token(data_dir: Path, ca_pem: bytes, secret: str | None = None) -> NodeToken:
    """Read `<data dir>/server/node-token`, or write it: keeps the stored secret unless
    `secret` is given, and always carries the hash of the CA in use."""
    path = token_path(data_dir)
    old: NodeToken | None = None
    try:
        old = parse(path.read_text())
    except (OSError, TokenError):
        old = None
    token = NodeToken(ca_hash(ca_pem), secret or (old.secret if old else new_secret()))
    if old != token:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"{token}\n")
        os.replace(tmp, path)
    return token
