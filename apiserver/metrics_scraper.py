"""The metrics component's scraper: every kubelet's `/metrics/resource`, each resolution.

Owns `MetricsScraper`, metrics-server's scrape loop run inside the apiserver (why in, not
beside it: metrics_api.py): every `resolution` seconds (`--metric-resolution`, 15 s by
default as metrics-server) it reads the Nodes from the watch cache, scrapes each Ready
node's kubelet concurrently (at most `concurrency` at a time, `timeout` each, at the
address and port the Node publishes, with the apiserver's own token, the kubelets'
self-signed certificates not verified, as for logs and exec: kubeletproxy.py) and stores
the points (metrics_store.py). A node that fails to answer is forgotten until it answers
again; nodes deleted are dropped. `scrape_once()` runs one round (tests).

Scraping runs on demand, unlike metrics-server's: the first metrics request starts it
(`demand()`), which scrapes twice a second apart and answers once there are rates (about
1 s), then every resolution; after `idle_after` (10 min) without a request it stops and
forgets its points. A cluster nobody asks for metrics (a density benchmark of 1,000 hollow
nodes, most tests) pays nothing; `kubectl top` and an HPA keep it running.
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
                 timeout: float = 5.0, concurrency: int = 32, idle_after: float = 600.0) -> None:
        self.nodes, self.token, self.resolution = nodes, token, resolution
        self.timeout, self.idle_after = timeout, idle_after
        self.store = MetricsStore()
        self.scrapes = 0
        self._warm = asyncio.Event()   # two scrapes done: rates can be served
        self._last_demand = 0.0
        self._sem = asyncio.Semaphore(concurrency)
        self._http = httpx.AsyncClient(verify=_insecure_tls(), trust_env=False, timeout=timeout,
                                       headers={"Authorization": f"Bearer {token}"},
                                       limits=httpx.Limits(max_keepalive_connections=concurrency))
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.resolution > 0 and (self._task is None or self._task.done()):
            self._warm.clear()
            self._task = asyncio.create_task(self._run(), name="metrics-scraper")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def demand(self, wait: float = 5.0) -> None:
        """A metrics request: start scraping if it is not running, and wait (at most `wait`)
        until the first rates exist."""
        self._last_demand = time.monotonic()
        self.start()
        try:
            async with asyncio.timeout(wait):
                await self._warm.wait()
        except TimeoutError:
            pass

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._http.aclose()

    async def _run(self) -> None:
        log.info("scraping the kubelets for the metrics API every %gs", self.resolution)
        rounds = 0
        while time.monotonic() - self._last_demand < self.idle_after:
            started = time.monotonic()
            try:
                await self.scrape_once()
            except Exception as e:  # noqa: BLE001 - the next round tries again
                log.warning("metrics scrape failed: %s", e)
            rounds += 1
            if rounds == 2:
                self._warm.set()
            period = min(1.0, self.resolution) if rounds == 1 else self.resolution
            await asyncio.sleep(max(0.0, period - (time.monotonic() - started)))
        log.info("no metrics request for %gs: scraping stopped", self.idle_after)
        self._warm.clear()
        self.store = MetricsStore()

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
