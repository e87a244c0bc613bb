"""`pykube server`: the control plane in one process, plus a local agent.

Owns the server's flags (k3s' names where they exist) and the start-up order, each part a
supervised component (pykube/supervisor.py): apiserver; controller-manager; scheduler;
cluster DNS; the web dashboard (pykube/dashboard.py); then, unless `--disable-agent`, this
machine's kubelet and kube-proxy, which join through the same node token a remote agent
uses, and the ingress controller (unless `--disable ingress`; its nginx pod runs on this node).

With `--cluster-init` or `--server URL --token T` the store is this server's own etcd
member (pykube/embedded_etcd.py) and the cluster's CA and keys are shared through it
(pykube/bootstrap.py): an HA control plane. `--registry` adds the cluster registry
(pykube/registry.py), started before the local agent, which pulls through it.

Files in the data dir: `admin.kubeconfig` and `server/...` (the apiserver's),
`server/node-token` (K10<CA hash>::node:<secret>, for `pykube agent --token`),
`agent/kubelet.kubeconfig` (the local agent's), `run/server.pid` and `run/server.json`
(for killall).
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from pykube import components, runstate
from component_base.flags import parse_duration
from pykube.kubeconfigs import write_token_kubeconfig
from pykube.node import (DEFAULT_CLUSTER_CIDR, DEFAULT_SERVICE_CIDR, add_node_arguments,
                         check_proxy_args, dns_ip, host_state, kubelet_config, runs_netpol, runs_proxy, start_node)
from pykube.supervisor import StartError, Supervisor
from pykube.token import TokenError, ensure_node_token, parse, secret_from_flag, token_path

log = logging.getLogger("pykube.server")

OPTIONAL = ("controller-manager", "scheduler", "dns", "servicelb", "dashboard", "ingress")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_node_arguments(p, "local agent (kubelet, kube-proxy)")
    p.add_argument("--kubeconfig", help=argparse.SUPPRESS)  # the local agent's is generated
    p.add_argument("-d", "--data-dir", type=Path, default=None,
                   help="state, certificates, pods (default /var/lib/pykube as root, "
                        "~/.local/share/pykube otherwise, or $PYKUBE_DATA_DIR)")
    p.add_argument("--bind-address", default="0.0.0.0", help="apiserver listen address")
    p.add_argument("--secure-port", "--https-listen-port", dest="secure_port", type=int, default=6443,
                   help="apiserver HTTPS port (0 picks a free one)")
    p.add_argument("--advertise-address", default=None, help="address other nodes reach the apiserver on")
    p.add_argument("--datastore-endpoint", default=None,
                   help="sqlite:///path (default: sqlite in the data dir), etcd://h1:2379,h2:2379, memory://")
    p.add_argument("--tls-san", action="append", default=[],
                   help="extra host name or IP in the serving certificate (repeatable)")
    p.add_argument("--cluster-cidr", default=DEFAULT_CLUSTER_CIDR, help="pod range, a /24 per node")
    p.add_argument("--service-cidr", "--service-cluster-ip-range", dest="service_cidr",
                   default=DEFAULT_SERVICE_CIDR, help="ClusterIP range")
    p.add_argument("--token", default=None,
                   help="the node secret agents join with (default: generated once, kept in "
                        "<data dir>/server/node-token)")
    p.add_argument("--disable-agent", action="store_true", help="run no kubelet/kube-proxy here")
    p.add_argument("--disable", action="append", default=[], choices=OPTIONAL,
                   help="do not run this control-plane component (repeatable)")
    p.add_argument("--dns-port", type=int, default=53,
                   help="port the cluster DNS listens on (a free one when taken; pods use the kube-dns Service)")
    p.add_argument("--node-monitor-grace-period", type=parse_duration, default=40.0, metavar="DURATION",
                   help="how long a node may go without a heartbeat before it is NotReady (default 40s)")
    p.add_argument("--metric-resolution", type=float, default=15.0,
                   help="seconds between scrapes of the kubelets for the metrics API "
                        "(kubectl top); 0 turns the metrics API off")
    p.add_argument("--dashboard-port", type=int, default=8443,
                   help="HTTPS port of the web dashboard (0 picks a free one; `--disable dashboard` runs none)")
    p.add_argument("--cluster-init", action="store_true",
                   help="start an embedded etcd cluster (this server its first member; data in "
                        "<data dir>/server/db/etcd) that more servers join with --server")
    p.add_argument("--server", default=None, metavar="URL",
                   help="join the control plane of this server (https://HOST:6443) as one more server: "
                        "an etcd member of its cluster, with its CA and keys (needs --token)")
    p.add_argument("--registry", action="store_true",
                   help="run the cluster registry (docker-registry, TLS from the cluster CA, htpasswd "
                        "user pykube; files in <data dir>/server/registry)")
    p.add_argument("--registry-port", type=int, default=5443, help="the cluster registry's port (default 5443)")
    p.add_argument("--leader-elect", choices=("true", "false"), default="true",
                   help="controller-manager and scheduler hold Leases (for several servers)")
    p.add_argument("--kube-scheduler-arg", action="append", default=[], metavar="FLAG=VALUE",
                   help="a `pykube scheduler` flag for the scheduler, e.g. scheduler-name=my-scheduler, "
                        "percentage-of-nodes-to-score=50, leader-elect-lease-duration=30s (repeatable)")


def register(sub: Any) -> None:
    p = sub.add_parser("server", help="control plane (apiserver, controller-manager, scheduler, dns) "
                                      "plus a local agent", conflict_handler="resolve")
    add_arguments(p)

    def run(args: argparse.Namespace) -> int:
        from component_base.signals import run_until_signal
        box: list[int] = [0]

        async def main() -> None:
            box[0] = await serve(args)
        run_until_signal(main)
        return box[0]
    p.set_defaults(func=run)


#: the identities the control plane's components run as (their kubeconfigs: server/cred/)
COMPONENT_USERS = {"controller": "system:kube-controller-manager", "scheduler": "system:kube-scheduler",
                   "dns": "system:coredns"}
INGRESS_USER = "system:pykube-ingress"      # bound to the ClusterRole system:pykube:ingress


def _node_secret(data_dir: Path, flag: str | None) -> str | None:
    if flag:
        return secret_from_flag(flag)
    try:
        return parse(token_path(data_dir).read_text()).secret
    except (OSError, TokenError):
        return None


def _dashboard(args: argparse.Namespace, data_dir: Path, api_port: int) -> Any:
    """The dashboard, reading this apiserver (users log in with their own credentials)."""
    from client.kubeconfig import ClientConfig
    from pykube import dashboard
    ca = (data_dir / "server" / "tls" / "server-ca.crt").read_bytes()
    cert, key = dashboard.dashboard_cert(data_dir, list(args.tls_san) + (
        [args.advertise_address] if args.advertise_address else []))
    api = ClientConfig(server=f"https://127.0.0.1:{api_port}", ca_data=ca)
    return dashboard.component(api, cert, key, args.bind_address, args.dashboard_port)


def _embedded_etcd(args: argparse.Namespace, data_dir: Path, node_name: str | None) -> tuple[Any, str] | None:
    """With --cluster-init or --server: this server's etcd member and the datastore URL."""
    if not (args.cluster_init or args.server):
        return None
    if args.datastore_endpoint:
        raise ValueError("--cluster-init and --server run an embedded etcd: leave out --datastore-endpoint")
    if args.cluster_init and args.server:
        raise ValueError("--cluster-init starts a cluster, --server joins one: give one of them")
    if args.server and not args.token:
        raise ValueError("--server needs --token (the first server's <data dir>/server/node-token)")
    import socket

    from kubelet.node_status import default_node_ip
    from pykube import embedded_etcd
    from pykube.join import normalize_server
    member = embedded_etcd.Member(node_name or socket.gethostname().lower(),
                                  args.advertise_address or args.node_ip or default_node_ip(),
                                  data_dir / "server" / "db" / "etcd")
    endpoints = [f"127.0.0.1:{embedded_etcd.CLIENT_PORT}"]
    join = ""
    if args.server:
        join = embedded_etcd.etcd_endpoint_of(normalize_server(args.server))
        endpoints.append(join.split("://", 1)[1])
    comp = embedded_etcd.component(member, data_dir / "logs", join if not member.initialized else "")
    return comp, "etcd://" + ",".join(endpoints)


