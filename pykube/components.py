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
                await task
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


def scheduler(kubeconfig: Path, identity: str, leader_elect: bool = True) -> Component:
    """kube-scheduler: one `Scheduler` per leadership term (as scheduler/cli.py, with a
    stable identity)."""
    async def run(ready: Ready) -> None:
        from client import kubeconfig as kc
        from client.leaderelection import LeaderElector
        from client.rest import Client
        from scheduler.scheduler import Scheduler

        async with Client(kc.load(str(kubeconfig)), component="scheduler") as client:
            async def one_term() -> None:
                await Scheduler(client).run()
            ready()
            if not leader_elect:
                await one_term()
                raise RuntimeError("the scheduler returned")
            while True:
                elector = LeaderElector(client, "kube-system", "kube-scheduler", identity,
                                        on_started_leading=one_term, release_on_cancel=True)
                await elector.run()
                log.warning("scheduler %s lost leadership; campaigning again", identity)
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


def proxy(kubeconfig: Path, kubelet_config: Any, cluster_cidr: str) -> Component | None:
    """kube-proxy for this node, or None when this build has none."""
    try:
        from kubelet.proxy import cli as proxy_cli  # noqa: F401
    except ImportError:
        return None
    return None


def dns(kubeconfig: Path, service_cidr: str, cluster_domain: str) -> Component | None:
    """The cluster DNS server, or None when this build has none."""
    try:
        from kubelet.dns import server as dns_server  # noqa: F401
    except ImportError:
        return None
    return None


async def proxy_cleanup(state: Any) -> None:
    """Remove what kube-proxy made (its iptables chains), when this build has one."""
    try:
        from kubelet.proxy import cli as proxy_cli  # noqa: F401
    except ImportError:
        return
