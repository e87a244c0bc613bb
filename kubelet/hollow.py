"""Hollow nodes: many fake-runtime kubelets in one process, for scale tests (kubemark).

Owns `HollowNodes`: N `Kubelet`s named `<prefix><i>`, each with the fake runtime (pods
go Running and Ready after `start_delay`, IPs from the node's pod CIDR), its own small
data dir, its API on a free port and its own REST client. Pod CIDRs are handed out from `cidr_base` (a /24 per
node, smaller when more nodes than /24s) unless `cidr_base` is None, in which case the
node IPAM controller must set them.
Runs as `python -m kubelet.hollow --kubeconfig F --count 100`.
"""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import math
import sys
import tempfile
from pathlib import Path

from client import kubeconfig
from client.kubeconfig import ClientConfig
from client.rest import Client
from kubelet.config import KubeletConfig
from kubelet.kubelet import Kubelet

log = logging.getLogger("kubelet.hollow")


def pod_cidrs(base: str, count: int) -> list[str]:
    """`count` pod CIDRs out of `base`: /24s when they fit, else the largest that do."""
    net = ipaddress.ip_network(base)
    prefix = max(24, net.prefixlen + max(0, math.ceil(math.log2(max(count, 1)))))
    if prefix > 30:
        raise ValueError(f"{base} cannot be split into {count} pod CIDRs")
    subnets = net.subnets(new_prefix=prefix)
    return [str(next(subnets)) for _ in range(count)]


class HollowNodes:
    """`count` hollow kubelets; each gets its own REST client for `client_config` (a
    shared one would scan hundreds of pooled connections on every request)."""

    def __init__(self, client_config: ClientConfig, count: int, data_dir: Path, prefix: str = "hollow-node-",
                 start_delay: float = 0.0, cidr_base: str | None = "10.244.0.0/16",
                 serve_api: bool = True, **config: object) -> None:
        cidrs = pod_cidrs(cidr_base, count) if cidr_base else [None] * count
        # at most 16 requests (so connections) at once each: a hollow node's bursts are small,
        # and hundreds of kubelets' idle connections each cost the apiserver memory
        self.clients = [Client(client_config, component="hollow-kubelet", max_in_flight=16)
                        for _ in range(count)]
        self.kubelets = [
            Kubelet(KubeletConfig(node_name=f"{prefix}{i}", data_dir=data_dir / f"{prefix}{i}", runtime="fake",
                                  port=0, pod_cidr=cidrs[i], fake_start_delay=start_delay,
                                  serve_api=serve_api, capacity_cpu="4", capacity_memory="16Gi",
                                  **config),  # type: ignore[arg-type]
                    client=self.clients[i])
            for i in range(count)
        ]

    async def start(self, batch: int = 50) -> None:
        for i in range(0, len(self.kubelets), batch):
            await asyncio.gather(*(k.start() for k in self.kubelets[i:i + batch]))

    async def stop(self) -> None:
        await asyncio.gather(*(k.stop() for k in self.kubelets), return_exceptions=True)
        await asyncio.gather(*(c.close() for c in self.clients), return_exceptions=True)

    async def __aenter__(self) -> HollowNodes:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def _main(args: argparse.Namespace) -> None:
    config = kubeconfig.load(args.kubeconfig)
    with tempfile.TemporaryDirectory(prefix="pykube-hollow-") as tmp:
        nodes = HollowNodes(config, args.count, Path(args.data_dir or tmp), args.prefix, args.start_delay,
                            None if args.no_pod_cidr else args.cidr_base)
        try:
            await nodes.start()
            log.info("%d hollow nodes running", args.count)
            await asyncio.Event().wait()
        finally:
            await nodes.stop()


def main(argv: list[str] | None = None) -> int:
    from component_base.logs import setup_logging
    from component_base.signals import run_until_signal
    p = argparse.ArgumentParser(prog="hollow", description="run N hollow kubelets in one process")
    p.add_argument("--kubeconfig", default=None)
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--prefix", default="hollow-node-")
    p.add_argument("--start-delay", type=float, default=0.0)
    p.add_argument("--cidr-base", default="10.244.0.0/16")
    p.add_argument("--no-pod-cidr", action="store_true", help="let the node IPAM controller assign CIDRs")
    p.add_argument("--data-dir", default=None)
    p.add_argument("-v", "--verbose", action="count", default=0)
    args = p.parse_args(argv)
    setup_logging(args.verbose - 1)
    return run_until_signal(lambda: _main(args))


if __name__ == "__main__":
    sys.exit(main())
