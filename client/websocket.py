"""WebSocket streams to the apiserver (pods/exec, pods/attach, pods/portforward): the one
place besides `client.rest` that speaks to it, with the same credentials.

Owns `open_websocket(config, path, subprotocols)`: the `https://` server becomes `wss://`,
the kubeconfig's bearer token (or client certificate) and CA are used exactly as the REST
client uses them, no proxy from the environment, no compression, no size limit. A refused
upgrade raises the `APIError` its Status names (NotFound, Forbidden, ...); a connection
that cannot be made raises `ConnectionFailed`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from client.errors import APIError, ConnectionFailed
from client.kubeconfig import ClientConfig


def websocket_url(server: str, path: str) -> str:
    """`https://h:6443` + `/api/v1/...` -> `wss://h:6443/api/v1/...`."""
    base = server.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base[len("https://"):]
    elif base.startswith("http://"):
        base = "ws://" + base[len("http://"):]
    return base + path


async def open_websocket(config: ClientConfig, path: str, subprotocols: Sequence[str],
                         *, user_agent: str = "pykube/client") -> Any:
    """An open `websockets` client connection to `path` (with its query); use it as
    `async with await open_websocket(...) as ws:`."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus, WebSocketException
    from websockets.typing import Subprotocol

    url = websocket_url(config.server, path)
    headers = {"User-Agent": user_agent}
    if config.token:
        headers["Authorization"] = f"Bearer {config.token}"
    tls = config.ssl_context() if url.startswith("wss://") else None
    try:
        return await connect(url, subprotocols=[Subprotocol(p) for p in subprotocols],
                             additional_headers=headers, ssl=tls if tls is not True else None,
                             proxy=None, compression=None, max_size=None)
    except InvalidStatus as e:
        raise APIError.from_response(e.response.status_code, bytes(e.response.body or b"")) from None
    except (OSError, WebSocketException) as e:
        raise ConnectionFailed(f"websocket {path}: {e}") from None
