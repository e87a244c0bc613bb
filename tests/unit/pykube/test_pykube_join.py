"""The join handshake against an in-process apiserver: the CA must hash to the token's,
the secret must be accepted, and the kubeconfig written works."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from client import kubeconfig
from client.rest import Client
from pykube.join import JoinError, join, normalize_server
from pykube.token import NodeToken, ca_hash
from tests.support.cluster import running_apiserver

SECRET = "node-secret-for-tests"


@pytest.fixture
async def server(tmp_path: Path) -> Any:
    async with running_apiserver(tmp_path / "srv", extra_tokens={SECRET: "node"}) as srv:
        yield srv


def test_normalize_server() -> None:
    assert normalize_server("10.0.0.1") == "https://10.0.0.1:6443"
    assert normalize_server("https://h:7443/") == "https://h:7443"
    with pytest.raises(JoinError, match="https://"):
        normalize_server("http://h:6443")


async def test_right_token_joins_and_writes_a_working_kubeconfig(server: Any, tmp_path: Path) -> None:
    token = NodeToken(ca_hash(server.ca_path.read_bytes()), SECRET)
    path = tmp_path / "agent" / "kubelet.kubeconfig"
    joined = await join(server.url, token, path, retry_for=5)
    assert joined.ca_pem == server.ca_path.read_bytes()
    assert path.stat().st_mode & 0o777 == 0o600
    async with Client(kubeconfig.load(str(path))) as c:
        assert (await c.request("GET", "/api")).status_code == 200


async def test_another_ca_is_refused_before_the_secret_is_sent(server: Any, tmp_path: Path) -> None:
    token = NodeToken("0" * 64, SECRET)
    with pytest.raises(JoinError, match="is not the one the token names"):
        await join(server.url, token, tmp_path / "k", retry_for=5)
    assert not (tmp_path / "k").exists()


async def test_wrong_secret_is_refused(server: Any, tmp_path: Path) -> None:
    token = NodeToken(ca_hash(server.ca_path.read_bytes()), "not-the-secret")
    with pytest.raises(JoinError, match="401 Unauthorized"):
        await join(server.url, token, tmp_path / "k", retry_for=5)


async def test_unreachable_server_gives_up_after_retry_for(tmp_path: Path) -> None:
    token = NodeToken("0" * 64, SECRET)
    with pytest.raises(JoinError, match="cannot reach https://127.0.0.1:1"):
        await join("https://127.0.0.1:1", token, tmp_path / "k", retry_for=0.2, retry_interval=0.1)
