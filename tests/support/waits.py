"""Waiting on conditions instead of sleeping: the tests' one way to let time pass.

`until(predicate, timeout, what=...)` polls a sync or async predicate until it returns a
truthy value (and returns that value) or fails the test with `what` after `timeout`.

`reconciles(controller, match)` records each finished reconcile of a key that `match`
accepts, so a test can wait until a controller has looked at something before asserting it
left it alone.

`served(client, verb, resource)` reads the apiserver's own request counter
(`apiserver_request_total` on /metrics) and `until_served` waits for it to pass a count:
how a test knows that a command running beside it (a `kubectl wait`, a `kubectl delete`
waiting for the object to go) has read the object, before the test changes it.
"""
from __future__ import annotations

import asyncio
import inspect
from typing import Any, Awaitable, Callable

from prometheus_client.parser import text_string_to_metric_families

from client.rest import Client

Predicate = Callable[[], Any | Awaitable[Any]]


async def until(predicate: Predicate, timeout: float = 10.0, *, interval: float = 0.02,
                what: str = "condition") -> Any:
    """The predicate's first truthy value; fails the test after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        got = predicate()
        if inspect.isawaitable(got):
            got = await got
        if got:
            return got
        if loop.time() >= end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


def reconciles(controller: Any, match: Callable[[Any], bool]) -> list[Any]:
    """A list that grows by the key each time `controller.reconcile(key)` finishes for a key
    `match` accepts (the instance's reconcile is wrapped)."""
    done: list[Any] = []
    inner = controller.reconcile

    async def counted(key: Any) -> None:
        await inner(key)
        if match(key):
            done.append(key)
    controller.reconcile = counted
    return done


async def served(client: Client, verb: str, resource: str, code: int = 200) -> int:
    """How many `verb` requests on `resource` the apiserver has answered with `code`."""
    text = (await client.request("GET", "/metrics")).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        if family.name != "apiserver_request":
            continue
        for s in family.samples:
            if s.name == "apiserver_request_total" and s.labels.get("verb") == verb \
                    and s.labels.get("resource") == resource and s.labels.get("code") == str(code):
                total += s.value
    return int(total)


async def until_served(client: Client, verb: str, resource: str, count: int,
                       timeout: float = 10.0) -> None:
    """Wait until the apiserver has answered at least `count` such requests in all."""
    async def enough() -> bool:
        return await served(client, verb, resource) >= count
    await until(enough, timeout, what=f"{count} {verb} {resource} requests served")
