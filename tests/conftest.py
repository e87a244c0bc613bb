"""Shared fixtures: an in-process apiserver (memory store) and an httpx client for it."""
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


def needs_root() -> pytest.MarkDecorator:
    return pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
