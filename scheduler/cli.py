"""`pykube scheduler`: run the scheduler against an apiserver, optionally leader-elected.

Owns the command line (`register(subparsers)` for the pykube launcher, and `main()` for
`python -m scheduler.cli`), `SchedulerOptions`, and `run_scheduler` (what `pykube scheduler`
and `pykube server` both run): client -> `Scheduler`, wrapped in
a `LeaderElector` on the Lease kube-system/kube-scheduler when `--leader-elect` is true
(the default, as kube-scheduler). Like the controller-manager, each term builds a fresh
`Scheduler` (informers, cache, queue) and tears it down when the lease is lost; the process
then campaigns again.
"""
from __future__ import annotations

import argparse
import logging
import socket
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from component_base.flags import parse_bool, parse_duration

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kubeconfig", type=Path, default=None,
                   help="kubeconfig of the apiserver (default: $KUBECONFIG, ~/.kube/config, "
                        "the data dir's admin.kubeconfig)")
    p.add_argument("--leader-elect", type=parse_bool, nargs="?", const=True, default=True,
                   metavar="true|false", help="hold the kube-system/kube-scheduler Lease "
                                              "before scheduling (default true)")
    p.add_argument("--leader-elect-lease-duration", type=parse_duration, default=15.0)
    p.add_argument("--leader-elect-renew-deadline", type=parse_duration, default=10.0)
    p.add_argument("--leader-elect-retry-period", type=parse_duration, default=2.0)
    p.add_argument("--leader-elect-resource-namespace", default="kube-system")
    p.add_argument("--leader-elect-resource-name", default="kube-scheduler")
    p.add_argument("--percentage-of-nodes-to-score", type=int, default=0,
                   help="percent of nodes to find feasible before scoring (0: adaptive)")
    p.add_argument("--scheduler-name", action="append", default=None,
                   help="schedule pods with this schedulerName (default: default-scheduler)")


def register(subparsers: Any) -> None:
    """Add `scheduler` to the pykube launcher."""
    p = subparsers.add_parser("scheduler", help="run the scheduler")
    add_arguments(p)

    def run(args: argparse.Namespace) -> int:
        from component_base.signals import run_until_signal
        return run_until_signal(lambda: run_from_args(args))
    p.set_defaults(func=run)


@dataclass
class SchedulerOptions:
    """What kube-scheduler's flags set; `identity` is the Lease holder name (default: host
    name and a random suffix; the launcher passes a stable one)."""

    leader_elect: bool = True
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    resource_namespace: str = "kube-system"
    resource_name: str = "kube-scheduler"
    percentage_of_nodes_to_score: int = 0
    scheduler_names: frozenset[str] = frozenset()     # empty: default-scheduler
    identity: str = ""


def options_from_args(args: argparse.Namespace) -> SchedulerOptions:
    return SchedulerOptions(
        leader_elect=args.leader_elect, lease_duration=args.leader_elect_lease_duration,
        renew_deadline=args.leader_elect_renew_deadline, retry_period=args.leader_elect_retry_period,
        resource_namespace=args.leader_elect_resource_namespace,
        resource_name=args.leader_elect_resource_name,
        percentage_of_nodes_to_score=args.percentage_of_nodes_to_score,
        scheduler_names=frozenset(args.scheduler_name or ()))


async def run_scheduler(client: Any, options: SchedulerOptions) -> None:
    """Schedule until cancelled: one fresh `Scheduler` per leadership term (or one, for
    good, without leader election); a lost Lease ends the term and the campaign resumes."""
    from client.leaderelection import LeaderElector
    from scheduler.podinfo import DEFAULT_SCHEDULER
    from scheduler.scheduler import Scheduler

    names = options.scheduler_names or frozenset([DEFAULT_SCHEDULER])

    async def one_term() -> None:
        sched = Scheduler(client, scheduler_names=names,
                          percentage_of_nodes_to_score=options.percentage_of_nodes_to_score)
        await sched.run()

    if not options.leader_elect:
        await one_term()
        return
    identity = options.identity or f"{socket.gethostname()}_{uuid.uuid4()}"
    while True:
        elector = LeaderElector(
            client, options.resource_namespace, options.resource_name, identity,
            lease_duration=options.lease_duration, renew_deadline=options.renew_deadline,
            retry_period=options.retry_period, on_started_leading=one_term, release_on_cancel=True)
        log.info("scheduler %s: campaigning for %s/%s", identity, options.resource_namespace,
                 options.resource_name)
        await elector.run()
        log.warning("scheduler %s lost leadership; campaigning again", identity)


async def run_from_args(args: argparse.Namespace) -> None:
    from client import kubeconfig
    from client.rest import Client

    config = kubeconfig.load(str(args.kubeconfig) if args.kubeconfig else None)
    async with Client(config, component="scheduler") as client:
        await run_scheduler(client, options_from_args(args))


def main(argv: list[str] | None = None) -> int:
    """`python -m scheduler.cli --kubeconfig F [--leader-elect=false]`."""
    from component_base.logs import setup_logging
    from component_base.signals import run_until_signal
    p = argparse.ArgumentParser(prog="pykube scheduler")
    p.add_argument("-v", "--verbose", action="count", default=0)
    add_arguments(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    return run_until_signal(lambda: run_from_args(args))


if __name__ == "__main__":
    sys.exit(main())
