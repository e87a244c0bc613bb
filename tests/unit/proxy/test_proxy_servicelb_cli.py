"""ServiceLB's pure decision, and the `pykube proxy` command line."""
from __future__ import annotations

import argparse
from typing import Any

import pytest

from api.models import Node, Service
from kubelet.proxy import cli
from component_base.flags import parse_duration
from controllers.servicelb import ENABLE_LB_LABEL, current_ingress, lb_ingress, with_ingress


def node(name: str, ip: str, ready: bool = True, labels: dict[str, str] | None = None,
         external: str | None = None) -> Node:
    addrs = [{"type": "InternalIP", "address": ip}] + ([{"type": "ExternalIP", "address": external}]
                                                      if external else [])
    return Node.from_dict({"metadata": {"name": name, "labels": labels or {}},
                           "status": {"addresses": addrs,
                                      "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}})


def svc(stype: str = "LoadBalancer", ingress: list[str] | None = None) -> Service:
    d: dict[str, Any] = {"metadata": {"name": "web", "namespace": "default"},
                         "spec": {"type": stype, "clusterIP": "10.96.0.5", "ports": [{"port": 80}]}}
    if ingress:
        d["status"] = {"loadBalancer": {"ingress": [{"ip": i} for i in ingress]}}
    return Service.from_dict(d)


def test_ingress_is_ready_nodes_sorted() -> None:
    nodes = [node("b", "172.31.1.12"), node("a", "172.31.1.9"), node("c", "172.31.1.13", ready=False),
             node("d", "172.31.1.14", external="203.0.113.4")]
    assert lb_ingress(svc(), nodes) == ["172.31.1.9", "172.31.1.12", "203.0.113.4"]
    assert lb_ingress(svc("ClusterIP"), nodes) == []
    assert lb_ingress(svc(), []) == []


def test_enablelb_label_restricts_nodes() -> None:
    nodes = [node("a", "172.31.1.11"), node("b", "172.31.1.12", labels={ENABLE_LB_LABEL: "true"})]
    assert lb_ingress(svc(), nodes) == ["172.31.1.12"]


def test_with_ingress_copies() -> None:
    s = svc()
    new = with_ingress(s, ["172.31.1.11"])
    assert current_ingress(new) == ["172.31.1.11"] and current_ingress(s) == []
    assert current_ingress(with_ingress(svc(ingress=["1.2.3.4"]), [])) == []


def test_durations() -> None:
    assert parse_duration("1s") == 1.0
    assert parse_duration("500ms") == 0.5
    assert parse_duration("1m30s") == 90.0
    assert parse_duration("2") == 2.0
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration("1x")


def test_register_adds_proxy_subcommand() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    cli.register(sub)
    args = p.parse_args(["proxy", "--kubeconfig", "k", "--hostname-override", "N1", "--cluster-cidr",
                         "10.244.0.0/16", "--healthz-bind-address", "127.0.0.1:0", "--min-sync-period",
                         "250ms", "--cleanup"])
    o = cli.options_from_args(args)
    assert (o.kubeconfig, o.node_name, o.cluster_cidr, o.healthz_bind_address, o.min_sync_period) == \
        ("k", "n1", "10.244.0.0/16", "127.0.0.1:0", 0.25)
    assert args.cleanup and args.func is cli.run and o.pod_routes
