"""Fixtures for the client unit tests: `fake_api`, an in-memory apiserver (client_fakeapi)."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # helpers beside the tests

from client_fakeapi import FakeAPI


@pytest.fixture
def fake_api() -> FakeAPI:
    return FakeAPI()
