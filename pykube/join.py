"""An agent joining a control plane: fetch the CA, check it against the token, log in.

Owns the join handshake of `pykube agent --server URL --token T`, as k3s does it:
1. `GET <server>/cacerts` without verifying TLS (nothing is trusted yet; the route is
   public) and hash the PEM; unless it equals the hash in the token, refuse: this is
   another cluster, or a server in the middle.
2. From then on every request verifies the server's certificate against that CA and
   carries the token's secret as a bearer token; a 401 means the secret is wrong.
3. Write the agent's kubeconfig (`<data dir>/agent/kubelet.kubeconfig`) for the kubelet
   and kube-proxy.

Connection failures are retried (the server may still be starting); a refusal is final.
"""
from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

import httpx

from pykube.kubeconfigs import write_token_kubeconfig
from pykube.token import NodeToken, ca_hash

log = logging.getLogger("pykube.join")


class JoinError(Exception):
    """The server refused us, or we refuse the server; the message is for the user."""


@dataclass(frozen=True)
class Joined:
    server: str
    ca_pem: bytes
    kubeconfig: Path


def normalize_server(url: str) -> str:
    u = url.strip().rstrip("/")
    if "://" not in u:
        u = f"https://{u}"
    if not u.startswith("https://"):
        raise JoinError(f"--server {url}: must be an https:// URL (e.g. https://HOST:6443)")
    host = u[len("https://"):]
    if ":" not in host.rsplit("]", 1)[-1]:
        u += ":6443"
    return u


async def fetch_ca(server: str, timeout: float = 10.0) -> bytes:
    """The server's CA bundle from the public `/cacerts` route (TLS not yet verified)."""
    async with httpx.AsyncClient(verify=False, timeout=timeout) as c:  # checked by hash
        r = await c.get(f"{server}/cacerts")
    if r.status_code != 200:
        raise JoinError(f"{server}/cacerts answered {r.status_code}: is this a pykube server?")
    pem = r.content
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise JoinError(f"{server}/cacerts did not return a PEM certificate: is this a pykube server?")
    return pem


def check_ca(server: str, token: NodeToken, ca_pem: bytes) -> None:
    if not token.matches_ca(ca_pem):
        raise JoinError(
            f"refusing to join {server}: its CA (sha256 {ca_hash(ca_pem)[:16]}...) is not the one "
            f"the token names (sha256 {token.ca_hash[:16]}...): wrong token, or another server")


def _context(ca_pem: bytes) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=ca_pem.decode())


async def check_credentials(server: str, token: NodeToken, ca_pem: bytes, timeout: float = 10.0) -> None:
    """An authenticated request over verified TLS; 401 means the token's secret is wrong."""
    try:
        async with httpx.AsyncClient(verify=_context(ca_pem), timeout=timeout,
                                     headers={"Authorization": f"Bearer {token.bearer}"}) as c:
            r = await c.get(f"{server}/api")
    except httpx.ConnectError as e:
        if "CERTIFICATE_VERIFY_FAILED" in str(e) or "hostname" in str(e).lower():
            raise JoinError(f"{server}: its serving certificate does not name this address "
                            f"({e}); start the server with --tls-san <that host>") from e
        raise
    if r.status_code == 401:
        raise JoinError(f"{server} refused the token (401 Unauthorized): the secret is wrong; "
                        "use the token in the server's <data dir>/server/node-token")
    if r.status_code != 200:
        raise JoinError(f"{server}/api answered {r.status_code}: {r.text[:200]}")


async def join(server_url: str, token: NodeToken, kubeconfig: Path, *,
               retry_for: float = 300.0, retry_interval: float = 2.0) -> Joined:
    """Run the handshake, retrying while the server cannot be reached; write the kubeconfig."""
    server = normalize_server(server_url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + retry_for
    delay = retry_interval
    while True:
        try:
            ca_pem = await fetch_ca(server)
            check_ca(server, token, ca_pem)
            await check_credentials(server, token, ca_pem)
            break
        except (httpx.TransportError, OSError) as e:
            if loop.time() + delay > deadline:
                raise JoinError(f"cannot reach {server}: {e or type(e).__name__}") from e
            log.info("waiting for %s: %s; retrying in %.0fs", server, e or type(e).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
    write_token_kubeconfig(kubeconfig, server, ca_pem, token.bearer, user=f"system:{token.user}")
    log.info("joined %s (CA sha256 %s...)", server, token.ca_hash[:16])
    return Joined(server, ca_pem, kubeconfig)
