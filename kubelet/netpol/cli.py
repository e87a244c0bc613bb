"""`pykube netpol`: the network policy component of a node (run by `pykube agent` and
`pykube server` next to kube-proxy), and `--cleanup` to remove its chains and sets."""
from __future__ import annotations

import argparse
import asyncio
import socket
from typing import Any

from client import kubeconfig
from client.rest import Client


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kubeconfig", default=None)
    p.add_argument("--hostname-override", default=None, help="this node's name (default: the host name)")
    p.add_argument("--resync", type=float, default=30.0, help="seconds between full re-syncs")
    p.add_argument("--cleanup", action="store_true", help="remove every chain and set, then exit")


async def run_netpol(args: argparse.Namespace) -> None:
    from kubelet.netpol.controller import NetworkPolicyController, cleanup
    node = args.hostname_override or socket.gethostname()
    if args.cleanup:
        await cleanup()
        return
    async with Client(kubeconfig.load(args.kubeconfig), component="netpol") as c:
        await NetworkPolicyController(c, node, resync_seconds=args.resync).run()


def register(sub: Any) -> None:
    p = sub.add_parser("netpol", help="enforce NetworkPolicies on this node (iptables + ipset)")
    add_arguments(p)

    def run(args: argparse.Namespace) -> int:
        if args.cleanup:
            asyncio.run(run_netpol(args))
            return 0
        from component_base.signals import run_until_signal
        return run_until_signal(lambda: run_netpol(args))
    p.set_defaults(func=run)