async def _join_bootstrap(args: argparse.Namespace, data_dir: Path, secret: str) -> None:
    """A joining server takes the cluster's CA, keys and admin token from etcd; the CA must
    be the one the token names."""
    from pykube import bootstrap
    from pykube.token import ca_hash
    await bootstrap.fetch("http://127.0.0.1:2379", data_dir, secret)
    if args.token.strip().startswith("K10"):
        want = parse(args.token).ca_hash
        have = ca_hash((data_dir / "server" / "tls" / "server-ca.crt").read_bytes())
        if want != have:
            raise bootstrap.BootstrapError(f"the cluster's CA (sha256 {have[:16]}...) is not the one the "
                                           f"token names (sha256 {want[:16]}...)")


def _registry(args: argparse.Namespace, data_dir: Path) -> tuple[Any, Path] | None:
    """The registry component and the nodes' registries.yaml, with `--registry`."""
    if not args.registry:
        return None
    from kubelet.node_status import default_node_ip
    from pykube import registry
    address = args.advertise_address or args.node_ip or default_node_ip()
    comp = registry.component(data_dir, address, args.registry_port, list(args.tls_san))
    return comp, registry.files_for(data_dir, address, args.registry_port).registries


async def serve(args: argparse.Namespace) -> int:
    """Run until cancelled; returns an exit code when start-up fails."""
    from apiserver.auth.user import NODE_JOIN
    from apiserver.server import APIServerConfig, default_data_dir
    from controllers.manager import ControllerManagerOptions
    from pykube.token import new_secret

    data_dir: Path = (args.data_dir or default_data_dir()).resolve()
    check_proxy_args(args)
    components.scheduler_options("check", leader_elect=True, extra_args=list(args.kube_scheduler_arg))
    try:
        secret = _node_secret(data_dir, args.token) or new_secret()
        embedded = _embedded_etcd(args, data_dir, args.node_name)
        runstate.claim_pid_file(data_dir, "server")
    except (TokenError, ValueError, runstate.AlreadyRunning) as e:
        log.error("%s", e)
        return 1
    if embedded is not None:
        args.datastore_endpoint = embedded[1]
    cfg = APIServerConfig(data_dir=data_dir, bind_address=args.bind_address, secure_port=args.secure_port,
                          datastore_endpoint=args.datastore_endpoint, tls_sans=list(args.tls_san),
                          service_cidr=args.service_cidr, advertise_address=args.advertise_address,
                          extra_tokens={secret: NODE_JOIN}, metric_resolution=args.metric_resolution)
    admin = data_dir / "admin.kubeconfig"
    agent_kubeconfig = data_dir / "agent" / "kubelet.kubeconfig"
    leader = args.leader_elect == "true"
    node_name = args.node_name

    creds: dict[str, Path] = {}

    async def on_apiserver(srv: Any) -> None:
        from apiserver.tls import write_component_kubeconfig
        token = ensure_node_token(data_dir, srv.ca_path.read_bytes(), secret)
        cfg.secure_port = srv.port  # a restart (after a crash) keeps the port, even when 0 was asked
        if args.cluster_init:        # what servers joining with --server take (bootstrap.py)
            from pykube import bootstrap
            await bootstrap.store("http://127.0.0.1:2379", data_dir, secret)
        local = f"https://127.0.0.1:{srv.port}"
        write_token_kubeconfig(agent_kubeconfig, local, srv.ca_path.read_bytes(), token.bearer)
        # each control-plane component under its own identity, as Kubernetes runs them
        for name, user in COMPONENT_USERS.items():
            creds[name] = write_component_kubeconfig(data_dir, name, user, [], local)
        creds["ingress"] = write_component_kubeconfig(data_dir, "ingress", INGRESS_USER, [], local)

    dns_servers = [] if "dns" in args.disable else [dns_ip(args.service_cidr)]
    kcfg = None if args.disable_agent else kubelet_config(args, data_dir, dns_servers)
    registry = _registry(args, data_dir)
    if registry is not None and kcfg is not None and kcfg.private_registry is None:
        kcfg.private_registry = registry[1]   # the local agent pulls from it
    host_state("server", data_dir, kcfg, args.cluster_cidr, args.service_cidr,
               extra={"kube_proxy": runs_proxy(args, kcfg),
                      "netpol": runs_netpol(args, kcfg)}).write()
    sup = Supervisor()
    identity = components.stable_identity(data_dir, node_name)
    try:
        if embedded is not None:
            await sup.start(embedded[0])
            if args.server:
                await _join_bootstrap(args, data_dir, secret)
        await sup.start(components.apiserver(cfg, on_apiserver))
        if "controller-manager" not in args.disable:
            tls_dir = data_dir / "server" / "tls"
            opts = ControllerManagerOptions(leader_elect=leader, cluster_cidr=args.cluster_cidr,
                                            identity=identity,
                                            node_monitor_grace_period=args.node_monitor_grace_period,
                                            cluster_signing_cert_file=str(tls_dir / "server-ca.crt"),
                                            cluster_signing_key_file=str(tls_dir / "server-ca.key"),
                                            root_ca_file=str(tls_dir / "server-ca.crt"))
            if "servicelb" in args.disable:
                opts.controllers = ["*", "-servicelb"]
            await sup.start(components.controller_manager(creds["controller"], opts))
        if "scheduler" not in args.disable:
            await sup.start(components.scheduler(
                creds["scheduler"], components.scheduler_options(identity, leader, list(args.kube_scheduler_arg))))
        if registry is not None:
            await sup.start(registry[0])
        if "dns" not in args.disable:
            dns = components.dns(creds["dns"], dns_ip(args.service_cidr), args.cluster_domain, args.dns_port,
                                 args.node_ip)
            if dns is None:
                log.warning("cluster DNS is not available in this build")
            else:
                await sup.start(dns)
        if "dashboard" not in args.disable:
            await sup.start(_dashboard(args, data_dir, cfg.secure_port))
        if kcfg is not None:
            await start_node(sup, args, kcfg, agent_kubeconfig, args.cluster_cidr)
            if "ingress" not in args.disable:   # its nginx pod runs on this node (a hostPath)
                await sup.start(components.ingress(creds["ingress"], kcfg.node_name, data_dir / "server" / "ingress"))
        log.info("pykube server ready: kubeconfig %s, node token %s", admin, token_path(data_dir))
        await sup.wait()
        return 0
    except (StartError, RuntimeError) as e:
        log.error("%s", e)
        return 1
    finally:
        await sup.stop()
        runstate.release_pid_file(data_dir, "server")
