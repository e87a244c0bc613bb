"""The dashboard in a real browser (Playwright driving Debian's chromium, headless) against
the in-process apiserver with hollow nodes: log in, apply the nginx-app manifest and see
its pods on the node lanes within 5 s of their Running, scale to 4, delete a pod and see
it replaced, the timeline's events in order, and the path of the apply.

With `DASHBOARD_SCREENSHOTS=<dir>` the three views are saved there (docs/ holds them)."""
from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, async_playwright

from api.meta import is_pod_ready
from api.models import Pod
from tests.support.apps_cluster import eventually
from tests.support.dashboard_cluster import DashboardCluster

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# as this machine runs chromium headless: no sandbox as root, no background connections
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ON_LANES = 'document.querySelectorAll(\'.lane:not([data-node="(unscheduled)"]) .pod.Running.ready[data-pod^="nginx-deployment-"]\')'


@pytest.fixture
async def dc(apiserver: Any, tmp_path: Path) -> AsyncIterator[DashboardCluster]:
    async with DashboardCluster(apiserver, tmp_path) as c:
        yield c


@pytest.fixture
async def page(dc: DashboardCluster, tmp_path: Path) -> AsyncIterator[Page]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = await browser.new_context(ignore_https_errors=True, viewport={"width": 1400, "height": 900})
            yield await ctx.new_page()
        finally:
            await browser.close()


async def ready_pods(dc: DashboardCluster, n: int) -> list[str] | None:
    pods = (await dc.kube.list(Pod, "default", label_selector="app=nginx")).items
    names = [p.metadata.name for p in pods if is_pod_ready(p) and not p.metadata.deletion_timestamp]
    return names if len(names) == n and len(pods) == n else None


async def shown(page: Page, names: list[str], timeout_ms: float = 5000) -> None:
    """The page shows exactly these Running, Ready pods on node lanes within `timeout_ms`."""
    await page.wait_for_function(f"want => {{ const got = [...{ON_LANES}].map(e => e.dataset.pod).sort();"
                                 " return JSON.stringify(got) === JSON.stringify(want); }",
                                 arg=sorted(names), timeout=timeout_ms)


async def screenshot(page: Page, name: str, tmp_path: Path) -> None:
    out = Path(os.environ.get("DASHBOARD_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(out / f"dashboard-{name}.png"), full_page=False)


async def test_the_dashboard_in_a_browser(dc: DashboardCluster, page: Page, tmp_path: Path) -> None:
    await page.goto(dc.dashboard.url)
    await page.fill("#login textarea[name=kubeconfig]", Path(dc.kubeconfig).read_text())
    await page.click("#login button[type=submit]")
    await page.wait_for_selector('.lane[data-node="hollow-0"]')
    await page.wait_for_selector("#live.on")

    await dc.kubectl("apply", "-f", str(ROOT / "manifests" / "nginx-app.yaml"))
    two = await eventually(lambda: ready_pods(dc, 2), timeout=30, what="2 Ready pods in the API")
    await shown(page, two)
    await dc.kubectl("scale", "deployment/nginx-deployment", "--replicas=4")
    four = await eventually(lambda: ready_pods(dc, 4), timeout=30, what="4 Ready pods in the API")
    await shown(page, four)
    await screenshot(page, "topology", tmp_path)

    victim = four[0]
    await dc.kubectl("delete", "pod", victim, "--wait=false")

    async def replaced() -> list[str] | None:
        names = await ready_pods(dc, 4)
        return names if names and victim not in names else None
    current = await eventually(replaced, timeout=30, what="the deleted pod replaced")
    await shown(page, current)

    await page.click('#tabs button[data-tab="timeline"]')
    reasons = await page.eval_on_selector_all('#entries tr[data-source="event"]', "rows => rows.map(r => r.dataset.reason)")
    reasons.reverse()                                   # the table shows the newest first
    order = [reasons.index(r) for r in ("ScalingReplicaSet", "SuccessfulCreate", "Scheduled", "Started")]
    assert order == sorted(order), reasons
    await screenshot(page, "timeline", tmp_path)

    await page.fill('#filter input[name="kind"]', "Deployment")
    await page.fill('#filter input[name="name"]', "nginx-deployment")
    created = page.locator('#entries tr[data-kind="Deployment"][data-source="watch"]', has_text="ADDED: created")
    await created.locator("a.path").click()
    await page.wait_for_selector('#steps li[data-actor="kubelet"]')
    actors = await page.eval_on_selector_all("#steps li", "lis => lis.map(li => li.dataset.actor)")
    distinct = list(dict.fromkeys(actors))
    assert distinct[:5] == ["kubectl", "deployment controller", "replicaset controller", "scheduler", "kubelet"], actors
    assert "endpointslice controller" in distinct
    await screenshot(page, "change-path", tmp_path)

    await page.click('#tabs button[data-tab="topology"]')
    await page.click(f'.pod[data-pod="{current[0]}"]')
    await page.wait_for_selector("#detail-owners li")
    owners = await page.eval_on_selector_all("#detail-owners li", "lis => lis.map(li => li.textContent)")
    assert owners[0].startswith("ReplicaSet nginx-deployment-") and owners[1] == "Deployment nginx-deployment"
    assert "kind: Pod" in (await page.text_content("#detail-yaml") or "")
