"""`pykube dns`: the cluster DNS server on its own (run by `pykube server` too).

Owns the flags (`register(subparsers)` adds the `dns` subcommand to the launcher),
`DNSOptions`, and `run_dns(options)`: informers on Services and EndpointSlices, the UDP+TCP
server on `--bind`:`--port`, and (unless `--no-register`) the kube-dns Service and
Endpoints pointing at `--advertise-address` (default: the bind address, or the host's
primary address when binding to all), re-checked every 30 s. Also runs as
`python -m kubelet.dns.cli`.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("dns")


@dataclass
class DNSOptions:
    kubeconfig: str | None = None
    bind: str = "0.0.0.0"
    port: int = 53
    advertise_address: str | None = None
    cluster_ip: str = "10.96.0.10"
    cluster_domain: str = "cluster.local"
    upstreams: list[str] = field(default_factory=list)  # default: the host's resolv.conf
    register: bool = True
    register_period: float = 30.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kubeconfig", default=None, help="kubeconfig to reach the apiserver")
    p.add_argument("--bind", default="0.0.0.0", help="address to listen on (UDP and TCP)")
    p.add_argument("--port", type=int, default=53, help="port to listen on (0 picks a free one)")
    p.add_argument("--advertise-address", default=None,
                   help="address written into the kube-dns Endpoints (default: --bind, or the host's address)")
    p.add_argument("--cluster-dns-ip", default="10.96.0.10", help="ClusterIP of the kube-dns Service")
    p.add_argument("--cluster-domain", default="cluster.local")
    p.add_argument("--upstream", action="append", default=[],
                   help="resolver for names outside the cluster, host[:port] (default: /etc/resolv.conf)")
    p.add_argument("--no-register", action="store_true", help="do not write the kube-dns Service/Endpoints")


def options_from_args(args: argparse.Namespace) -> DNSOptions:
    return DNSOptions(kubeconfig=args.kubeconfig, bind=args.bind, port=args.port,
                      advertise_address=args.advertise_address, cluster_ip=args.cluster_dns_ip,
                      cluster_domain=args.cluster_domain, upstreams=args.upstream,
                      register=not args.no_register)


def advertise_address(options: DNSOptions) -> str:
    if options.advertise_address:
        return options.advertise_address
    if options.bind not in ("0.0.0.0", "::", ""):
        return options.bind
    from kubelet.node_status import default_node_ip
    return default_node_ip()


async def run_dns(options: DNSOptions, client: Any = None, started: asyncio.Event | None = None) -> None:
    """Serve cluster DNS until cancelled."""
    from api.models import EndpointSlice, Service
    from client import kubeconfig
    from client.informer import Informer
    from client.rest import Client
    from kubelet.dns.registration import ensure_registered
    from kubelet.dns.server import DNSServer, InformerView, host_upstreams, parse_upstream

    own = client is None
    if client is None:
        client = Client(kubeconfig.load(options.kubeconfig), component="pykube-dns")
    services, endpoints = Informer(client, Service), Informer(client, EndpointSlice)
    address = advertise_address(options)
    upstreams = [parse_upstream(u) for u in options.upstreams] or \
        host_upstreams(exclude=(options.cluster_ip, address))
    server = DNSServer(InformerView(services, endpoints), options.cluster_domain, upstreams)
    try:
        await services.start()
        await endpoints.start()
        await services.wait_synced()
        await endpoints.wait_synced()
        port = await server.start(options.bind, options.port)
        if started is not None:
            started.set()
        while True:
            if options.register:
                try:
                    await ensure_registered(client, address, port, options.cluster_ip)
                except Exception as e:  # noqa: BLE001 - retried next round
                    log.warning("registering kube-dns failed: %s", e)
            await asyncio.sleep(options.register_period)
    finally:
        await server.stop()
        await services.stop()
        await endpoints.stop()
        if own:
            await client.close()


def run(args: argparse.Namespace) -> int:
    from component_base.signals import run_until_signal
    options = options_from_args(args)
    return run_until_signal(lambda: run_dns(options))


def register(sub: Any) -> None:
    p = sub.add_parser("dns", help="run the cluster DNS server (Service kube-dns)")
    add_arguments(p)
    p.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    from component_base.logs import setup_logging
    p = argparse.ArgumentParser(prog="pykube-dns", description="pykube's cluster DNS")
    p.add_argument("-v", "--verbose", action="count", default=0)
    add_arguments(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
