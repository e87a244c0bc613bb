"""Admission: a chain of plugins that decide about an object after defaulting and validation.

As kube-apiserver's admission chain, each plugin is one module with a `NAME` and looks at
the writes it cares about: NamespaceLifecycle (no creates in a missing or terminating
namespace), DefaultTolerationSeconds, ServiceIPs (ClusterIPs and NodePorts); later quota,
limit ranges and the rest join the same chain.

What a plugin takes for a write (an address, a port, a share of a quota) is recorded on the
write's `Reservation`: the registry opens one per write with `reservation()`, and when the
write fails, for any reason, on any path, the reservation is aborted and everything taken is
given back; when the write lands, it is committed (and what the old version held and the
new one no longer does is released). Nothing is released by hand.

    with reservation() as res:
        await chain.admit_create(resource, obj, res, mutating=True)
        ...                              # strategy, validation
        await chain.admit_create(resource, obj, res)
        await store.create(...)          # raises: res is aborted, the port is free again
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, Sequence

from api.resources import ResourceInfo

Obj = dict[str, Any]


class Reservation:
    """What admission took for one write: undone if the write fails, finished if it lands."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []
        self._finish: list[Callable[[], None]] = []

    def on_abort(self, fn: Callable[[], None]) -> None:
        self._undo.append(fn)

    def on_commit(self, fn: Callable[[], None]) -> None:
        self._finish.append(fn)

    def abort(self) -> None:
        undo, self._undo, self._finish = self._undo, [], []
        for fn in reversed(undo):
            fn()

    def commit(self) -> None:
        finish, self._undo, self._finish = self._finish, [], []
        for fn in finish:
            fn()


@contextlib.contextmanager
def reservation() -> Iterator[Reservation]:
    """A reservation committed when the block ends normally, aborted when it raises."""
    res = Reservation()
    try:
        yield res
    except BaseException:
        res.abort()
        raise
    res.commit()


class AdmissionPlugin:
    """One admission step. Mutating plugins (MUTATING) change the object and run before the
    kind's strategy and validation; validating ones see the final object after them. Any
    may raise APIError."""
    NAME = ""
    MUTATING = False

    def handles(self, resource: ResourceInfo) -> bool:
        return True

    async def admit_create(self, resource: ResourceInfo, obj: Obj, res: Reservation) -> None:
        return None

    async def admit_update(self, resource: ResourceInfo, new: Obj, old: Obj, res: Reservation) -> None:
        return None

    def deleted(self, resource: ResourceInfo, obj: Obj) -> None:
        """`obj` is gone from the store: give back what it held."""
        return None


class AdmissionChain:
    def __init__(self, plugins: Sequence[AdmissionPlugin]) -> None:
        self.plugins = list(plugins)

    def plugin(self, name: str) -> AdmissionPlugin:
        for p in self.plugins:
            if p.NAME == name:
                return p
        raise KeyError(name)

    async def admit_create(self, resource: ResourceInfo, obj: Obj, res: Reservation,
                           mutating: bool = False) -> None:
        for p in self.plugins:
            if p.MUTATING == mutating and p.handles(resource):
                await p.admit_create(resource, obj, res)

    async def admit_update(self, resource: ResourceInfo, new: Obj, old: Obj, res: Reservation,
                           mutating: bool = False) -> None:
        for p in self.plugins:
            if p.MUTATING == mutating and p.handles(resource):
                await p.admit_update(resource, new, old, res)

    def deleted(self, resource: ResourceInfo, obj: Obj) -> None:
        for p in self.plugins:
            if p.handles(resource):
                p.deleted(resource, obj)
