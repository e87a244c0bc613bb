"""Adapters that run each component in-process as a supervised `Component`.

Owns only the glue between the launcher and the components' own classes: build from
settings, call `ready()` once serving, run until cancelled, clean up in `finally`. Every
component is imported lazily, so `pykube agent` never imports the apiserver.

Leader election uses a stable identity (`<node>_<data dir hash>`), so a server restarted
after a crash takes its Leases back at once instead of waiting for them to expire.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import signal
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from pykube.supervisor import Component, Ready

log = logging.getLogger("pykube.components")


def stable_identity(data_dir: Path, node_name: str | None = None) -> str:
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:8]
    return f"{node_name or socket.gethostname().lower()}_{digest}"


@contextlib.contextmanager
def _keep_signal_handlers() -> Iterator[None]:
    """uvicorn (0.29+) takes SIGINT/SIGTERM for itself while it serves, stops the listener
    first and re-raises the signal afterwards; the supervisor must see them instead (it
    stops the apiserver last), so put the process's handlers back once it has started."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


async def _forever() -> None:
    await asyncio.Event().wait()


def apiserver(config: Any, on_started: Callable[[Any], Awaitable[None]] | None = None) -> Component:
    """The apiserver; `on_started(server)` runs after each (re)start, before ready()."""
    async def run(ready: Ready) -> None:
        from apiserver.server import APIServer
        srv = APIServer(config)
        try:
            with _keep_signal_handlers():
                await srv.start()
            if on_started is not None:
                await on_started(srv)
            ready()
            # APIServer has no public "wait until the listener ends"; its uvicorn task is it.
            task: asyncio.Task[None] | None = getattr(srv, "_task", None)
            if task is None:
                await _forever()
            else:
                # shielded: cancelling this component must run srv.stop() (the graceful
                # shutdown), not cancel the listener under it
                await asyncio.shield(task)
                raise RuntimeError("the HTTPS listener stopped")
        finally:
            await srv.stop()
    return Component("apiserver", run)


def controller_manager(kubeconfig: Path, options: Any) -> Component:
    async def run(ready: Ready) -> None:
        from controllers.manager import ControllerManager
        cm = ControllerManager.from_kubeconfig(kubeconfig, options)
        try:
            ready()
            await cm.run()
            raise RuntimeError("the controller-manager returned")
        finally:
            await cm.close()
    return Component("controller-manager", run)


def scheduler_options(identity: str, leader_elect: bool, extra_args: list[str]) -> Any:
    """kube-scheduler's options: `--kube-scheduler-arg KEY=VALUE` through its own parser
    (so `pykube server` takes every `pykube scheduler` flag), then ours."""
    import argparse

    from scheduler import cli as scheduler_cli
    p = argparse.ArgumentParser(prog="kube-scheduler-arg", add_help=False)
    scheduler_cli.add_arguments(p)
    argv = [f"--leader-elect={'true' if leader_elect else 'false'}"]
    argv += [a if a.startswith("-") else f"--{a}" for a in extra_args]
    opts = scheduler_cli.options_from_args(p.parse_args(argv))
    opts.identity = identity
    return opts


def scheduler(kubeconfig: Path, options: Any) -> Component:
    """kube-scheduler, as `pykube scheduler` runs it (scheduler.cli.run_scheduler)."""
    async def run(ready: Ready) -> None:
        from client import kubeconfig as kc
        from client.rest import Client
        from scheduler.cli import run_scheduler

        async with Client(kc.load(str(kubeconfig)), component="scheduler") as client:
            ready()
            await run_scheduler(client, options)
            raise RuntimeError("the scheduler returned")
    return Component("scheduler", run)


def kubelet(config: Any, kubeconfig: Path) -> Component:
    async def run(ready: Ready) -> None:
        from kubelet.kubelet import Kubelet
        k = Kubelet(config, kubeconfig_path=str(kubeconfig))
        try:
            await k.start()
            ready()
            await _forever()
        finally:
            await k.stop()
    return Component("kubelet", run, start_timeout=300.0)


def proxy_options(kubeconfig: Path, node_name: str, cluster_cidr: str, extra_args: list[str]) -> Any:
    """kube-proxy's options: ours, then `--kube-proxy-arg KEY=VALUE` through its own parser."""
    import argparse

    from kubelet.proxy import cli as proxy_cli
    p = argparse.ArgumentParser(prog="kube-proxy-arg", add_help=False)
    proxy_cli.add_arguments(p)
    argv = ["--kubeconfig", str(kubeconfig), "--hostname-override", node_name, "--cluster-cidr", cluster_cidr]
    argv += [a if a.startswith("-") else f"--{a}" for a in extra_args]
    return proxy_cli.options_from_args(p.parse_args(argv))


