"""apiserver.server.tune_gc: the collector runs rarely, and higher thresholds set by an embedder stay."""
from __future__ import annotations

import gc
from typing import Iterator

import pytest

from apiserver.server import GC_THRESHOLDS, tune_gc


@pytest.fixture
def thresholds() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


def test_raises_the_defaults(thresholds: None) -> None:
    gc.set_threshold(700, 10, 10)
    tune_gc()
    assert gc.get_threshold() == GC_THRESHOLDS


def test_keeps_higher_thresholds(thresholds: None) -> None:
    gc.set_threshold(100_000, 5, 1000)
    tune_gc()
    assert gc.get_threshold() == (100_000, GC_THRESHOLDS[1], 1000)
