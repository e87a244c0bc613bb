"""`pykube proxy`: kube-proxy (iptables mode) and the node's pod routes on their own.

Owns the flags (`register(subparsers)` adds the `proxy` subcommand to the pykube
launcher; `add_arguments` can be shared with `pykube agent`), their translation into
`ProxyOptions`, and `run_proxy(options)`, the coroutine `pykube agent` can run beside
the kubelet: the `Proxier` plus, unless `--disable-pod-routes`, the host-gw
`RouteManager`. `--cleanup` removes every chain, jump, route and rule they made and
exits (as `kube-proxy --cleanup`). Also runs as `python -m kubelet.proxy.cli`.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
from dataclasses import dataclass, field
from typing import Any

from component_base.flags import parse_duration

log = logging.getLogger("kube-proxy")


@dataclass
class ProxyOptions:
    kubeconfig: str | None = None
    hostname_override: str | None = None
    cluster_cidr: str | None = "10.244.0.0/16"
    healthz_bind_address: str | None = "0.0.0.0:10256"
    metrics_bind_address: str | None = "127.0.0.1:10249"
    min_sync_period: float = 1.0
    sync_period: float = 30.0
    masquerade_all: bool = False
    localhost_nodeports: bool = True
    pod_routes: bool = True
    exec_prefix: list[str] = field(default_factory=list)  # run iptables/ip behind this (nsenter ...)

    @property
    def node_name(self) -> str:
        return (self.hostname_override or socket.gethostname()).lower()


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kubeconfig", default=None, help="kubeconfig to reach the apiserver")
    p.add_argument("--hostname-override", default=None, help="this node's name (default: the host name)")
    p.add_argument("--cluster-cidr", default="10.244.0.0/16",
                   help="pod CIDR of the cluster; traffic from outside it to a ClusterIP is masqueraded "
                        "('' to disable)")
    p.add_argument("--healthz-bind-address", default="0.0.0.0:10256", help="host:port of /healthz ('' off)")
    p.add_argument("--metrics-bind-address", default="127.0.0.1:10249", help="host:port of /metrics ('' off)")
    p.add_argument("--min-sync-period", type=parse_duration, default=1.0,
                   help="minimum interval between rule syncs under churn (e.g. 1s)")
    p.add_argument("--sync-period", type=parse_duration, default=30.0,
                   help="a sync at least this often (e.g. 30s); full resyncs run hourly, as kube-proxy")
    p.add_argument("--masquerade-all", action="store_true", help="SNAT all traffic sent via Service cluster IPs")
    p.add_argument("--iptables-localhost-nodeports", choices=("true", "false"), default="true",
                   help="NodePorts answer on 127.0.0.1 too (sets net.ipv4.conf.all.route_localnet=1)")
    p.add_argument("--disable-pod-routes", action="store_true",
                   help="do not manage host-gw routes to other nodes' pod CIDRs")
    p.add_argument("--cleanup", action="store_true", help="remove every rule and route made, then exit")


def options_from_args(args: argparse.Namespace) -> ProxyOptions:
    return ProxyOptions(
        kubeconfig=args.kubeconfig, hostname_override=args.hostname_override,
        cluster_cidr=args.cluster_cidr or None, healthz_bind_address=args.healthz_bind_address or None,
        metrics_bind_address=args.metrics_bind_address or None, min_sync_period=args.min_sync_period,
        sync_period=args.sync_period, masquerade_all=args.masquerade_all,
        localhost_nodeports=args.iptables_localhost_nodeports == "true", pod_routes=not args.disable_pod_routes)


async def cleanup(options: ProxyOptions) -> None:
    from kubelet.proxy.iptables import IPTables, Runner
    from kubelet.proxy.routes import RouteManager
    runner = Runner(list(options.exec_prefix))
    removed = await IPTables(runner).cleanup()
    await RouteManager(None, options.node_name, options.cluster_cidr, runner).cleanup()
    log.info("cleanup: %s", "rules removed" if removed else "nothing to remove")


async def run_proxy(options: ProxyOptions, client: Any = None) -> None:
    """Run kube-proxy (and the pod routes) until cancelled."""
    from client import kubeconfig
    from client.rest import Client
    from kubelet.proxy.iptables import IPTables, Runner
    from kubelet.proxy.proxier import Proxier, ProxierConfig
    from kubelet.proxy.routes import RouteManager
    own = client is None
    if client is None:
        client = Client(kubeconfig.load(options.kubeconfig), component="kube-proxy")
    runner = Runner(list(options.exec_prefix))
    proxier = Proxier(client, ProxierConfig(
        node_name=options.node_name, cluster_cidr=options.cluster_cidr,
        masquerade_all=options.masquerade_all, localhost_nodeports=options.localhost_nodeports,
        min_sync_period=options.min_sync_period,
        sync_period=options.sync_period, healthz_bind_address=options.healthz_bind_address,
        metrics_bind_address=options.metrics_bind_address), IPTables(runner))
    tasks = [asyncio.create_task(proxier.run(), name="kube-proxy")]
    if options.pod_routes:
        routes = RouteManager(client, options.node_name, options.cluster_cidr, runner)
        tasks.append(asyncio.create_task(routes.run(), name="pod-routes"))
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if own:
            await client.close()


def run(args: argparse.Namespace) -> int:
    from component_base.signals import run_until_signal
    options = options_from_args(args)
    if args.cleanup:
        asyncio.run(cleanup(options))
        return 0
    return run_until_signal(lambda: run_proxy(options))


def register(sub: Any) -> None:
    p = sub.add_parser("proxy", help="run kube-proxy (Service rules, iptables mode) and pod routes")
    add_arguments(p)
    p.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    from component_base.logs import setup_logging
    p = argparse.ArgumentParser(prog="kube-proxy", description="pykube's kube-proxy")
    p.add_argument("-v", "--verbose", action="count", default=0)
    add_arguments(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
