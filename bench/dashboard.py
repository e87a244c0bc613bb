"""Dashboard at 300 pods: how long after the API says a Deployment's pods are Ready the
browser (Debian chromium, headless, through Playwright) shows them all on the node lanes,
and the size of one topology message.

    .venv/bin/python bench/dashboard.py [--pods 300] [--nodes 4] [--screenshot FILE] [--json]

Runs an in-process apiserver, hollow nodes, the real scheduler and controllers
(tests/support/dashboard_cluster.py) and the dashboard; prints its figures, never judges.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.async_api import async_playwright

from api.meta import is_pod_ready
from api.models import Pod
from tests.support.cluster import running_apiserver
from tests.support.dashboard_cluster import DashboardCluster

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


async def run(pods: int, nodes: int, screenshot: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        async with running_apiserver(tmp / "data") as srv, DashboardCluster(srv, tmp, nodes=nodes) as dc, \
                async_playwright() as p:
            browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            try:
                page = await (await browser.new_context(ignore_https_errors=True,
                                                        viewport={"width": 1400, "height": 1000})).new_page()
                await page.goto(dc.dashboard.url)
                await page.fill("#login textarea[name=kubeconfig]", Path(dc.kubeconfig).read_text())
                await page.click("#login button[type=submit]")
                await page.wait_for_selector('.lane[data-node="hollow-0"]')
                t0 = time.monotonic()
                await dc.kubectl("create", "deployment", "web", "--image=nginx", f"--replicas={pods}")
                while sum(1 for x in (await dc.kube.list(Pod, "default")).items if is_pod_ready(x)) < pods:
                    await asyncio.sleep(0.2)
                ready = time.monotonic()
                await page.wait_for_function(f"() => document.querySelectorAll('.pod.Running.ready').length === {pods}",
                                             timeout=60000)
                shown = time.monotonic()
                if screenshot:
                    await page.screenshot(path=screenshot)
                async with dc.browser_http() as http:
                    await http.post("/login", json={"kubeconfig": Path(dc.kubeconfig).read_text()})
                    size = len((await http.get("/api/topology")).content)
            finally:
                await browser.close()
    return {"pods": pods, "all_ready_s": round(ready - t0, 2), "shown_after_ready_s": round(shown - ready, 3),
            "topology_bytes": size}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=300)
    ap.add_argument("--nodes", type=int, default=4)
    ap.add_argument("--screenshot", default=None)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    figures = asyncio.run(run(a.pods, a.nodes, a.screenshot))
    print(f"{figures['pods']} pods Ready in the API after {figures['all_ready_s']} s; the page showed all of them "
          f"{figures['shown_after_ready_s']} s later; one topology message {figures['topology_bytes']} bytes")
    if a.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
