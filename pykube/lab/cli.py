"""`pykube lab up|status|exec|stop-node|start-node|kubeconfig|down`: the lab's command line.

Owns argument parsing and what each subcommand prints; the work is lifecycle.py's. The
lab dir (`--dir`, default /var/lib/pykube-lab, or $PYKUBE_LAB_DIR) holds lab.json, the
kubeconfig, the shared folder (server URL, token), and each node's data dir and logs.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any

from component_base.flags import parse_duration

log = logging.getLogger("pykube.lab")


def default_dir() -> Path:
    return Path(os.environ.get("PYKUBE_LAB_DIR") or "/var/lib/pykube-lab")


def register(sub: Any) -> None:
    p = sub.add_parser("lab", help="a multi-node cluster on this machine, one network namespace a node")
    p.add_argument("--dir", type=Path, default=None, help="the lab dir (default /var/lib/pykube-lab)")
    cmds = p.add_subparsers(dest="lab_command", required=True)
    u = cmds.add_parser("up", help="make the bridge and nodes, provision them, wait until Ready")
    u.add_argument("--nodes", type=int, default=3, help="nodes in all, servers included (default 3)")
    u.add_argument("--servers", type=int, default=1, help="control-plane nodes (default 1)")
    u.add_argument("--datastore", choices=("sqlite", "etcd"), default="sqlite")
    u.add_argument("--node-monitor-grace-period", default="", metavar="DURATION",
                   help="how long a silent node stays Ready (the controller-manager's; default 40s)")
    u.add_argument("--registry", action="store_true",
                   help="server-1 runs the cluster registry; every node trusts it and mirrors docker.io to it")
    u.add_argument("--timeout", type=parse_duration, default=300.0, help="how long to wait for Ready nodes")
    u.set_defaults(lab_func=_up)
    cmds.add_parser("status", help="the nodes, their addresses and state").set_defaults(lab_func=_status)
    e = cmds.add_parser("exec", help="run a command on a node (default: a shell)")
    e.add_argument("node")
    e.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    e.set_defaults(lab_func=_exec)
    for name, func, text in (("stop-node", _stop_node, "switch a node off (pykube killall inside it)"),
                             ("start-node", _start_node, "provision a stopped node again")):
        s = cmds.add_parser(name, help=text)
        s.add_argument("node")
        s.set_defaults(lab_func=func)
    cmds.add_parser("kubeconfig", help="print the lab's kubeconfig").set_defaults(lab_func=_kubeconfig)
    cmds.add_parser("down", help="remove the whole lab").set_defaults(lab_func=_down)

    def run(args: argparse.Namespace) -> int:
        if os.geteuid() != 0:
            print("pykube lab: run as root (namespaces, bridges, containerd need it)", file=sys.stderr)
            return 1
        args.dir = (args.dir or default_dir()).resolve()
        return int(args.lab_func(args) or 0)
    p.set_defaults(func=run)


def _load(args: argparse.Namespace) -> Any:
    from pykube.lab.state import Lab
    lab = Lab.read(args.dir)
    if lab is None:
        print(f"pykube lab: no lab in {args.dir} (pykube lab up)", file=sys.stderr)
        raise SystemExit(1)
    return lab


def _up(args: argparse.Namespace) -> int:
    from pykube.lab import lifecycle, netns, state
    if sys.prefix == sys.base_prefix:
        print("pykube lab: run it from pykube's venv (make venv; .venv/bin/pykube lab up): the nodes "
              "are provisioned with that venv", file=sys.stderr)
        return 1
    if state.Lab.read(args.dir) is not None:
        print(f"pykube lab: a lab already exists in {args.dir} (pykube lab down first)", file=sys.stderr)
        return 1
    if args.node_monitor_grace_period:
        parse_duration(args.node_monitor_grace_period)
    try:
        prefix = asyncio.run(netns.pick_subnet_prefix())
        lab = state.plan(args.dir, prefix, args.nodes, args.servers, args.datastore,
                         args.node_monitor_grace_period, registry=args.registry)
    except (ValueError, netns.LabNetError) as e:
        print(f"pykube lab: {e}", file=sys.stderr)
        return 2
    print(f"lab {lab.tag}: {len(lab.nodes)} node(s) on {lab.bridge} {lab.prefix}.0/24, store {lab.datastore}",
          flush=True)
    try:
        asyncio.run(lifecycle.up(lab, args.timeout))
    except (lifecycle.LabError, netns.LabNetError, OSError) as e:
        print(f"pykube lab up: {e}", file=sys.stderr)
        print(f"(the half-made lab stays for inspection; `pykube lab --dir {args.dir} down` removes it)",
              file=sys.stderr)
        return 1
    _print_nodes(lab)
    _print_registry(lab)
    print(f"kubeconfig: {lab.kubeconfig}\n  export KUBECONFIG={lab.kubeconfig}")
    return 0


def _print_registry(lab: Any) -> None:
    if lab.registry:
        print(f"registry: {lab.registry_url} (user pykube, password in {lab.shared / 'registry-password'}; "
              f"mirror of docker.io on every node)")


def _print_nodes(lab: Any) -> None:
    from pykube.lab import lifecycle, netns
    try:
        api = asyncio.run(lifecycle.node_states(lab))
    except Exception as e:  # noqa: BLE001 - the status of the API is one column
        log.debug("apiserver: %s", e)
        api = {}
    rows = [("NODE", "ROLE", "ADDRESS", "NAMESPACE", "PYKUBE", "STATUS")]
    for n in lab.nodes:
        running = "running" if lifecycle.agent_running(n) else "stopped"
        if not netns.anchor_alive(n.anchor_pid):
            running = "no namespace"
        rows.append((n.name, n.role, n.ip, n.netns, running, api.get(n.name, ("-",))[0]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def _status(args: argparse.Namespace) -> int:
    lab = _load(args)
    print(f"lab {lab.tag} in {lab.dir}: bridge {lab.bridge} {lab.prefix}.0/24, store {lab.datastore}")
    _print_nodes(lab)
    _print_registry(lab)
    print(f"kubeconfig: {lab.kubeconfig}")
    return 0


def _exec(args: argparse.Namespace) -> int:
    from pykube.lab import netns
    lab = _load(args)
    try:
        node = lab.node(args.node)
    except KeyError as e:
        print(f"pykube lab: {e.args[0]}", file=sys.stderr)
        return 1
    if not netns.anchor_alive(node.anchor_pid):
        print(f"pykube lab: node {node.name} has no namespace", file=sys.stderr)
        return 1
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    argv = netns.enter_prefix(node.anchor_pid) + (cmd or [os.environ.get("SHELL", "/bin/sh")])
    sys.stdout.flush()
    os.execvp(argv[0], argv)
    return 127  # not reached


def _node_cmd(args: argparse.Namespace, start: bool) -> int:
    from pykube.lab import lifecycle
    lab = _load(args)
    try:
        node = lab.node(args.node)
        if start:
            asyncio.run(lifecycle.start_node(lab, node))
            print(f"node {node.name} started and Ready")
        else:
            asyncio.run(lifecycle.stop_node(lab, node))
            print(f"node {node.name} stopped (its pods and pykube processes are gone)")
    except (KeyError, lifecycle.LabError) as e:
        print(f"pykube lab: {e.args[0]}", file=sys.stderr)
        return 1
    return 0


def _stop_node(args: argparse.Namespace) -> int:
    return _node_cmd(args, start=False)


def _start_node(args: argparse.Namespace) -> int:
    return _node_cmd(args, start=True)


def _kubeconfig(args: argparse.Namespace) -> int:
    lab = _load(args)
    sys.stdout.write(lab.kubeconfig.read_text())
    return 0


def _down(args: argparse.Namespace) -> int:
    from pykube.lab import lifecycle
    lab = _load(args)
    problems = asyncio.run(lifecycle.down(lab))
    if problems:
        print("pykube lab down: left behind:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"lab {lab.tag} removed: no namespace, link, rule, process, mount or cgroup left")
    return 0
