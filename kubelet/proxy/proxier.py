"""The iptables proxier: Services and Endpoints in, kube-proxy's rules out.

Owns the loop kube-proxy runs on every node: informers on Services and Endpoints feed an
internal state (`state.py`); syncs turn it into rules (`rules.RuleBuilder`) and apply
them with one `iptables-restore --noflush` (`iptables.IPTables`).

Invariants:
- Handlers only convert and record; an event that changes nothing the rules depend on
  (a status heartbeat, an unchanged Endpoints) does not cause a sync.
- Syncs are coalesced by a token bucket (kube-proxy's BoundedFrequencyRunner: a burst of
  2, then one per `min_sync_period`), so the first change after a quiet spell is applied
  at once and churn costs at most one sync per period.
- A partial sync writes only the chains that differ from what the last sync applied
  (nothing at all when nothing changed); one runs at least every `sync_period`. A full
  sync (the first one, after any failure, and every `full_sync_period`, an hour as in
  kube-proxy) rewrites every chain, reads the kernel with iptables-save to delete stale
  per-service chains and re-inserts missing jumps. Chains not kube-proxy's own are never
  touched.
- UDP flows a change made stale are dropped from conntrack. The one sysctl written is
  `net.ipv4.conf.all.route_localnet=1` (checked on full syncs), which NodePorts on 127.0.0.1
  need (`localhost_nodeports`, kube-proxy's `--iptables-localhost-nodeports`); conntrack
  sysctls are never written (read-only inside a network namespace).
- `/healthz` answers 200 once a sync has applied every change older than `2 *
  sync_period`; `/metrics` has kube-proxy's sync duration histograms.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from api.models import Endpoints, Service
from client.informer import Informer
from client.rest import Client
from client.store import object_key
from kubelet.proxy import existing, rules
from kubelet.proxy.health import HTTPEndpoint, Response
from kubelet.proxy.iptables import IPTables
from kubelet.proxy.state import (EndpointsByPort, endpoints_for, ready_endpoints, service_ports,
                                 stale_udp_flows)

log = logging.getLogger("kube-proxy")
_BUCKETS = tuple(0.001 * 2 ** i for i in range(15))
ROUTE_LOCALNET = "net.ipv4.conf.all.route_localnet"


@dataclass
class ProxierConfig:
    node_name: str = ""
    cluster_cidr: str | None = "10.244.0.0/16"
    masquerade_all: bool = False
    localhost_nodeports: bool = True   # NodePorts on 127.0.0.1 too (route_localnet)
    min_sync_period: float = 1.0
    sync_period: float = 30.0          # a sync at least this often (partial: cheap)
    full_sync_period: float = 3600.0   # a full sync at least this often (kube-proxy's FullSyncPeriod)
    burst_syncs: int = 2
    healthz_bind_address: str | None = "0.0.0.0:10256"
    metrics_bind_address: str | None = "127.0.0.1:10249"


class Limiter:
    """Token bucket: `burst` tokens, one more every `period` seconds."""

    def __init__(self, period: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.period, self.burst, self.clock = period, max(1, burst), clock
        self.tokens, self.stamp = float(self.burst), clock()

    def delay(self) -> float:
        """Seconds to wait before the next sync may run (0: now); takes the token."""
        now = self.clock()
        if self.period > 0:
            self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) / self.period)
        else:
            self.tokens = float(self.burst)
        self.stamp = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens * self.period


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.sync = Histogram("kubeproxy_sync_proxy_rules_duration_seconds",
                              "SyncProxyRules latency in seconds", buckets=_BUCKETS, registry=r)
        self.full = Histogram("kubeproxy_sync_full_proxy_rules_duration_seconds",
                              "Full SyncProxyRules latency in seconds", buckets=_BUCKETS, registry=r)
        self.partial = Histogram("kubeproxy_sync_partial_proxy_rules_duration_seconds",
                                 "Partial SyncProxyRules latency in seconds", buckets=_BUCKETS, registry=r)
        self.programming = Histogram("kubeproxy_network_programming_duration_seconds",
                                     "From a change seen to its rules in place, in seconds",
                                     buckets=_BUCKETS, registry=r)
        self.last = Gauge("kubeproxy_sync_proxy_rules_last_timestamp_seconds",
                          "The last time proxy rules were successfully synced", registry=r)
        self.failures = Counter("kubeproxy_sync_proxy_rules_iptables_restore_failures",
                                "Cumulative proxy iptables restore failures", registry=r)
        self.rules = Gauge("kubeproxy_sync_proxy_rules_iptables_total",
                           "Number of proxy iptables rules programmed", ["table"], registry=r)
        self.changes = Counter("kubeproxy_sync_proxy_rules_changes", "Service and endpoints changes seen",
                               ["kind"], registry=r)


class Proxier:
    def __init__(self, client: Client | None, config: ProxierConfig | None = None,
                 iptables: IPTables | None = None) -> None:
        self.client = client
        self.config = config or ProxierConfig()
        self.iptables = iptables or IPTables()
        cfg = self.config
        self.rules_config = rules.RulesConfig(cluster_cidr=cfg.cluster_cidr, masquerade_all=cfg.masquerade_all,
                                              localhost_nodeports=cfg.localhost_nodeports)
        self.builder = rules.RuleBuilder(self.rules_config)
        self.metrics = Metrics()
        self.applied: rules.Ruleset | None = None   # what the kernel holds after our last sync
        self.last_restore = ""                       # the last text applied (bench, debugging)
        self.last_sync_full = False
        self.last_sync_seconds = 0.0
        self.syncs = 0
        self.last_synced_at = 0.0                    # wall clock of the last good sync
        self.healthz: HTTPEndpoint | None = None
        self.metrics_server: HTTPEndpoint | None = None
        self._ports: dict[str, list[rules.ServicePortInfo]] = {}
        self._eps: dict[str, EndpointsByPort] = {}
        self._udp: dict[tuple[str, str], tuple[rules.ServicePortInfo, tuple[rules.Endpoint, ...]]] = {}
        self._dirty = asyncio.Event()
        self._pending_since: float | None = None
        self._synced = asyncio.Condition()
        self._last_full = 0.0
        self._last_sync = 0.0
        self._informers: list[Informer] = []

    # ---------------------------------------------------------------- changes in
    def _changed(self, kind: str) -> None:
        self.metrics.changes.labels(kind).inc()
        if self._pending_since is None:
            self._pending_since = time.monotonic()
        self._dirty.set()

    def on_service(self, svc: Service) -> None:
        key, ports = object_key(svc), service_ports(svc)
        if self._ports.get(key, []) != ports:
            if ports:
                self._ports[key] = ports
            else:
                self._ports.pop(key, None)
            self._changed("service")

    def on_service_delete(self, svc: Service) -> None:
        if self._ports.pop(object_key(svc), None) is not None:
            self._changed("service")

    def on_endpoints(self, ep: Endpoints) -> None:
        key, by_port = object_key(ep), ready_endpoints(ep)
        if self._eps.get(key, {}) != by_port:
            self._eps[key] = by_port
            self._changed("endpoints")

    def on_endpoints_delete(self, ep: Endpoints) -> None:
        if self._eps.pop(object_key(ep), None) is not None:
            self._changed("endpoints")

    # ---------------------------------------------------------------- one sync
    def desired(self) -> tuple[rules.Ruleset, dict[tuple[str, str], Any]]:
        """The rules for the current state, and the UDP service ports (for conntrack)."""
        services: dict[tuple[str, str], rules.ServicePortInfo] = {}
        endpoints: dict[tuple[str, str], tuple[rules.Endpoint, ...]] = {}
        for key, ports in self._ports.items():
            by_port = self._eps.get(key)
            for sp in ports:
                services[sp.key] = sp
                endpoints[sp.key] = endpoints_for(sp, by_port)
        udp = {k: (sp, rules.sort_endpoints(endpoints[k])) for k, sp in services.items() if sp.proto == "udp"}
        return self.builder.build(services, endpoints), udp

    async def sync(self, full: bool | None = None) -> None:
        """Apply the current state now (full when `full`, or when nothing is known)."""
        t0 = time.monotonic()
        pending, self._pending_since = self._pending_since, None
        self._dirty.clear()
        full = bool(full) or self.applied is None
        try:
            desired, udp = self.desired()
            if full:
                if self.config.localhost_nodeports:
                    await self._route_localnet()
                saved = await self.iptables.save()
                text = rules.render_restore(desired, None, existing.stale_chains(saved, desired),
                                            existing.missing_jumps(saved))
            else:
                text = rules.render_restore(desired, self.applied)
            await self.iptables.restore(text)
        except BaseException as e:
            self.applied = None
            if self._pending_since is None:
                self._pending_since = pending
            if not isinstance(e, asyncio.CancelledError):
                self.metrics.failures.inc()
            raise
        self.applied, self.last_restore, self.last_sync_full = desired, text, full
        flows = stale_udp_flows(self._udp, udp)
        self._udp = udp
        if flows:
            await self.iptables.delete_conntrack(flows)
        done = time.monotonic()
        self.syncs += 1
        self.last_sync_seconds = done - t0
        self.last_synced_at = time.time()
        self._last_sync = done
        if full:
            self._last_full = done
        m = self.metrics
        m.sync.observe(done - t0)
        (m.full if full else m.partial).observe(done - t0)
        m.last.set(self.last_synced_at)
        for table, n in rules.count_rules(desired).items():
            m.rules.labels(table).set(n)
        if pending is not None:
            m.programming.observe(done - pending)
        (log.info if full else log.debug)("%s sync: %d restore lines in %.3fs", "full" if full else "partial",
                                          text.count("\n"), done - t0)
        async with self._synced:
            self._synced.notify_all()

    async def _route_localnet(self) -> None:
        """Let DNAT-ed packets from 127.0.0.1 leave the loopback (localhost NodePorts)."""
        try:
            if await self.iptables.ensure_sysctl(ROUTE_LOCALNET, "1"):
                log.info("set %s=1 (NodePorts on 127.0.0.1)", ROUTE_LOCALNET)
        except (OSError, RuntimeError) as e:   # NodePorts still answer on the node's other addresses
            log.warning("could not set %s: %s; NodePorts will not answer on 127.0.0.1", ROUTE_LOCALNET, e)

    async def wait_until(self, predicate: Callable[[rules.Ruleset], bool], timeout: float = 10.0) -> bool:
        """Wait until a sync has applied rules satisfying `predicate` (tests, bench)."""
        async def waiter() -> None:
            async with self._synced:
                await self._synced.wait_for(lambda: self.applied is not None and predicate(self.applied))
        try:
            await asyncio.wait_for(waiter(), timeout)
            return True
        except TimeoutError:
            return False

    # ---------------------------------------------------------------- health
    def healthy(self) -> bool:
        if self.syncs == 0:
            return False
        pending = self._pending_since
        return pending is None or time.monotonic() - pending < 2 * self.config.sync_period

    def _healthz(self) -> Response:
        now = datetime.now(timezone.utc)
        last = datetime.fromtimestamp(self.last_synced_at, timezone.utc) if self.last_synced_at else None
        body = {"lastUpdated": last.isoformat() if last else "", "currentTime": now.isoformat(),
                "nodeName": self.config.node_name, "nodeEligible": True}
        return (200 if self.healthy() else 503), "application/json", json.dumps(body).encode()

    def _metrics(self) -> Response:
        return 200, CONTENT_TYPE_LATEST, generate_latest(self.metrics.registry)

    # ---------------------------------------------------------------- running
    async def start_servers(self) -> None:
        cfg = self.config
        if cfg.healthz_bind_address:
            self.healthz = HTTPEndpoint(cfg.healthz_bind_address, 10256,
                                        {"/healthz": self._healthz, "/livez": self._healthz})
            await self.healthz.start()
        if cfg.metrics_bind_address:
            self.metrics_server = HTTPEndpoint(cfg.metrics_bind_address, 10249, {"/metrics": self._metrics})
            await self.metrics_server.start()

    async def run(self) -> None:
        """Watch, sync, serve health until cancelled."""
        assert self.client is not None, "run() needs an API client"
        services = Informer(self.client, Service)
        endpoints = Informer(self.client, Endpoints)
        services.add_handlers(self.on_service, lambda _o, n: self.on_service(n), self.on_service_delete)
        endpoints.add_handlers(self.on_endpoints, lambda _o, n: self.on_endpoints(n), self.on_endpoints_delete)
        self._informers = [services, endpoints]
        try:
            await self.start_servers()
            for inf in self._informers:
                await inf.start()
            for inf in self._informers:
                await inf.wait_synced()
            log.info("caches synced (%d services), syncing rules", len(self._ports))
            await self.sync_loop()
        finally:
            for inf in self._informers:
                await inf.stop()
            for srv in (self.healthz, self.metrics_server):
                if srv is not None:
                    await srv.stop()

    async def sync_loop(self) -> None:
        cfg = self.config
        limiter = Limiter(cfg.min_sync_period, cfg.burst_syncs)
        retry = 0.5
        self._dirty.set()
        while True:
            due = self._last_sync + cfg.sync_period - time.monotonic()
            if due > 0 and not self._dirty.is_set():
                try:
                    await asyncio.wait_for(self._dirty.wait(), due)
                except TimeoutError:
                    pass
            delay = limiter.delay()
            if delay > 0:
                await asyncio.sleep(delay)
            full = self.applied is None or time.monotonic() >= self._last_full + cfg.full_sync_period
            try:
                await self.sync(full)
                retry = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - the next (full) sync retries
                log.error("sync failed (%s); retrying in %.1fs", e, retry)
                await asyncio.sleep(retry)
                retry = min(retry * 2, 30.0)
                self._dirty.set()

    def stats(self) -> dict[str, Any]:
        return {"services": len(self._ports), "syncs": self.syncs, "healthy": self.healthy()}
