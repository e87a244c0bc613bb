"""EtcdBackend: the storage contract on a real etcd v3 cluster, through aetcd's gRPC stubs.

Owns: mapping the contract onto etcd (our revision *is* etcd's mod_revision; create, update
and delete are transactions comparing create_revision / mod_revision; lists are ranges with
limit and revision; watches are etcd watches with prev_kv), translating etcd errors into
ours, and failing over between the endpoints of `etcd://h1:2379,h2:2379`.

Notes: reads fail over to the next endpoint on UNAVAILABLE; a write fails over and retries
only when the connection was refused (it never reached etcd), else it raises StorageError,
since it may or may not have been applied. etcd does not report its compacted revision, so
`compacted_revision` is learned at start and after compaction errors (ranges at revision r
succeed iff r >= etcd's compact revision: a short binary search). A DELETE event's value is
etcd's prev_kv; it is empty if that version was already compacted.
"""
from __future__ import annotations

import builtins
from typing import Any, AsyncIterator

import aetcd
import grpc
from aetcd import rpc
from aetcd.utils import prefix_range_end

from .interface import (
    CompactedError, ConflictError, Event, KeyExistsError, KeyValue, ListResult, NotFoundError,
    StorageError,
)

DEFAULT_PORT = 2379
_PROBE_KEY = b"\x00pykube-probe"
_CHANNEL_OPTIONS = {
    "grpc.max_receive_message_length": 256 * 1024 * 1024,
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 10_000,
}
Endpoint = tuple[str, int]