def proxy(kubeconfig: Path, node_name: str, cluster_cidr: str, extra_args: list[str]) -> Component | None:
    """kube-proxy (Service rules) and the host-gw pod routes, or None when this build has none."""
    try:
        from kubelet.proxy import cli as proxy_cli
    except ImportError:
        return None
    options = proxy_options(kubeconfig, node_name, cluster_cidr, extra_args)

    async def run(ready: Ready) -> None:
        ready()
        await proxy_cli.run_proxy(options)
        raise RuntimeError("kube-proxy returned")
    return Component("kube-proxy", run)


def netpol(kubeconfig: Path, node_name: str) -> Component:
    """Network policy enforcement for this node's pods (kubelet/netpol/)."""
    async def run(ready: Ready) -> None:
        from client import kubeconfig as kc
        from client.rest import Client
        from kubelet.netpol.controller import NetworkPolicyController
        ready()
        async with Client(kc.load(str(kubeconfig)), component="netpol") as client:
            await NetworkPolicyController(client, node_name).run()
        raise RuntimeError("network policy controller returned")
    return Component("netpol", run)


def local_path(kubeconfig: Path, node_name: str, root: Path) -> Component:
    """The local-path provisioner of this node: `local-path` volumes as directories under
    `root` (kubelet/localpath/)."""
    async def run(ready: Ready) -> None:
        from client import kubeconfig as kc
        from client.rest import Client
        from kubelet.localpath.provisioner import LocalPathProvisioner
        ready()
        async with Client(kc.load(str(kubeconfig)), component="local-path-provisioner") as client:
            await LocalPathProvisioner(client, node_name, root).run()
        raise RuntimeError("local-path provisioner returned")
    return Component("local-path-provisioner", run)


def ingress(kubeconfig: Path, node_name: str, conf_dir: Path) -> Component:
    """The ingress controller (ingress/): nginx in a kube-system pod on this node."""
    async def run(ready: Ready) -> None:
        from client import kubeconfig as kc
        from client.rest import Client
        from ingress.cli import run_ingress
        ready()
        async with Client(kc.load(str(kubeconfig)), component="ingress") as client:
            await run_ingress(client, node_name, conf_dir)
        raise RuntimeError("the ingress controller returned")
    return Component("ingress", run)


async def netpol_cleanup(state: Any) -> None:
    """Remove network policy's chains, jumps and ipsets, when this data dir ran it."""
    if not state.extra.get("netpol"):
        return
    from kubelet.netpol.controller import cleanup
    await cleanup()


async def proxy_cleanup(state: Any) -> None:
    """Remove kube-proxy's chains, jumps, pod routes and NAT exemption (as
    `pykube proxy --cleanup`), only when this data dir ran a kube-proxy."""
    if not state.extra.get("kube_proxy"):
        return
    try:
        from kubelet.proxy import cli as proxy_cli
    except ImportError:
        return
    await proxy_cli.cleanup(proxy_cli.ProxyOptions(cluster_cidr=state.cluster_cidr or None,
                                                   hostname_override=state.node_name or None))


def dns(kubeconfig: Path, cluster_ip: str, cluster_domain: str, port: int = 53,
        advertise_address: str | None = None) -> Component | None:
    """The cluster DNS server (Service kube-system/kube-dns at `cluster_ip`, answered on the
    node's address), or None when this build has none. When `port` is taken (a host
    resolver), a free port is used: pods reach DNS through the Service, whose Endpoints
    name the real port."""
    try:
        from kubelet.dns import cli as dns_cli
    except ImportError:
        return None

    async def run(ready: Ready) -> None:
        options = dns_cli.DNSOptions(kubeconfig=str(kubeconfig), port=port, cluster_ip=cluster_ip,
                                     cluster_domain=cluster_domain, advertise_address=advertise_address)
        # Listen on the advertised address only: a UDP server bound to 0.0.0.0 answers a pod
        # from the bridge's address, which the pod's conntrack entry (DNAT from the Service
        # IP to the node address) does not match, so the pod never sees the answer.
        options.bind = options.advertise_address = dns_cli.advertise_address(options)
        if port and not _port_free(options.bind, port):
            log.warning("dns: port %d is in use on this host; serving on a free port instead", port)
            options.port = 0
        started = asyncio.Event()
        task = asyncio.create_task(dns_cli.run_dns(options, started=started), name="dns")
        try:
            waiter = asyncio.create_task(started.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if task.done():
                task.result()
                raise RuntimeError("dns returned")
            ready()
            await task
            raise RuntimeError("dns returned")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    return Component("dns", run)


def _port_free(host: str, port: int) -> bool:
    """Nothing listens on `host`:`port`, UDP or TCP."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            if kind == socket.SOCK_STREAM:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True
