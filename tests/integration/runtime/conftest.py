"""Fixtures for the runtime contract suite: one backend per param, fake and cri.

The cri backend (root only) is a private containerd + CNI node from
tests/support/runtime_node.py, built once per module and torn down pass or fail.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from kubelet.runtime.fake import FakeRuntime
from tests.support.runtime_node import BUSYBOX, PAUSE, Harness, build_images, cri_node, missing_node_tools


@pytest.fixture(scope="session")
def images_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_images(tmp_path_factory.mktemp("images"))


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["fake", "cri"])
async def harness(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    if request.param == "fake":
        rt = FakeRuntime(pod_cidr="10.250.7.0/24", images=[BUSYBOX, PAUSE])
        yield Harness(rt, tmp_path_factory.mktemp("fake-logs"))
        return
    if os.geteuid() != 0:
        pytest.skip("the CRI backend needs root (containerd, CNI)")
    if missing := missing_node_tools():
        pytest.skip(f"missing: {', '.join(missing)}")
    images = request.getfixturevalue("images_dir")
    async with cri_node(tmp_path_factory.mktemp("cri"), images) as h:
        yield h


@pytest_asyncio.fixture(loop_scope="module")
async def pods(harness: Harness) -> AsyncIterator[list[str]]:
    """Sandbox ids a test made; stopped and removed when it ends, pass or fail."""
    ids: list[str] = []
    yield ids
    for sid in ids:
        await harness.rt.stop_pod_sandbox(sid)
        await harness.rt.remove_pod_sandbox(sid)
