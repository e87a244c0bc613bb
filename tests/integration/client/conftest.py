"""Fixtures for client integration tests against the in-process apiserver: a `Client`, and
a transport whose watch streams the test can cut (a dropped connection, mid-stream)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from client import kubeconfig
from client.rest import Client


class _CuttableStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self.inner = inner
        self.cut = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        it = self.inner.__aiter__()
        while True:
            nxt = asyncio.ensure_future(it.__anext__())
            cut = asyncio.ensure_future(self.cut.wait())
            done, _ = await asyncio.wait({nxt, cut}, return_when=asyncio.FIRST_COMPLETED)
            if cut in done:
                nxt.cancel()
                await asyncio.gather(nxt, return_exceptions=True)
                raise httpx.ReadError("watch stream cut by the test")
            cut.cancel()
            try:
                chunk = nxt.result()
            except StopAsyncIteration:
                return
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


class CuttableTransport(httpx.AsyncBaseTransport):
    """The real HTTPS transport; `cut()` breaks every open watch stream."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.streams: list[_CuttableStream] = []
        self.cuts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        resp = await self.inner.handle_async_request(request)
        if request.url.params.get("watch") and resp.status_code == 200:
            assert isinstance(resp.stream, httpx.AsyncByteStream)
            stream = _CuttableStream(resp.stream)
            self.streams.append(stream)
            return httpx.Response(resp.status_code, headers=resp.headers, stream=stream,
                                  extensions=resp.extensions)
        return resp

    def cut(self) -> None:
        self.cuts += 1
        for s in self.streams:
            s.cut.set()
        self.streams.clear()

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def client_config(apiserver: Any) -> kubeconfig.ClientConfig:
    return kubeconfig.load(str(apiserver.kubeconfig_path))


@pytest.fixture
async def kube(client_config: kubeconfig.ClientConfig) -> AsyncIterator[Client]:
    async with Client(client_config, component="client-test") as c:
        yield c


@pytest.fixture
async def cuttable(client_config: kubeconfig.ClientConfig
                   ) -> AsyncIterator[tuple[Client, CuttableTransport]]:
    transport = CuttableTransport(httpx.AsyncHTTPTransport(verify=client_config.ssl_context()))
    async with Client(client_config, component="client-test-informer",
                      transport=transport) as c:
        yield c, transport
