"""Leader election on a coordination.k8s.io/v1 Lease (client-go's leaderelection).

Owns `LeaderElector`: candidates race to hold one Lease; the holder renews it every
`retry_period`; the others take it over once it has not changed for `lease_duration`.

Invariants:
- Every write is compare-and-swap on the Lease's resourceVersion: a 409 means another
  candidate won the race, never that two hold it.
- A candidate judges expiry by its own clock: the time it last saw the Lease record change
  plus the record's leaseDurationSeconds (clock skew between hosts does not matter).
- The leader steps down (cancels its leading task, calls `on_stopped_leading`, returns from
  `run()`) when it could not renew for `renew_deadline`, which is shorter than
  `lease_duration`, so it stops before anyone else may start.
- leaseTransitions goes up by one each time the holder changes; acquireTime is set then.
- Cancelled `run()` releases the Lease (holder cleared) when `release_on_cancel` is set,
  so a successor need not wait for expiry.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import math
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from api.models import Lease, ObjectMeta
from api.models.coordination import LeaseSpec
from client.errors import AlreadyExists, ClientError, Conflict, NotFound
from client.rest import Client

log = logging.getLogger(__name__)

JITTER = 1.2


def micro_time(t: datetime | None = None) -> str:
    """RFC 3339 with microseconds (metav1.MicroTime), UTC."""
    t = t or datetime.now(UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    def __init__(self, client: Client, namespace: str, name: str, identity: str, *,
                 lease_duration: float = 15, renew_deadline: float = 10,
                 retry_period: float = 2,
                 on_started_leading: Callable[[], Any] | None = None,
                 on_stopped_leading: Callable[[], Any] | None = None,
                 on_new_leader: Callable[[str], Any] | None = None,
                 release_on_cancel: bool = False) -> None:
        if not lease_duration > renew_deadline > retry_period > 0:
            raise ValueError("need lease_duration > renew_deadline > retry_period > 0")
        self.client = client
        self.namespace, self.name, self.identity = namespace, name, identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.on_started_leading = on_started_leading
        self.on_stopped_leading = on_stopped_leading
        self.on_new_leader = on_new_leader
        self.release_on_cancel = release_on_cancel
        self.leader: str | None = None           # the holder last observed
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self._leading = False
        self._lease: Lease | None = None

    @property
    def is_leader(self) -> bool:
        return self._leading

    async def run(self) -> None:
        """Campaign until leading, lead until renewal fails past the renew deadline."""
        task: asyncio.Task[Any] | None = None
        try:
            acquired_at = await self._acquire()
            self._leading = True
            log.info("%s: became leader of %s/%s", self.identity, self.namespace, self.name)
            task = self._start_leading()
            await self._renew_loop(acquired_at)
        finally:
            was_leading, self._leading = self._leading, False
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            if was_leading:
                await self._stop_leading()

    # ---------------------------------------------------------------- phases
    async def _acquire(self) -> float:
        """Retry until we hold the lease; returns when the winning attempt started."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            if await self._try_acquire_or_renew():
                return started
            await asyncio.sleep(self.retry_period * random.uniform(1.0, JITTER))

    async def _renew_loop(self, last_ok: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.retry_period)
            started = loop.time()
            left = self.renew_deadline - (started - last_ok)
            ok = False
            if left > 0:
                try:
                    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel
                    async with asyncio.timeout(left):
                        ok = await self._try_acquire_or_renew()
                except TimeoutError:
                    ok = False
            if ok:
                last_ok = started          # the write happened after this instant
            elif self.leader is not None and self.leader != self.identity:
                log.warning("%s: %s took over %s/%s, stepping down", self.identity,
                            self.leader, self.namespace, self.name)
                return
            elif loop.time() - last_ok >= self.renew_deadline:
                log.warning("%s: failed to renew %s/%s for %.1fs, stepping down",
                            self.identity, self.namespace, self.name, self.renew_deadline)
                return

    def _start_leading(self) -> asyncio.Task[Any] | None:
        cb = self.on_started_leading
        if cb is None:
            return None
        if inspect.iscoroutinefunction(cb):
            return asyncio.create_task(cb(), name=f"leader-{self.name}")
        result = cb()
        return asyncio.ensure_future(result) if inspect.isawaitable(result) else None

    async def _stop_leading(self) -> None:
        if self.release_on_cancel:
            await self._release()
        if self.on_stopped_leading is not None:
            try:
                result = self.on_stopped_leading()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("on_stopped_leading failed")

    # ---------------------------------------------------------------- one attempt
    async def _try_acquire_or_renew(self) -> bool:
        loop = asyncio.get_running_loop()
        now = datetime.now(UTC)
        try:
            lease = await self.client.get(Lease, self.name, namespace=self.namespace)
        except NotFound:
            return await self._create(now)
        except ClientError as e:
            log.warning("%s: get lease %s/%s: %s", self.identity, self.namespace, self.name, e)
            return False
        spec = lease.spec or LeaseSpec()
        self._observe(spec, loop.time())
        holder = spec.holder_identity or ""
        duration = spec.lease_duration_seconds or self.lease_duration
        if holder and holder != self.identity and \
                self._observed_at + duration > loop.time():
            return False                     # held by someone else and not expired
        new = lease.model_copy(deep=True)
        new.spec = LeaseSpec(
            holder_identity=self.identity,
            lease_duration_seconds=max(1, math.ceil(self.lease_duration)),
            acquire_time=spec.acquire_time if holder == self.identity else micro_time(now),
            renew_time=micro_time(now),
            lease_transitions=(spec.lease_transitions or 0) + (holder != self.identity))
        try:
            self._lease = await self.client.update(new)
        except (Conflict, NotFound):
            return False                     # lost the race
        except ClientError as e:
            log.warning("%s: update lease: %s", self.identity, e)
            return False
        self._observe(self._lease.spec or LeaseSpec(), loop.time())
        return True

    async def _create(self, now: datetime) -> bool:
        lease = Lease(metadata=ObjectMeta(name=self.name, namespace=self.namespace),
                      spec=LeaseSpec(holder_identity=self.identity,
                                     lease_duration_seconds=max(1, math.ceil(self.lease_duration)),
                                     acquire_time=micro_time(now), renew_time=micro_time(now),
                                     lease_transitions=0))
        try:
            self._lease = await self.client.create(lease)
        except (AlreadyExists, Conflict):
            return False
        except ClientError as e:
            log.warning("%s: create lease: %s", self.identity, e)
            return False
        self._observe(self._lease.spec or LeaseSpec(), asyncio.get_running_loop().time())
        return True

    def _observe(self, spec: LeaseSpec, at: float) -> None:
        record = (spec.holder_identity, spec.renew_time, spec.acquire_time,
                  spec.lease_transitions, spec.lease_duration_seconds)
        if record != self._observed:
            self._observed, self._observed_at = record, at
        holder = spec.holder_identity or None
        if holder != self.leader:
            self.leader = holder
            if holder and self.on_new_leader is not None:
                try:
                    self.on_new_leader(holder)
                except Exception:
                    log.exception("on_new_leader failed")

    async def _release(self) -> None:
        """Clear the holder so a successor need not wait for the lease to expire.

        A renewal cancelled in flight may have reached the apiserver after all, leaving the
        copy we hold stale: a conflict re-reads the Lease and releases it if still ours."""
        lease = self._lease
        if lease is None or lease.spec is None or lease.spec.holder_identity != self.identity:
            return
        try:
            async with asyncio.timeout(self.retry_period):
                for _ in range(3):
                    assert lease.spec is not None
                    new = lease.model_copy(deep=True)
                    now = micro_time()
                    new.spec = LeaseSpec(holder_identity="", lease_duration_seconds=1, renew_time=now,
                                         acquire_time=now, lease_transitions=lease.spec.lease_transitions)
                    try:
                        self._lease = await self.client.update(new)
                        return
                    except Conflict:
                        lease = await self.client.get(Lease, self.name, namespace=self.namespace)
                        if lease.spec is None or lease.spec.holder_identity != self.identity:
                            return           # someone else holds it now: nothing to release
                log.warning("%s: release lease: kept conflicting", self.identity)
        except (ClientError, TimeoutError) as e:
            log.warning("%s: release lease: %s", self.identity, e)
