"""The node half shared by `pykube agent` and the local agent of `pykube server`:
the kubelet and kube-proxy, their flags, and the host state recorded for killall.

Owns the flag set (the kubelet's own flags from kubelet/cli.py, plus the proxy's), the
translation into a `KubeletConfig`, and `start_node`, which starts the kubelet, the
local-path provisioner (volumes under `<data dir>/storage`) and then kube-proxy under the
caller's supervisor. A hollow node (`--runtime fake`, as kubemark)
runs no kube-proxy: it has no pod network to program.
"""
from __future__ import annotations

import argparse
import ipaddress
import logging
from pathlib import Path
from typing import Any

from pykube import components
from pykube.runstate import HostState
from pykube.supervisor import Supervisor

log = logging.getLogger("pykube.node")

DEFAULT_SERVICE_CIDR = "10.96.0.0/12"
DEFAULT_CLUSTER_CIDR = "10.244.0.0/16"


def dns_ip(service_cidr: str) -> str:
    """The cluster DNS Service address: the tenth address of the service range (as k3s)."""
    net = ipaddress.ip_network(service_cidr, strict=False)
    return str(net.network_address + 10)


def add_node_arguments(p: argparse.ArgumentParser, title: str) -> None:
    """The kubelet's flags (kubelet/cli.py) in a group, plus kube-proxy's switch."""
    from kubelet.cli import add_arguments
    group = p.add_argument_group(title)
    add_arguments(group)  # type: ignore[arg-type]  # an argument group takes add_argument too
    group.add_argument("--disable-proxy", action="store_true",
                       help="do not run kube-proxy on this node")
    group.add_argument("--disable-network-policy", action="store_true",
                       help="do not enforce NetworkPolicies on this node (k3s' flag of the same name)")
    group.add_argument("--disable-local-storage", action="store_true",
                       help="do not run the local-path provisioner on this node (k3s' --disable local-storage)")
    group.add_argument("--kube-proxy-arg", action="append", default=[], metavar="FLAG=VALUE",
                       help="a `pykube proxy` flag for this node's kube-proxy, e.g. "
                            "healthz-bind-address=0.0.0.0:10266 (repeatable)")


def kubelet_config(args: argparse.Namespace, data_dir: Path, cluster_dns: list[str]) -> Any:
    from kubelet.cli import config_from_args
    cfg = config_from_args(args)
    cfg.data_dir = data_dir
    if not cfg.cluster_dns:
        cfg.cluster_dns = list(cluster_dns)
    return cfg


def check_proxy_args(args: argparse.Namespace) -> None:
    """Fail early (usage error) on a bad `--kube-proxy-arg`, before anything starts."""
    if args.kube_proxy_arg:
        components.proxy_options(Path("/dev/null"), "check", DEFAULT_CLUSTER_CIDR, list(args.kube_proxy_arg))


def runs_netpol(args: argparse.Namespace, cfg: Any | None) -> bool:
    """Network policy runs beside kube-proxy unless `--disable-network-policy`."""
    return runs_proxy(args, cfg) and not getattr(args, "disable_network_policy", False)


def runs_proxy(args: argparse.Namespace, cfg: Any | None) -> bool:
    """A node runs kube-proxy unless told not to or hollow (fake runtime: no pod network)."""
    return cfg is not None and cfg.runtime != "fake" and not getattr(args, "disable_proxy", False)


def host_state(role: str, data_dir: Path, cfg: Any | None, cluster_cidr: str = "",
               service_cidr: str = "", extra: dict[str, Any] | None = None) -> HostState:
    state = HostState(role=role, data_dir=str(data_dir), cluster_cidr=cluster_cidr,
                      service_cidr=service_cidr, extra=dict(extra or {}))
    if cfg is not None:
        state.node_name = cfg.node_name
        state.cni_bridge = cfg.cni_bridge
        state.cni_network = cfg.cni_network
        state.cni_conf_dir = str(cfg.effective_cni_conf_dir)
        state.containerd_dir = str(cfg.containerd_dir)
        state.managed_containerd = bool(cfg.managed_containerd)
        state.cgroup_parent = cfg.cgroup_parent
    return state


async def start_node(sup: Supervisor, args: argparse.Namespace, cfg: Any, kubeconfig: Path,
                     cluster_cidr: str) -> None:
    """Start the kubelet and the local-path provisioner, then kube-proxy (unless disabled
    or the node is hollow)."""
    await sup.start(components.kubelet(cfg, kubeconfig))
    if not getattr(args, "disable_local_storage", False):
        await sup.start(components.local_path(kubeconfig, cfg.node_name, Path(cfg.data_dir) / "storage"))
    if cfg.runtime == "fake":
        log.info("hollow node %s (fake runtime): kube-proxy not started", cfg.node_name)
        return
    if getattr(args, "disable_proxy", False):
        log.info("kube-proxy disabled")
        return
    proxy = components.proxy(kubeconfig, cfg.node_name, cluster_cidr, list(args.kube_proxy_arg))
    if proxy is None:
        log.warning("kube-proxy is not available in this build; Services will not be reachable")
        return
    await sup.start(proxy)
    if not getattr(args, "disable_network_policy", False):
        await sup.start(components.netpol(kubeconfig, cfg.node_name))
