"""`pykube dashboard`: the web dashboard (dashboard/) on HTTPS, on its own or in `pykube
server` (unless `--disable dashboard`).

Owns its flags and its certificate: without `--tls-cert-file`/`--tls-private-key-file`, a
serving certificate is issued from the cluster CA of the data dir
(`server/tls/serving-dashboard.crt`), so a browser that trusts the cluster's CA trusts the
dashboard. `--kubeconfig` names the cluster to read (its server and CA); its credentials
are not used: each user logs in with their own (dashboard/session.py).
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from pykube.supervisor import Component, Ready

log = logging.getLogger("pykube.dashboard")

DEFAULT_PORT = 8443


def dashboard_cert(data_dir: Path, sans: list[str]) -> tuple[Path, Path]:
    """The dashboard's serving certificate and key, issued from the cluster CA (again when
    the wanted names grow)."""
    from apiserver.tls import _write_private, cert_sans, host_sans, issue_cert
    tls = data_dir / "server" / "tls"
    ca_cert, ca_key = tls / "server-ca.crt", tls / "server-ca.key"
    if not ca_cert.exists() or not ca_key.exists():
        raise FileNotFoundError(f"no cluster CA in {tls}: give --tls-cert-file and --tls-private-key-file")
    cert, key = tls / "serving-dashboard.crt", tls / "serving-dashboard.key"
    want = sorted(set(host_sans()) | set(sans))
    if not cert.exists() or not key.exists() or not set(want) <= cert_sans(cert.read_bytes()):
        c, k = issue_cert(ca_cert.read_bytes(), ca_key.read_bytes(), "pykube-dashboard", want)
        _write_private(key, k)
        _write_private(cert, c)
    return cert, key


def component(api: Any, cert: Path, key: Path, bind_address: str, port: int) -> Component:
    """The dashboard as a supervised component; on a free port when `port` is taken (the
    log line names the one it serves on)."""
    async def run(ready: Ready) -> None:
        from dashboard.server import DashboardConfig, DashboardServer
        srv = DashboardServer(DashboardConfig(api, cert, key, bind_address, port))
        try:
            try:
                await srv.start()
            except OSError as e:      # the port is taken (another server here): any free one
                if not port:
                    raise
                log.warning("dashboard: port %d is not free (%s); serving on a free port instead", port, e)
                await srv.stop()
                srv = DashboardServer(DashboardConfig(api, cert, key, bind_address, 0))
                await srv.start()
            log.info("dashboard on https://%s:%d", bind_address, srv.port)
            ready()
            await srv.wait()
            raise RuntimeError("the dashboard's listener stopped")
        finally:
            await srv.stop()
    return Component("dashboard", run)


def register(sub: Any) -> None:
    p = sub.add_parser("dashboard", help="the web dashboard: topology, live timeline, the path of a change")
    p.add_argument("--kubeconfig", default=None, help="the cluster to show (its server and CA)")
    p.add_argument("-d", "--data-dir", type=Path, default=None,
                   help="pykube data dir whose CA issues the serving certificate")
    p.add_argument("--bind-address", default="0.0.0.0")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="HTTPS port (0 picks a free one)")
    p.add_argument("--tls-cert-file", type=Path, default=None)
    p.add_argument("--tls-private-key-file", type=Path, default=None)
    p.add_argument("--tls-san", action="append", default=[], help="extra name in the issued certificate")

    def run(args: argparse.Namespace) -> int:
        from client import kubeconfig
        from pykube.main import run_until_signal
        from pykube.supervisor import StartError, Supervisor
        try:
            api = kubeconfig.load(args.kubeconfig)
            if args.tls_cert_file and args.tls_private_key_file:
                cert, key = args.tls_cert_file, args.tls_private_key_file
            else:
                cert, key = dashboard_cert((args.data_dir or kubeconfig.data_dir()).resolve(), args.tls_san)
        except (OSError, kubeconfig.KubeconfigError) as e:
            log.error("%s", e)
            return 1
        box = [0]

        async def main() -> None:
            sup = Supervisor()
            try:
                await sup.start(component(api, cert, key, args.bind_address, args.port))
                await sup.wait()
            except StartError as e:
                log.error("%s", e)
                box[0] = 1
            finally:
                await sup.stop()
        run_until_signal(main)
        return box[0]
    p.set_defaults(func=run)