def parse_endpoints(hosts: str) -> list[Endpoint]:
    """'h1:2379,h2,[::1]:2380' -> [('h1', 2379), ('h2', 2379), ('::1', 2380)]."""
    out: list[Endpoint] = []
    for part in filter(None, (p.strip() for p in hosts.split(","))):
        if part.startswith("["):
            host, _, rest = part[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ""
        else:
            host, _, port = part.rpartition(":") if part.count(":") == 1 else (part, "", "")
        if not host or (port and not port.isdigit()):
            raise ValueError(f"bad etcd endpoint {part!r} (want host:port)")
        out.append((host, int(port) if port else DEFAULT_PORT))
    if not out:
        raise ValueError("etcd URL names no endpoint (want etcd://host:port[,host:port])")
    return out


def _range(prefix: str, start_after: str = "") -> tuple[bytes, bytes]:
    key = prefix.encode()
    end = prefix_range_end(key) if key else b"\x00"
    if start_after:
        key = max(key or b"\x00", start_after.encode() + b"\x00")
    return key or b"\x00", end


def _kv(kv: rpc.KeyValue) -> KeyValue:
    return KeyValue(kv.key.decode(), kv.value, kv.create_revision, kv.mod_revision)


def _event(ev: aetcd.Event) -> Event:
    raw_prev = ev.prev_kv
    prev = _kv(raw_prev) if raw_prev is not None and raw_prev.mod_revision else None
    key = ev.kv.key.decode()
    if ev.kind == "DELETE":
        kv = KeyValue(key, prev.value if prev else b"", prev.create_revision if prev else 0,
                      ev.kv.mod_revision)
        return Event("DELETE", kv, prev)
    kv = KeyValue(key, ev.kv.value, ev.kv.create_revision, ev.kv.mod_revision)
    return Event("PUT", kv, prev, created=ev.kv.version == 1)


def _compare(key: bytes, target: int, result: int, **value: int) -> rpc.Compare:
    return rpc.Compare(key=key, target=target, result=result, **value)


class EtcdBackend:
    def __init__(self, endpoints: list[Endpoint], *, timeout: float = 10.0) -> None:
        if not endpoints:
            raise ValueError("EtcdBackend needs at least one endpoint")
        self.endpoints = endpoints
        self.timeout = timeout
        self._index = 0
        self._client: aetcd.Client | None = None
        self._compacted = 0
        self._closing = False

    @property
    def endpoint(self) -> str:
        host, port = self.endpoints[self._index]
        return f"{host}:{port}"

    # -- connection ----------------------------------------------------------------------------
    async def start(self) -> None:
        self._closing = False
        errors = []
        for _ in self.endpoints:
            try:
                await self.current_revision()
                await self._learn_compacted()
                return
            except StorageError as e:
                errors.append(str(e))
        raise StorageError("no etcd endpoint answered: " + "; ".join(errors))

    async def close(self) -> None:
        self._closing = True
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def _connected(self) -> aetcd.Client:
        if self._client is None:
            host, port = self.endpoints[self._index]
            self._client = aetcd.Client(host, port, timeout=int(self.timeout) or None,
                                        options=dict(_CHANNEL_OPTIONS))
            await self._client.connect()
        return self._client

    async def _failover(self, failed: aetcd.Client) -> None:
        if self._client is not None and self._client is failed:
            self._client = None
            self._index = (self._index + 1) % len(self.endpoints)
            await failed.close()

    async def _call(self, method: str, request: Any, *, write: bool = False) -> Any:
        """One KV RPC; returns the protobuf response."""
        for attempt in range(len(self.endpoints)):
            client = await self._connected()
            endpoint = self.endpoint
            try:
                return await getattr(client.kvstub, method)(
                    request, timeout=self.timeout, metadata=client.metadata)
            except grpc.aio.AioRpcError as e:
                code, details = e.code(), e.details() or ""
                if code != grpc.StatusCode.UNAVAILABLE:
                    raise self._error(e, request) from None
                await self._failover(client)
                never_sent = "failed to connect" in details.lower()
                if attempt + 1 < len(self.endpoints) and (never_sent or not write):
                    continue
                raise StorageError(f"etcd {endpoint} unavailable: {details}") from None
        raise AssertionError("unreachable")

    def _error(self, e: grpc.aio.AioRpcError, request: Any) -> StorageError:
        details = e.details() or ""
        if "required revision has been compacted" in details:
            requested = getattr(request, "revision", 0)
            return CompactedError(requested, max(self._compacted, requested + 1))
        if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
            return StorageError(f"etcd {self.endpoint} timed out after {self.timeout}s")
        return StorageError(f"etcd {self.endpoint}: {details}")

    # -- reads ---------------------------------------------------------------------------------
    async def get(self, key: str) -> KeyValue | None:
        resp = await self._call("Range", rpc.RangeRequest(key=key.encode()))
        return _kv(resp.kvs[0]) if resp.kvs else None

    async def list(self, prefix: str, *, limit: int = 0, start_after: str = "",
                   revision: int = 0) -> ListResult:
        key, end = _range(prefix, start_after)
        req = rpc.RangeRequest(key=key, range_end=end, limit=max(limit, 0), revision=revision)
        try:
            resp = await self._call("Range", req)
        except CompactedError:
            raise CompactedError(revision, await self._learn_compacted()) from None
        items = [_kv(kv) for kv in resp.kvs]
        more = bool(resp.more)
        return ListResult(items=items, revision=revision or resp.header.revision,
                          more=more, remaining=resp.count - len(items) if more else 0)

    async def count(self, prefix: str) -> int:
        key, end = _range(prefix)
        resp = await self._call("Range", rpc.RangeRequest(key=key, range_end=end, count_only=True))
        return int(resp.count)

    async def current_revision(self) -> int:
        resp = await self._call("Range", rpc.RangeRequest(key=_PROBE_KEY, count_only=True))
        return int(resp.header.revision)

    # -- writes --------------------------------------------------------------------------------
    async def _txn(self, compare: builtins.list[rpc.Compare], success: rpc.RequestOp,
                   key: bytes) -> tuple[bool, Any]:
        req = rpc.TxnRequest(compare=compare, success=[success],
                             failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=key))])
        resp = await self._call("Txn", req, write=True)
        return bool(resp.succeeded), resp

    async def create(self, key: str, value: bytes) -> KeyValue:
        k = key.encode()
        ok, resp = await self._txn(
            [_compare(k, rpc.Compare.CREATE, rpc.Compare.EQUAL, create_revision=0)],
            rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=value)), k)
        if not ok:
            raise KeyExistsError(key)
        rev = int(resp.header.revision)
        return KeyValue(key, bytes(value), rev, rev)

    def _guard(self, k: bytes, expected: int) -> builtins.list[rpc.Compare]:
        exists = _compare(k, rpc.Compare.CREATE, rpc.Compare.GREATER, create_revision=0)
        if not expected:
            return [exists]
        return [exists, _compare(k, rpc.Compare.MOD, rpc.Compare.EQUAL, mod_revision=expected)]

    @staticmethod
    def _failed(key: str, expected: int, resp: Any) -> StorageError:
        kvs = resp.responses[0].response_range.kvs
        if not kvs:
            return NotFoundError(key)
        return ConflictError(key, expected, kvs[0].mod_revision)

    async def update(self, key: str, value: bytes, expected_revision: int) -> KeyValue:
        k = key.encode()
        ok, resp = await self._txn(
            self._guard(k, expected_revision),
            rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=value, prev_kv=True)), k)
        if not ok:
            raise self._failed(key, expected_revision, resp)
        prev = resp.responses[0].response_put.prev_kv
        return KeyValue(key, bytes(value), prev.create_revision, resp.header.revision)

    async def delete(self, key: str, expected_revision: int = 0) -> KeyValue:
        k = key.encode()
        ok, resp = await self._txn(
            self._guard(k, expected_revision),
            rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=k, prev_kv=True)), k)
        if not ok:
            raise self._failed(key, expected_revision, resp)
        prev = resp.responses[0].response_delete_range.prev_kvs[0]
        return KeyValue(key, prev.value, prev.create_revision, resp.header.revision)

    # -- watch ---------------------------------------------------------------------------------
    async def watch(self, prefix: str, start_revision: int) -> AsyncIterator[Event]:
        key, end = _range(prefix)
        client = await self._connected()
        try:
            handle = await client.watch(key, range_end=end, prev_kv=True,
                                        start_revision=start_revision or None)
        except aetcd.RevisionCompactedError as e:
            self._compacted = max(self._compacted, e.compacted_revision)
            raise CompactedError(start_revision, e.compacted_revision) from None
        except aetcd.ClientError as e:
            raise StorageError(f"etcd {self.endpoint}: watch failed: {e}") from e
        events = handle.__aiter__()
        try:
            async for ev in events:
                yield _event(ev)
        except aetcd.RevisionCompactedError as e:
            self._compacted = max(self._compacted, e.compacted_revision)
            raise CompactedError(start_revision, e.compacted_revision) from None
        except (aetcd.ClientError, grpc.aio.AioRpcError) as e:
            raise StorageError(f"etcd {self.endpoint}: watch ended: {e}") from e
        finally:
            await events.aclose()
            try:
                await handle.cancel()
            except Exception:  # noqa: BLE001 - the client may be closed already
                pass
        if not self._closing:
            raise StorageError(f"etcd {self.endpoint}: watch stream closed")

    # -- compaction ----------------------------------------------------------------------------
    async def compact(self, revision: int) -> None:
        if revision <= self._compacted:
            return
        try:
            await self._call("Compact", rpc.CompactionRequest(revision=revision), write=True)
        except CompactedError:
            await self._learn_compacted()
            return
        except StorageError as e:
            if "future revision" in str(e):
                raise StorageError(f"cannot compact at {revision}: newer than current") from None
            raise
        self._compacted = revision

    async def _readable_at(self, revision: int) -> bool:
        try:
            await self._call("Range", rpc.RangeRequest(key=_PROBE_KEY, count_only=True,
                                                       revision=revision))
            return True
        except CompactedError:
            return False

    async def _learn_compacted(self) -> int:
        """Find etcd's compact revision: the oldest revision a range can still read."""
        lo = self._compacted or 1
        if await self._readable_at(lo):
            self._compacted = lo if self._compacted else 0
            return self._compacted
        hi = await self.current_revision()     # lo unreadable, hi readable
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if await self._readable_at(mid):
                hi = mid
            else:
                lo = mid
        self._compacted = hi
        return hi

    @property
    def compacted_revision(self) -> int:
        return self._compacted
