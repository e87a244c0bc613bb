"""Fixtures for controller integration tests: `kube`, a REST client for the in-process
apiserver (the `apiserver` fixture), and `informers`, SharedInformers stopped after each
test."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from client import kubeconfig
from client.rest import Client
from controllers.base import SharedInformers


@pytest.fixture
async def kube(apiserver: Any) -> AsyncIterator[Client]:
    client = Client(kubeconfig.load(str(apiserver.kubeconfig_path)), component="test")
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def informers(kube: Client) -> AsyncIterator[SharedInformers]:
    inf = SharedInformers(kube)
    try:
        yield inf
    finally:
        await inf.stop_all()
