"""`pykube controller-manager`: the command line of the controller-manager.

Owns only flag parsing (Kubernetes' flag names: --kubeconfig, --leader-elect,
--cluster-cidr, --node-monitor-grace-period, --pod-eviction-timeout, --controllers,
--terminated-pod-gc-threshold, --horizontal-pod-autoscaler-sync-period, ...)
and the hand-off to `controllers.manager.run_controller_manager`. `register(subparsers)`
is what pykube/commands.py calls.
"""
from __future__ import annotations

import argparse
from typing import Any

from controllers.manager import ALL_CONTROLLERS, ControllerManagerOptions
from component_base.flags import parse_bool, parse_duration


def options_from_args(args: argparse.Namespace) -> ControllerManagerOptions:
    return ControllerManagerOptions(
        leader_elect=args.leader_elect, cluster_cidr=args.cluster_cidr,
        node_cidr_mask_size=args.node_cidr_mask_size,
        allocate_node_cidrs=args.allocate_node_cidrs,
        node_monitor_grace_period=args.node_monitor_grace_period,
        node_monitor_period=args.node_monitor_period,
        pod_eviction_timeout=args.pod_eviction_timeout, controllers=args.controllers or ["*"],
        workers=args.concurrent_syncs, lease_duration=args.leader_elect_lease_duration,
        renew_deadline=args.leader_elect_renew_deadline,
        retry_period=args.leader_elect_retry_period,
        cluster_signing_cert_file=args.cluster_signing_cert_file,
        cluster_signing_key_file=args.cluster_signing_key_file,
        root_ca_file=args.root_ca_file,
        terminated_pod_gc_threshold=args.terminated_pod_gc_threshold,
        hpa_sync_period=args.horizontal_pod_autoscaler_sync_period,
        hpa_downscale_stabilization=args.horizontal_pod_autoscaler_downscale_stabilization,
        hpa_tolerance=args.horizontal_pod_autoscaler_tolerance,
        **({"identity": args.leader_elect_identity} if args.leader_elect_identity else {}))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kubeconfig", default=None,
                   help="kubeconfig of the apiserver (default: $KUBECONFIG, ~/.kube/config, "
                        "the data dir's admin.kubeconfig)")
    p.add_argument("--leader-elect", type=parse_bool, nargs="?", const=True, default=True,
                   metavar="true|false", help="run only while holding the Lease (default true)")
    p.add_argument("--leader-elect-lease-duration", type=parse_duration, default=15.0)
    p.add_argument("--leader-elect-renew-deadline", type=parse_duration, default=10.0)
    p.add_argument("--leader-elect-retry-period", type=parse_duration, default=2.0)
    p.add_argument("--leader-elect-identity", default=None)
    p.add_argument("--cluster-cidr", default="10.244.0.0/16", help="pod range split across nodes")
    p.add_argument("--node-cidr-mask-size", type=int, default=24)
    p.add_argument("--allocate-node-cidrs", type=parse_bool, nargs="?", const=True, default=True,
                   metavar="true|false")
    p.add_argument("--node-monitor-grace-period", type=parse_duration, default=40.0,
                   metavar="DURATION", help="silence before a node is Unknown (default 40s)")
    p.add_argument("--node-monitor-period", type=parse_duration, default=5.0, metavar="DURATION")
    p.add_argument("--pod-eviction-timeout", type=parse_duration, default=None, metavar="DURATION",
                   help="cap on tolerationSeconds for NoExecute taints (default: none)")
    p.add_argument("--controllers", action="append", default=None, metavar="LIST",
                   help=f"'*', NAME or -NAME, comma separated; names: {', '.join(ALL_CONTROLLERS)}")
    p.add_argument("--concurrent-syncs", type=int, default=5, help="workers per controller")
    p.add_argument("--cluster-signing-cert-file", default=None,
                   help="CA certificate that signs approved client-certificate CSRs")
    p.add_argument("--cluster-signing-key-file", default=None, help="its private key")
    p.add_argument("--root-ca-file", default=None,
                   help="CA bundle published to every namespace as the kube-root-ca.crt ConfigMap")
    p.add_argument("--terminated-pod-gc-threshold", type=int, default=12500, metavar="N",
                   help="terminated pods kept before the pod garbage collector deletes them "
                        "(0 disables; default 12500)")
    p.add_argument("--horizontal-pod-autoscaler-sync-period", type=parse_duration, default=15.0,
                   metavar="DURATION", help="how often each HorizontalPodAutoscaler is synced (default 15s)")
    p.add_argument("--horizontal-pod-autoscaler-downscale-stabilization", type=parse_duration, default=300.0,
                   metavar="DURATION", help="how far back the autoscaler looks for a higher recommendation "
                                            "before scaling down (default 5m0s)")
    p.add_argument("--horizontal-pod-autoscaler-tolerance", type=float, default=0.1,
                   help="the ratio to target under which the autoscaler does not act (default 0.1)")


def register(sub: Any) -> None:
    p = sub.add_parser("controller-manager", help="run the controller-manager")
    add_arguments(p)

    def run(args: argparse.Namespace) -> int:
        from controllers.manager import enabled_controllers, run_controller_manager
        from component_base.signals import run_until_signal
        if args.controllers is None:
            args.controllers = ["*"]
        try:
            enabled_controllers(args.controllers)
        except ValueError as e:
            p.error(str(e))
        opts = options_from_args(args)
        return run_until_signal(lambda: run_controller_manager(args.kubeconfig, opts))
    p.set_defaults(func=run)
