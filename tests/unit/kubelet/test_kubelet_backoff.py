"""Crash-loop backoff: immediate first restart, then 10 s doubling to 5 min, reset after 10 min."""
from __future__ import annotations

from kubelet.backoff import Backoff, backoff_key


def test_first_restart_is_immediate_then_doubles_to_the_cap() -> None:
    b = Backoff()
    key = backoff_key("uid", "c")
    t = 1000.0
    assert not b.in_backoff(key, t, t)
    delays = []
    for _ in range(8):
        assert not b.in_backoff(key, t, t + b.delay(key))  # allowed once the delay has passed
        t += b.delay(key)
        delays.append(b.next(key, t))
        assert b.in_backoff(key, t, t + 1)
    assert delays == [10, 20, 40, 80, 160, 300, 300, 300]


def test_remaining_counts_down_from_the_exit() -> None:
    b = Backoff(base=10)
    b.next("k", 100.0)
    assert b.in_backoff("k", 100.0, 104.0)
    assert b.remaining("k", 100.0, 104.0) == 6.0
    assert not b.in_backoff("k", 100.0, 110.0) and b.remaining("k", 100.0, 111.0) == 0.0


def test_reset_after_ten_minutes() -> None:
    b = Backoff()
    for t in (0.0, 10.0, 30.0, 70.0):
        b.next("k", t)
    assert b.delay("k") == 80
    # the container then ran for more than 10 minutes before exiting again
    assert not b.in_backoff("k", 700.0, 700.5)
    assert b.next("k", 700.0) == 10


def test_short_base_for_tests_and_forget() -> None:
    b = Backoff(base=0.5, cap=4)
    assert [b.next("p1/c", float(t)) for t in range(5)] == [0.5, 1, 2, 4, 4]
    b.next("p2/c", 0.0)
    b.forget("p1/")
    assert b.delay("p1/c") == 0 and b.delay("p2/c") == 0.5
