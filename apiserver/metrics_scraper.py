"""The metrics component's scraper: every kubelet's `/metrics/resource`, each resolution.

Owns `MetricsScraper`, metrics-server's scrape loop run inside the apiserver (why in, not
beside it: metrics_api.py): every `resolution` seconds (`--metric-resolution`, 15 s by
default as metrics-server) it reads the Nodes from the watch cache, scrapes each Ready
node's kubelet concurrently (at most `concurrency` at a time, `timeout` each, at the
address and port the Node publishes, with the apiserver's own token, the kubelets'
self-signed certificates not verified, as for logs and exec: kubeletproxy.py) and stores
the points (metrics_store.py). A node that fails to answer is forgotten until it answers
again; nodes deleted are dropped. `scrape_once()` runs one round (tests).
"""
from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from apiserver.kubeletproxy import kubelet_endpoint
from apiserver.metrics_store import MetricsStore, parse_resource_metrics

log = logging.getLogger("apiserver.metrics")


def _insecure_tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def node_ready(node: dict[str, Any]) -> bool:
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


class MetricsScraper:
    def __init__(self, nodes: Callable[[], Iterable[dict[str, Any]]], token: str, resolution: float = 15.0,
                 timeout: float = 5.0, concurrency: int = 32) -> None:
        self.nodes, self.token, self.resolution = nodes, token, resolution
        self.timeout = timeout
        self.store = MetricsStore()
        self.scrapes = 0
        self._sem = asyncio.Semaphore(concurrency)
        self._http = httpx.AsyncClient(verify=_insecure_tls(), trust_env=False, timeout=timeout,
                                       headers={"Authorization": f"Bearer {token}"},
                                       limits=httpx.Limits(max_keepalive_connections=concurrency))
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.resolution > 0 and self._task is None:
            self._task = asyncio.create_task(self._run(), name="metrics-scraper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._http.aclose()

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await self.scrape_once()
            except Exception as e:  # noqa: BLE001 - the next round tries again
                log.warning("metrics scrape failed: %s", e)
            await asyncio.sleep(max(0.0, self.resolution - (time.monotonic() - started)))

    async def scrape_once(self) -> None:
        nodes = list(self.nodes())
        self.store.keep_only({n["metadata"]["name"] for n in nodes})
        await asyncio.gather(*(self._scrape(n) for n in nodes if node_ready(n)))
        for n in nodes:
            if not node_ready(n):
                self.store.forget(n["metadata"]["name"])
        self.scrapes += 1

    async def _scrape(self, node: dict[str, Any]) -> None:
        name = node["metadata"]["name"]
        async with self._sem:
            try:
                host, port = kubelet_endpoint(node)
                r = await self._http.get(f"https://{_host(host)}:{port}/metrics/resource")
                r.raise_for_status()
            except Exception as e:  # noqa: BLE001 - one node's failure is that node's
                log.debug("scraping node %s failed: %s", name, e)
                self.store.forget(name)
                return
        self.store.store(name, parse_resource_metrics(r.text, time.time()))
