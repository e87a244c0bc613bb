"""Subcommand registrations for the `pykube` launcher, one per command.

`REGISTRARS` lists them in help order: `server`, `agent`, `killall`, `lab`, `team`,
`dashboard` (pykube/), then each
component on its own (`apiserver` here; the others' `register(subparsers)` live in their
own folder's cli.py). Each registrar adds its arguments and sets `func`, which imports
the component lazily and runs it until a signal. A component a build does not have yet
is left out of the command list instead of breaking the launcher.
"""
from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any, Callable

Sub = Any  # argparse._SubParsersAction


def _apiserver(sub: Sub) -> None:
    p = sub.add_parser("apiserver", help="run the API server")
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--bind-address", default="127.0.0.1")
    p.add_argument("--secure-port", type=int, default=6443)
    p.add_argument("--datastore-endpoint", default=None,
                   help="memory://, sqlite:///path/state.db (default: in the data dir), etcd://h:p[,h:p]")
    p.add_argument("--tls-san", action="append", default=[])
    p.add_argument("--service-cluster-ip-range", default="10.96.0.0/12")
    p.add_argument("--advertise-address", default=None)

    def run(args: argparse.Namespace) -> int:
        from apiserver.server import APIServer, APIServerConfig, default_data_dir
        from component_base.signals import run_until_signal
        cfg = APIServerConfig(data_dir=args.data_dir or default_data_dir(), bind_address=args.bind_address,
                              secure_port=args.secure_port, datastore_endpoint=args.datastore_endpoint,
                              tls_sans=args.tls_san, service_cidr=args.service_cluster_ip_range,
                              advertise_address=args.advertise_address)
        return run_until_signal(APIServer(cfg).serve_forever)
    p.set_defaults(func=run)


def _from(module: str) -> Callable[[Sub], None]:
    """The `register` of `module`, imported when the parser is built."""
    def register(sub: Sub) -> None:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name and module.startswith(e.name):  # the component is not in this build
                return
            raise
        mod.register(sub)
    register.__name__ = f"register_{module}"
    return register


REGISTRARS: list[Callable[[Sub], None]] = [
    _from("pykube.server"),
    _from("pykube.agent"),
    _from("pykube.killall"),
    _from("pykube.lab.cli"),
    _from("pykube.team.cli"),
    _from("pykube.dashboard"),
    _apiserver,
    _from("controllers.cli"),
    _from("scheduler.cli"),
    _from("kubelet.cli"),
    _from("kubelet.proxy.cli"),
    _from("kubelet.netpol.cli"),
    _from("kubelet.dns.cli"),
    _from("ingress.cli"),
]
