"""Serving the dashboard over HTTPS (uvicorn), as the apiserver serves its app.

`DashboardServer(config).start()` binds (port 0: a free one, in `.port`), serves until
`stop()`; signals stay with the caller (the launcher or a test). The certificate and key
are files the caller gives (the launcher issues them from the cluster's CA).
"""
from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from client.kubeconfig import ClientConfig
from dashboard.app import create_app


@dataclass
class DashboardConfig:
    api: ClientConfig            # the cluster: its server and CA (credentials unused)
    cert_file: Path
    key_file: Path
    bind_address: str = "0.0.0.0"
    port: int = 8443


class DashboardServer:
    def __init__(self, config: DashboardConfig) -> None:
        self.config = config
        self.port = 0
        self.app = create_app(config.api)
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = self.config.bind_address
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        return f"https://{host}:{self.port}"

    async def start(self) -> None:
        cfg = self.config
        sock = socket.socket(socket.AF_INET6 if ":" in cfg.bind_address else socket.AF_INET,
                             socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((cfg.bind_address, cfg.port))
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        ucfg = uvicorn.Config(self.app, ssl_certfile=str(cfg.cert_file), ssl_keyfile=str(cfg.key_file),
                              log_level="warning", lifespan="on", access_log=False, proxy_headers=False,
                              server_header=False, timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(ucfg)
        self._server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="dashboard")
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the dashboard stopped while starting")
            await asyncio.sleep(0.02)

    async def wait(self) -> None:
        """Until the listener ends (an error) or the caller cancels."""
        assert self._task is not None
        await self._task

    async def stop(self) -> None:
        if self._server is not None:
            # end the views first: their SSE streams return, so the shutdown is graceful
            await self.app.state.sessions.close()
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, 5)
        self._server = self._task = None
