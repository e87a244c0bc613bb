"""The scraper runs on demand: the first request starts it and waits for rates; idle, it stops."""
from __future__ import annotations

import asyncio
import time

from apiserver.metrics_scraper import MetricsScraper, node_ready


async def test_scraping_starts_on_demand_and_stops_when_idle() -> None:
    s = MetricsScraper(lambda: [], "token", resolution=0.05, idle_after=0.3)
    try:
        assert not s.running and s.scrapes == 0
        t0 = time.monotonic()
        await s.demand()
        assert s.running and s.scrapes == 2 and time.monotonic() - t0 < 1.0   # two rounds, then answered
        deadline = time.monotonic() + 5
        while s.running:
            assert time.monotonic() < deadline, "the scraper never went idle"
            await asyncio.sleep(0.02)
        rounds = s.scrapes
        await s.demand()                                        # a later request starts it again
        assert s.running and s.scrapes >= rounds + 2
    finally:
        await s.stop()


async def test_off_is_off() -> None:
    s = MetricsScraper(lambda: [], "token", resolution=0)
    s.start()
    assert not s.running
    await s.stop()


def test_node_ready() -> None:
    assert node_ready({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    assert not node_ready({"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}})
    assert not node_ready({"metadata": {"name": "n"}})
