"""The apiserver process: configuration, start-up bootstrap and the HTTPS listener.

Owns `APIServerConfig` and `APIServer`: opens the store, fills the watch cache, serves the
stored CRDs (apiextensions/controller.py), rebuilds the allocators, makes sure the built-in objects exist (namespaces default, kube-system,
kube-public, kube-node-lease; the `kubernetes` Service at the first service IP and its
Endpoints), generates TLS material and admin.kubeconfig, wires the kubelet proxy (pod logs
and exec) and the metrics API (`metrics.k8s.io`, scraped from the kubelets: metrics_api.py),
and serves the app with uvicorn (httptools, no access log, signals left to the
caller). `tune_gc` makes the cyclic collector run rarely in a process that holds a cache
of every object.

`stop()` is the graceful shutdown (what SIGTERM leads to): /readyz fails, the listener
stops accepting, requests being answered finish (up to `SHUTDOWN_GRACE`), then every watch
ends cleanly with a last bookmark at the newest revision (clients re-watch from it on the
next apiserver, no relist), followed logs and exec sessions end, and the store closes.
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from api.resources import by_kind, by_plural
from apiserver import errors
from apiserver.admission import AdmissionChain
from apiserver.admission.default_ingress_class import DefaultIngressClass
from api.validation_scheduling import SYSTEM_PRIORITY_CLASSES
from apiserver.admission.priority import Priority
from apiserver.admission.default_storage_class import DefaultStorageClass
from apiserver.admission.default_tolerations import DefaultTolerationSeconds
from apiserver.admission.namespace_lifecycle import NamespaceLifecycle
from apiserver.admission.service_ips import ServiceIPs
from apiserver.apiextensions.controller import CRDController
from apiserver.apiextensions.versions import VersionedRegistry
from apiserver.app import create_app
from apiserver.admission.limit_ranger import LimitRanger
from apiserver.admission.pod_security import PodSecurity
from apiserver.admission.rbac_escalation import RBACEscalation
from apiserver.admission.resource_quota import ResourceQuotaAdmission
from apiserver.admission.service_account import ServiceAccountAdmission
from apiserver.auth import bootstrap_policy, client_certs
from apiserver.auth.authenticator import Authenticator
from apiserver.auth.authorizer import Authorizer
from apiserver.auth.serviceaccount import TokenSigner, load_or_create_key
from apiserver.auth.user import ADMIN, UserInfo
from apiserver.gateway import Gateway
from apiserver.handlers import Handlers
from apiserver.kubeletproxy import KubeletProxy
from apiserver.metrics_api import MetricsAPI
from apiserver.metrics_scraper import MetricsScraper
from apiserver.storage import open_backend
from apiserver.storage.interface import Backend
from apiserver.tls import ensure_tls, write_kubeconfig
from apiserver.watchcache import WatchCache
from httpstream.hijack import HijackableHttpToolsProtocol

log = logging.getLogger("apiserver")

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
SHUTDOWN_GRACE = 10.0   # seconds requests in flight get to finish on stop()


def default_data_dir() -> Path:
    if env := os.environ.get("PYKUBE_DATA_DIR"):
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib/pykube")
    return Path.home() / ".local" / "share" / "pykube"


@dataclass
class APIServerConfig:
    data_dir: Path = field(default_factory=default_data_dir)
    bind_address: str = "127.0.0.1"
    secure_port: int = 6443            # 0 picks a free port
    datastore_endpoint: str | None = None   # default: sqlite in the data dir
    tls_sans: list[str] = field(default_factory=list)
    service_cidr: str = "10.96.0.0/12"
    node_port_range: tuple[int, int] = (30000, 32767)
    advertise_address: str | None = None
    default_toleration_seconds: int = 300
    extra_tokens: dict[str, UserInfo | str] = field(default_factory=dict)   # token -> user
    anonymous_auth: bool = False   # --anonymous-auth: off, unauthenticated requests get 401
    compaction_interval: float = 300.0   # as kube-apiserver: compact what is 5 minutes old
    metric_resolution: float = 15.0      # kubelet scrapes for metrics.k8s.io (metrics-server's); 0: off


class _HttpProtocol(HijackableHttpToolsProtocol, client_certs.ClientCertHttpToolsProtocol):
    """Client certificates in the scope; connections exec, attach, port-forward and proxy may
    take over (httpstream.hijack)."""


class APIServer:
    def __init__(self, config: APIServerConfig) -> None:
        self.config = config
        self.backend: Backend | None = None
        self.cache: WatchCache | None = None
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = False
        self._endpoints: Any = None                      # the lease endpoint reconciler (etcd stores)
        self._endpoints_task: asyncio.Task[None] | None = None
        self.handlers: Handlers | None = None
        self.authn: Authenticator | None = None
        self.kubelet_proxy: KubeletProxy | None = None
        self.crds: CRDController | None = None
        self.metrics_scraper: MetricsScraper | None = None
        self.gateway: Gateway | None = None

    @property
    def url(self) -> str:
        host = self.config.bind_address
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        return f"https://{host}:{self.port}"

    @property
    def kubeconfig_path(self) -> Path:
        return self.config.data_dir / "admin.kubeconfig"

    @property
    def ca_path(self) -> Path:
        return self.config.data_dir / "server" / "tls" / "server-ca.crt"

    async def start(self) -> None:
        cfg = self.config
        tune_gc()
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        endpoint = cfg.datastore_endpoint or f"sqlite:///{(cfg.data_dir / 'server' / 'db' / 'state.db').resolve()}"
        if endpoint.startswith("sqlite:"):
            (cfg.data_dir / "server" / "db").mkdir(parents=True, exist_ok=True)
        self.backend = open_backend(endpoint)
        await self.backend.start()
        self.cache = WatchCache(self.backend)
        await self.cache.start()
        by = self.cache.cache
        service_ips = ServiceIPs(cfg.service_cidr, cfg.node_port_range)
        service_ips.rebuild(co.obj for co in by(by_kind("v1", "Service")).objects.values())
        self.authorizer = Authorizer(self.cache)
        # in kube-apiserver's order; mutating plugins run before validation, the rest after
        admission = AdmissionChain([NamespaceLifecycle(by(by_kind("v1", "Namespace")), self.backend),
                                    LimitRanger(by(by_kind("v1", "LimitRange"))),
                                    ServiceAccountAdmission(by(by_kind("v1", "ServiceAccount")), self.backend),
                                    DefaultTolerationSeconds(cfg.default_toleration_seconds),
                                    DefaultStorageClass(by(by_kind("storage.k8s.io/v1", "StorageClass"))),
                                    DefaultIngressClass(by(by_kind("networking.k8s.io/v1", "IngressClass"))),
                                    Priority(by(by_kind("scheduling.k8s.io/v1", "PriorityClass"))),
                                    PodSecurity(by(by_kind("v1", "Namespace"))),
                                    RBACEscalation(self.authorizer), service_ips,
                                    ResourceQuotaAdmission(self.cache, self.backend)])
        self.registry = VersionedRegistry(self.backend, admission)
        self.crds = CRDController(self.registry, self.cache)
        await self.crds.start()       # serve the stored CRDs before answering anyone
        self.handlers = Handlers(self.registry, self.cache)
        tls = ensure_tls(cfg.data_dir, cfg.tls_sans + ([cfg.advertise_address] if cfg.advertise_address else [])
                         + ([cfg.bind_address] if cfg.bind_address not in ("0.0.0.0", "::") else []))
        self.token = tls.admin_token
        self.authn = Authenticator({tls.admin_token: ADMIN, **cfg.extra_tokens}, cfg.anonymous_auth)
        self.token_signer = TokenSigner(load_or_create_key(cfg.data_dir / "server" / "tls" / "service-account.key"),
                                        self._lookup)
        self.authn.token_authenticators.append(self.token_signer.authenticate)
        self.handlers.token_signer = self.token_signer
        app = create_app(self.handlers, self.authn, lambda: self._ready, tls.ca_cert.read_bytes(),
                         self.authorizer)
        self.kubelet_proxy = KubeletProxy(self.registry.get, tls.admin_token,
                                          authorize=self.authorizer.authorize)
        self.gateway = app
        self.handlers.kubelet_proxy = self.kubelet_proxy
        app.metrics_api = self._metrics_api(tls.admin_token)

        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only for
        # sockets it can tell are TCP; without it every response waits ~40 ms for an ACK
        sock = socket.socket(socket.AF_INET6 if ":" in cfg.bind_address else socket.AF_INET,
                             socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((cfg.bind_address, cfg.secure_port))
        sock.listen(1024)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        # client certificates are asked for (and their identity put in the scope) by
        # auth/client_certs.py; httptools, several times h11's speed, parses HTTP
        ucfg = uvicorn.Config(app, ssl_certfile=str(tls.serving_cert), ssl_keyfile=str(tls.serving_key),
                              ssl_context_factory=client_certs.context_factory(tls.ca_cert),
                              log_level="warning", lifespan="off", access_log=False,
                              http=_HttpProtocol,
                              proxy_headers=False, server_header=False,
                              timeout_graceful_shutdown=SHUTDOWN_GRACE, timeout_keep_alive=30,
                              ws="websockets-sansio")
        self._server = uvicorn.Server(ucfg)
        # signals belong to whoever runs the apiserver (the launcher, a supervisor, a test),
        # not to uvicorn, which would otherwise take SIGINT/SIGTERM while it serves
        self._server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="uvicorn")
        await self._bootstrap(service_ips)
        write_kubeconfig(self.kubeconfig_path, self._kubeconfig_server(), tls.ca_cert.read_bytes(),
                         tls.admin_token)
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        self._compactor = asyncio.create_task(self._compact_periodically(), name="compactor")
        if endpoint.startswith("etcd"):     # several apiservers may share it: each keeps a Lease
            from apiserver.endpoint_reconciler import LeaseEndpointReconciler
            addr = self.config.advertise_address or _primary_address(self.config.bind_address)
            self._endpoints = LeaseEndpointReconciler(self.registry, self.cache, addr, self.port)
            self._endpoints_task = asyncio.create_task(self._endpoints.run(), name="endpoint-reconciler")
        self._ready = True
        log.info("apiserver listening on %s (store %s)", self.url, endpoint.split("?")[0])

    def _lookup(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        """An object from the watch cache (what token authentication checks a token against)."""
        assert self.cache is not None
        res = by_plural("", plural)
        if res is None:
            return None
        co = self.cache.cache(res).objects.get(res.storage_key(namespace, name))
        return co.obj if co is not None else None

    def _metrics_api(self, token: str) -> MetricsAPI:
        """metrics.k8s.io, scraped from the kubelets every --metric-resolution (metrics_api.py)."""
        assert self.cache is not None
        nodes, pods = self.cache.cache(by_kind("v1", "Node")), self.cache.cache(by_kind("v1", "Pod"))

        def objects(rc: Any) -> Any:
            return lambda ns: (co.obj for co in rc.select(ns, None))
        if self.config.metric_resolution > 0:
            self.metrics_scraper = MetricsScraper(lambda: objects(nodes)(None), token,
                                                  self.config.metric_resolution)   # started on demand
        return MetricsAPI(self.metrics_scraper, objects(nodes), objects(pods))

    def _kubeconfig_server(self) -> str:
        host = self.config.bind_address
        if host in ("0.0.0.0", "::"):
            host = self.config.advertise_address or "127.0.0.1"
        return f"https://{host}:{self.port}"

    async def _bootstrap_rbac(self) -> None:
        """Create the default ClusterRoles and bindings; put back the rules of those still
        marked `rbac.authorization.kubernetes.io/autoupdate: "true"`."""
        for res, objs in ((by_kind("rbac.authorization.k8s.io/v1", "ClusterRole"), bootstrap_policy.cluster_roles()),
                          (by_kind("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
                           bootstrap_policy.cluster_role_bindings())):
            for obj in objs:
                name = obj["metadata"]["name"]
                try:
                    cur = await self.registry.get(res, None, name)
                except errors.APIError:
                    await self._ensure(res, None, obj)
                    continue
                if (cur["metadata"].get("annotations") or {}).get(
                        "rbac.authorization.kubernetes.io/autoupdate") != "true":
                    continue
                fields = ("rules", "aggregationRule", "roleRef", "subjects")
                if any(cur.get(f) != obj.get(f) for f in fields if f in obj):
                    for f in fields:
                        if f in obj:
                            cur[f] = obj[f]
                    await self.registry.update(res, None, name, cur)

    async def _bootstrap(self, service_ips: ServiceIPs) -> None:
        await self._bootstrap_rbac()
        ns_res = by_kind("v1", "Namespace")
        for ns in SYSTEM_NAMESPACES:
            await self._ensure(ns_res, None, {"apiVersion": "v1", "kind": "Namespace",
                                              "metadata": {"name": ns}})
        for name, value in SYSTEM_PRIORITY_CLASSES.items():
            await self._ensure(by_kind("scheduling.k8s.io/v1", "PriorityClass"), None, {
                "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
                "value": value, "description": "Used for system critical pods that must run in the cluster, "
                                               "but can be moved to another node if necessary."
                if name == "system-cluster-critical" else
                "Used for system critical pods that must not be moved from their current node."})
        svc = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "kubernetes", "namespace": "default",
                            "labels": {"component": "apiserver", "provider": "kubernetes"}},
               "spec": {"type": "ClusterIP", "clusterIP": service_ips.ips.kubernetes_ip,
                        "ports": [{"name": "https", "port": 443, "protocol": "TCP",
                                   "targetPort": self.port}]}}
        await self._ensure(by_kind("v1", "Service"), "default", svc)
        addr = self.config.advertise_address or _primary_address(self.config.bind_address)
        ep = {"apiVersion": "v1", "kind": "Endpoints",
              "metadata": {"name": "kubernetes", "namespace": "default",
                           "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
              "subsets": [{"addresses": [{"ip": addr}],
                           "ports": [{"name": "https", "port": self.port, "protocol": "TCP"}]}]}
        ep_res = by_kind("v1", "Endpoints")
        try:
            cur = await self.registry.get(ep_res, "default", "kubernetes")
            if cur.get("subsets") != ep["subsets"]:
                cur["subsets"] = ep["subsets"]
                await self.registry.update(ep_res, "default", "kubernetes", cur)
        except errors.APIError:
            await self._ensure(ep_res, "default", ep)
        await self._bootstrap_endpoint_slice(addr)

    async def _bootstrap_endpoint_slice(self, addr: str) -> None:
        """The `kubernetes` Service's EndpointSlice, as kube-apiserver's endpoint reconciler
        keeps it beside the Endpoints (what `kubectl describe svc kubernetes` reads)."""
        res = by_kind("discovery.k8s.io/v1", "EndpointSlice")
        want = {"addressType": "IPv4",
                "endpoints": [{"addresses": [addr], "conditions": {"ready": True}}],
                "ports": [{"name": "https", "port": self.port, "protocol": "TCP"}]}
        try:
            cur = await self.registry.get(res, "default", "kubernetes")
        except errors.APIError:
            await self._ensure(res, "default", {
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": "kubernetes", "namespace": "default",
                             "labels": {"kubernetes.io/service-name": "kubernetes"}}, **want})
            return
        if any(cur.get(k) != v for k, v in want.items()):
            cur.update(want)
            await self.registry.update(res, "default", "kubernetes", cur)

    async def _ensure(self, resource: Any, namespace: str | None, obj: dict[str, Any]) -> None:
        if await self.backend.get(resource.storage_key(namespace, obj["metadata"]["name"])):  # type: ignore[union-attr]
            return
        try:
            await self.registry.create(resource, namespace, obj)
        except errors.APIError as e:
            if e.reason != "AlreadyExists":
                raise

    async def _compact_periodically(self) -> None:
        """Each interval, compact the store up to the revision seen one interval ago."""
        assert self.backend is not None
        previous = 0
        while True:
            await asyncio.sleep(self.config.compaction_interval)
            try:
                if previous > self.backend.compacted_revision:
                    await self.backend.compact(previous)
                previous = await self.backend.current_revision()
            except Exception as e:  # noqa: BLE001 - a compaction is retried next time
                log.warning("compaction failed: %s", e)

    async def stop(self, grace: float = SHUTDOWN_GRACE) -> None:
        """Graceful shutdown: stop accepting, let requests in flight finish (up to `grace`
        seconds), end the watches cleanly, then close the store."""
        self._ready = False
        if getattr(self, "_compactor", None):
            self._compactor.cancel()
        if self._endpoints_task is not None:
            self._endpoints_task.cancel()
            try:   # leave the `kubernetes` endpoints to the other servers
                await asyncio.wait_for(self._endpoints.reconcile(remove_self=True), 3)
            except Exception as e:  # noqa: BLE001 - the Lease expires anyway
                log.info("kubernetes endpoints on stop: %s", e)
        if self._server and self._task and not self._task.done():
            self._server.should_exit = True
            await self._drain(grace)
        if self.crds:
            await self.crds.stop()
        if self.cache:
            await self.cache.stop()
        if self.kubelet_proxy is not None:
            await self.kubelet_proxy.close()
            self.kubelet_proxy = None
        if self.metrics_scraper is not None:
            await self.metrics_scraper.stop()
            self.metrics_scraper = None
        if self.backend:
            await self.backend.close()

    async def _drain(self, grace: float) -> None:
        assert self._server is not None and self._task is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        # uvicorn sees should_exit within a tick: it closes the listener and asks every
        # connection to close once its current response is complete
        while any(s.is_serving() for s in self._server.servers) and not self._task.done() \
                and loop.time() < deadline:
            await asyncio.sleep(0.01)
        if self.gateway is not None and not await self.gateway.in_flight.wait_idle(deadline - loop.time()):
            log.warning("%d request(s) still in flight after %.0fs", self.gateway.in_flight.count, grace)
        if self.cache is not None:
            try:
                async with asyncio.timeout(1.0):
                    await self.cache.sync()          # the last bookmarks carry the newest revision
            except Exception:  # noqa: BLE001 - a dead store: end the watches where they are
                pass
            n = self.cache.end_watches()
            if n:
                log.info("ended %d watch(es) for shutdown", n)
        if self.kubelet_proxy is not None:       # followed logs, exec sessions
            await self.kubelet_proxy.close()
            self.kubelet_proxy = None
        try:
            async with asyncio.timeout(max(0.1, deadline - loop.time())):
                await asyncio.shield(self._task)
        except (TimeoutError, asyncio.CancelledError):
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        except Exception as e:  # noqa: BLE001 - the listener failed; stopping anyway
            log.warning("the HTTPS listener ended with %s", e)

    async def serve_forever(self) -> None:
        await self.start()
        try:
            assert self._task is not None
            # shielded: a cancel (SIGTERM) must reach stop(), not the listener under it
            await asyncio.shield(self._task)
        finally:
            await self.stop()


GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Make the cyclic garbage collector run far less often in this process.

    The watch cache keeps every object as parsed dicts, all tracked by the collector: with
    the default thresholds (700, 10, 10) a collection runs every few requests, and a full
    one walks the whole cache (100 ms at 10,000 pods, in the middle of some request).
    Reference counting frees almost everything the apiserver makes; the collector is only
    for the rare cycles, so running it every 50,000 allocations loses nothing. Thresholds
    already set higher (by whoever embeds the apiserver) are kept."""
    current = gc.get_threshold()
    gc.set_threshold(*(max(c, w) for c, w in zip(current, GC_THRESHOLDS)))


def _primary_address(bind: str) -> str:
    if bind not in ("0.0.0.0", "::", ""):
        return bind
    try:
        addr = socket.gethostbyname(socket.gethostname())
        return addr if not addr.startswith("127.") else "127.0.0.1"
    except OSError:
        return "127.0.0.1"
