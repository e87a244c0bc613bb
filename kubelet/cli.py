"""`pykube kubelet`: the kubelet's command line.

Owns the flags (`register(subparsers)` adds the `kubelet` subcommand to the pykube
launcher; `add_arguments` is shared with `pykube agent`), their translation into a
`KubeletConfig`, and `main(argv)` so the kubelet also runs on its own as
`python -m kubelet.cli --kubeconfig F --node-name N`.
"""
from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path
from typing import Any

from kubelet.backoff import DEFAULT_BASE


def _labels(text: str) -> dict[str, str]:
    out = {}
    for item in filter(None, text.split(",")):
        k, _, v = item.partition("=")
        out[k.strip()] = v.strip()
    return out


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kubeconfig", default=None, help="kubeconfig to reach the apiserver")
    p.add_argument("--node-name", default=None, help="this node's name (default: the host name)")
    p.add_argument("--runtime", choices=("cri", "fake"), default="cri",
                   help="cri (containerd) or fake (a hollow node, as kubemark)")
    p.add_argument("--container-runtime-endpoint", default=None,
                   help="CRI socket, unix:///path (default: a private containerd under the data dir, "
                        "started when none answers and we are root)")
    p.add_argument("--pod-infra-container-image", default="local/pause:1",
                   help="the sandbox (pause) image; the default one is built on this node from its own "
                        "files when missing, any other is pulled")
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--port", type=int, default=10250, help="kubelet API port (0 picks a free one)")
    p.add_argument("--address", default="0.0.0.0", help="kubelet API bind address")
    p.add_argument("--pod-cidr", default=None, help="pod CIDR when no node IPAM assigns spec.podCIDR")
    p.add_argument("--fake-start-delay", type=float, default=0.0,
                   help="fake runtime: seconds before a container runs")
    p.add_argument("--node-ip", default=None)
    p.add_argument("--cgroup-parent", default="/pykube/kubepods")
    p.add_argument("--max-pods", type=int, default=110)
    p.add_argument("--cni-conf-dir", type=Path, default=None)
    p.add_argument("--cni-bridge", default="cni0")
    p.add_argument("--cni-network", default="pykube")
    p.add_argument("--cluster-dns", action="append", default=[])
    p.add_argument("--cluster-domain", default="cluster.local")
    p.add_argument("--node-labels", type=_labels, default={})
    p.add_argument("--capacity-cpu", default=None, help="report this cpu capacity instead of the host's")
    p.add_argument("--capacity-memory", default=None, help="report this memory capacity instead of the host's")
    p.add_argument("--crashloop-backoff-base", type=float, default=DEFAULT_BASE, help=argparse.SUPPRESS)
    p.add_argument("--eviction-hard", default=None,
                   help="hard eviction thresholds, e.g. memory.available<100Mi,nodefs.available<10%% "
                        "(the default; '' turns eviction off)")
    p.add_argument("--private-registry", type=Path, default=None, metavar="FILE",
                   help="registries.yaml (k3s' format: mirrors, and per registry auth and tls) for "
                        "containerd (default /etc/pykube/registries.yaml when it exists)")
    p.add_argument("--no-image-import", action="store_true", help="skip importing <data dir>/agent/images")


def config_from_args(args: argparse.Namespace) -> Any:
    from kubelet.config import KubeletConfig, default_data_dir
    return KubeletConfig(
        node_name=args.node_name or socket.gethostname().lower(),
        data_dir=args.data_dir or default_data_dir(), runtime=args.runtime,
        runtime_endpoint=args.container_runtime_endpoint,
        pod_infra_container_image=args.pod_infra_container_image, port=args.port, bind_address=args.address,
        pod_cidr=args.pod_cidr, node_ip=args.node_ip, cgroup_parent=args.cgroup_parent,
        max_pods=args.max_pods, fake_start_delay=args.fake_start_delay,
        crashloop_backoff_base=args.crashloop_backoff_base, cni_conf_dir=args.cni_conf_dir,
        cni_bridge=args.cni_bridge, cni_network=args.cni_network, cluster_dns=args.cluster_dns,
        cluster_domain=args.cluster_domain, labels=args.node_labels, capacity_cpu=args.capacity_cpu,
        capacity_memory=args.capacity_memory, import_images=not args.no_image_import,
        eviction_hard=args.eviction_hard, private_registry=args.private_registry,
    )


def run(args: argparse.Namespace) -> int:
    from kubelet.kubelet import Kubelet
    from component_base.signals import run_until_signal
    kubelet = Kubelet(config_from_args(args), kubeconfig_path=args.kubeconfig)
    return run_until_signal(kubelet.run)


def register(sub: Any) -> None:
    p = sub.add_parser("kubelet", help="run the node agent (pods on this node)")
    add_arguments(p)
    p.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    from component_base.logs import setup_logging
    p = argparse.ArgumentParser(prog="kubelet", description="pykube's kubelet")
    p.add_argument("-v", "--verbose", action="count", default=0)
    add_arguments(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
