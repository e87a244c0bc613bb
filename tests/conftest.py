"""Shared fixtures: an in-process apiserver (memory store) and an httpx client for it.

Also the rule that, as root or in CI, a skipped test is a failed one: there every tool the
tests need is installed by .ci/run, so a skip can only hide something broken.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import AsyncIterator

import ssl

import httpx
import pytest

from tests.support.cluster import running_apiserver


@pytest.fixture
async def apiserver(tmp_path: Path) -> AsyncIterator[object]:
    async with running_apiserver(tmp_path / "data") as srv:
        yield srv


@pytest.fixture
async def http(apiserver: object) -> AsyncIterator[httpx.AsyncClient]:
    srv = apiserver
    async with httpx.AsyncClient(base_url=srv.url, verify=ssl.create_default_context(cafile=str(srv.ca_path)),  # type: ignore[attr-defined]
                                 headers={"Authorization": f"Bearer {srv.token}"},  # type: ignore[attr-defined]
                                 timeout=10) as c:
        yield c


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    strict = os.geteuid() == 0 or os.environ.get("CI") == "true"
    if strict and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped where nothing may be skipped (root or CI): {reason}"


def needs_root() -> pytest.MarkDecorator:
    return pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
