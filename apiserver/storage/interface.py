"""The storage backend protocol, in the shape of k3s' kine.

Owns: the value types (`KeyValue`, `Event`), the errors every driver raises, and the
`Backend` protocol the apiserver is written against. Drivers live beside this module
(`memory.py`, `sqlite.py`, `etcd.py`) and are chosen by URL in `__init__.open_backend`.

Invariants every driver keeps (the contract suite in tests/integration/storage checks them):
- One global revision, strictly increasing by one per successful write (create, update,
  delete). A key's `mod_revision` is the revision of its last write; `create_revision` the
  revision that created it. The object's resourceVersion is its mod_revision.
- `create` fails with KeyExistsError if the key exists; `update`/`delete` succeed only if the
  key's current mod_revision equals the expected one (compare-and-swap), else ConflictError
  (or NotFoundError if the key is gone). Expected revision 0 means unconditional (the key
  must still exist).
- `watch(prefix, start_revision)` yields every event with revision >= start_revision, in
  order, first replaying history from the store, then live ones. Events older than the
  compacted revision cannot be replayed: the watch raises CompactedError at once (on its
  first `__anext__`; a watch is started lazily, when first iterated). To miss nothing, watch
  from a list's revision + 1; start_revision 0 means "from the revision current when the
  watch starts". Close watches with `aclose()` (e.g. `contextlib.aclosing`). Closing the
  backend ends its watches quietly; losing the store's stream raises StorageError (the
  caller re-lists and re-watches).
- `compact(r)` (as etcd) forgets history older than r: afterwards watches and lists at
  revision >= r still work, older ones raise CompactedError. `compacted_revision` is the
  last r (0 = never compacted); compacting at or below it is a no-op.
- `list(..., revision=r)` reads the store as it was at r (r <= current revision, r not
  compacted away); `ListResult.revision` is the revision the page was read at, so a
  continued list passes it back to read a consistent snapshot. A future r raises
  StorageError.
- Values are opaque bytes (the apiserver stores JSON). Keys are `str`, ordered by code point
  (the same order as their UTF-8 bytes, which is etcd's order).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator, Literal, Protocol


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: bytes
    create_revision: int
    mod_revision: int


@dataclass(frozen=True, slots=True)
class Event:
    type: Literal["PUT", "DELETE"]
    kv: KeyValue            # for DELETE: the key with the value it had, mod_revision = delete revision
    prev_kv: KeyValue | None
    created: bool = False   # PUT that created the key


@dataclass(frozen=True, slots=True)
class ListResult:
    items: list[KeyValue]
    revision: int            # store revision the list was read at
    more: bool = False       # True when limit cut the list short; continue after items[-1].key
    remaining: int = 0       # how many keys after this page (best effort)


class StorageError(Exception):
    """Base of every storage error."""


class KeyExistsError(StorageError):
    pass


class NotFoundError(StorageError):
    pass


class ConflictError(StorageError):
    """The expected revision did not match (the write lost a compare-and-swap)."""

    def __init__(self, key: str, expected: int, actual: int) -> None:
        super().__init__(f"{key}: expected revision {expected}, found {actual}")
        self.key, self.expected, self.actual = key, expected, actual


class CompactedError(StorageError):
    """A watch asked for revisions older than the compacted revision."""

    def __init__(self, requested: int, compacted: int) -> None:
        super().__init__(
            f"required revision {requested} has been compacted (oldest available is {compacted})"
        )
        self.requested, self.compacted = requested, compacted


class Backend(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...

    async def get(self, key: str) -> KeyValue | None: ...

    async def list(self, prefix: str, *, limit: int = 0, start_after: str = "",
                   revision: int = 0) -> ListResult:
        """Keys under prefix in key order; limit 0 = all; start_after for continue tokens."""
        ...

    async def count(self, prefix: str) -> int: ...

    async def create(self, key: str, value: bytes) -> KeyValue: ...

    async def update(self, key: str, value: bytes, expected_revision: int) -> KeyValue:
        """Replace an existing key's value; expected_revision 0 means unconditional (the key
        must still exist)."""
        ...

    async def delete(self, key: str, expected_revision: int = 0) -> KeyValue:
        """Delete; expected_revision 0 means unconditional. Returns the deleted kv with
        mod_revision set to the delete's revision."""
        ...

    def watch(self, prefix: str, start_revision: int) -> AsyncIterator[Event]:
        """Events with revision >= start_revision (0 = from now on, i.e. current+1)."""
        ...

    async def current_revision(self) -> int: ...

    async def compact(self, revision: int) -> None: ...

    @property
    def compacted_revision(self) -> int: ...
