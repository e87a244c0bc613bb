"""Subcommand registrations for the `pykube` launcher, one small function per component.

Each registrar adds its arguments and sets `func`, which imports the component lazily
(so `pykube apiserver` never imports the kubelet) and runs it until a signal.
"""
from __future__ import annotations

import argparse
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
        from pykube.main import run_until_signal
        cfg = APIServerConfig(data_dir=args.data_dir or default_data_dir(), bind_address=args.bind_address,
                              secure_port=args.secure_port, datastore_endpoint=args.datastore_endpoint,
                              tls_sans=args.tls_san, service_cidr=args.service_cluster_ip_range,
                              advertise_address=args.advertise_address)
        return run_until_signal(APIServer(cfg).serve_forever)
    p.set_defaults(func=run)


REGISTRARS: list[Callable[[Sub], None]] = [_apiserver]
