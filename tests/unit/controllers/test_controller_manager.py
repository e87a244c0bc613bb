"""Controller-manager: --controllers resolution and the command line."""
from __future__ import annotations

import argparse

import pytest

from controllers.cli import options_from_args, parse_bool, parse_duration, register
from controllers.manager import ALL_CONTROLLERS, ControllerManager, enabled_controllers


def test_enabled_controllers() -> None:
    assert enabled_controllers(["*"]) == list(ALL_CONTROLLERS)
    assert enabled_controllers(["*,-nodeipam"]) == [n for n in ALL_CONTROLLERS if n != "nodeipam"]
    assert enabled_controllers(["endpoint", "namespace"]) == ["endpoint", "namespace"]
    assert enabled_controllers(["-endpoint"]) == []
    with pytest.raises(ValueError, match="bogus"):
        enabled_controllers(["*,bogus"])


def test_durations_and_bools() -> None:
    assert parse_duration("40") == 40 and parse_duration("40s") == 40
    assert parse_duration("1m30s") == 90 and parse_duration("500ms") == 0.5
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration("forty")
    assert parse_bool("true") and not parse_bool("False")


def _parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    register(p.add_subparsers(dest="command"))
    return p.parse_args(["controller-manager", *argv])


def test_cli_flags() -> None:
    args = _parse("--kubeconfig", "/x", "--leader-elect=false", "--cluster-cidr", "10.0.0.0/16",
                  "--node-monitor-grace-period", "2s", "--pod-eviction-timeout", "1m",
                  "--controllers", "*,-nodeipam")
    o = options_from_args(args)
    assert args.kubeconfig == "/x" and o.leader_elect is False
    assert o.cluster_cidr == "10.0.0.0/16" and o.node_monitor_grace_period == 2
    assert o.pod_eviction_timeout == 60 and o.controllers == ["*,-nodeipam"]
    d = options_from_args(_parse())
    assert d.leader_elect is True and d.node_monitor_grace_period == 40
    assert d.pod_eviction_timeout is None and d.controllers == ["*"]
    assert _parse("--leader-elect").leader_elect is True


async def test_build_makes_every_controller_on_shared_informers() -> None:
    cm = ControllerManager(object(), None)   # type: ignore[arg-type]
    informers, recorders = cm.build()
    assert set(cm.controllers) <= set(ALL_CONTROLLERS)
    assert {"endpoint", "namespace", "garbagecollector", "nodelifecycle", "nodeipam"} <= \
        set(cm.controllers)
    kinds = [i.kind for i in informers.all()]
    assert len(kinds) == len(set((k, i.namespace) for k, i in zip(kinds, informers.all())))
