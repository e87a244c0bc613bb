"""The host side of a lab: a bridge, and per node a network namespace on it with an anchor.

Owns what NODE-STACK.md ("Several nodes on one machine") found working, kind-style:
- the lab bridge `<bridge>` with `<prefix>.1/24` (a free `172.31.X.0/24` of this host), and
  one host iptables rule accepting forwarded traffic between its ports (a FORWARD DROP
  policy, as Docker sets, would otherwise cut node-to-node traffic: bridged packets pass
  the host's iptables while `bridge-nf-call-iptables` is 1);
- per node a network namespace, a veth (host end on the bridge, `eth0` inside with
  `<prefix>.<10+i>/24` and a default route via the bridge), and an *anchor*: a long-lived
  `sleep` holding the node's mount and UTS namespaces, in which the host's cgroup
  hierarchies are re-mounted (`ip netns exec` loses them) and `/run/containerd` and
  `/var/lib/cni` are private tmpfs. Everything of the node (containerd, kubelet,
  kube-proxy, pods) then runs under `nsenter -t <anchor> -n -m -u` (`enter_prefix`), so a
  restarted containerd finds its shims again.

Every function here is idempotent on removal (a thing already gone is not an error), so
`lab down` can run after a half-made `lab up`.
"""
from __future__ import annotations

import os
import random
import signal
from pathlib import Path

from pykube.hostnet import run

FORWARD_COMMENT = "pykube lab: traffic between nodes on the lab bridge"


class LabNetError(RuntimeError):
    pass


async def must(*argv: str, timeout: float = 30.0) -> str:
    code, out, err = await run(*argv, timeout=timeout)
    if code != 0:
        raise LabNetError(f"{' '.join(argv)}: exit {code}: {err.strip()}")
    return out


def free_lab_octet(used_text: str, rng: random.Random | None = None) -> int:
    """An X with no `172.31.X.` in `used_text` (the host's `ip addr` and `ip route`)."""
    rng = rng or random.Random()
    for x in rng.sample(range(16, 250), 234):
        if f"172.31.{x}." not in used_text:
            return x
    raise LabNetError("no free 172.31.X.0/24 on this host")


async def pick_subnet_prefix() -> str:
    """`172.31.X` for a /24 this host neither has an address in nor routes."""
    used = (await run("ip", "-4", "-o", "addr"))[1] + (await run("ip", "-4", "route"))[1]
    return f"172.31.{free_lab_octet(used)}"


def cgroup_mount_script(mounts: str | None = None) -> str:
    """Shell lines re-mounting the host's cgroup hierarchies (lost by `ip netns exec`)."""
    text = mounts if mounts is not None else Path("/proc/self/mounts").read_text()
    lines = ["mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup"]
    for line in text.splitlines():
        dev, point, fstype, opts, *_ = line.split()
        if point == "/sys/fs/cgroup" and fstype == "cgroup2":   # unified hierarchy only
            return f"mount -t cgroup2 -o {opts} cgroup2 /sys/fs/cgroup"
        if point.startswith("/sys/fs/cgroup/") and fstype in ("cgroup", "cgroup2"):
            lines.append(f"mkdir -p {point} && mount -t {fstype} -o {opts} {fstype} {point}")
    return " && ".join(lines)


def anchor_script(hostname: str) -> str:
    return (f"{cgroup_mount_script()} && mkdir -p /run/containerd /var/lib/cni && "
            f"mount -t tmpfs -o mode=0711 tmpfs /run/containerd && "
            f"mount -t tmpfs -o mode=0700 tmpfs /var/lib/cni && hostname {hostname} && "
            f"echo ready $$ && exec sleep infinity </dev/null >/dev/null 2>&1")


def enter_prefix(anchor_pid: int) -> list[str]:
    """The command prefix that runs a program "on" the node."""
    return ["nsenter", "-t", str(anchor_pid), "-n", "-m", "-u", "--"]


async def create_bridge(bridge: str, prefix: str) -> None:
    await must("ip", "link", "add", bridge, "type", "bridge")
    await must("ip", "addr", "add", f"{prefix}.1/24", "dev", bridge)
    await must("ip", "link", "set", bridge, "up")
    await must("iptables", "-w", "-I", "FORWARD", "1", *forward_rule(bridge))


def forward_rule(bridge: str) -> list[str]:
    return ["-i", bridge, "-o", bridge, "-m", "comment", "--comment", FORWARD_COMMENT, "-j", "ACCEPT"]


async def delete_bridge(bridge: str) -> None:
    while (await run("iptables", "-w", "-D", "FORWARD", *forward_rule(bridge)))[0] == 0:
        pass
    if (await run("ip", "link", "show", "dev", bridge))[0] == 0:
        await must("ip", "link", "del", bridge)


async def create_node_net(netns: str, host_veth: str, bridge: str, ip: str, gateway: str) -> None:
    await must("ip", "netns", "add", netns)
    await must("ip", "link", "add", host_veth, "type", "veth", "peer", "name", "eth0", "netns", netns)
    await must("ip", "link", "set", host_veth, "master", bridge, "up")
    for cmd in (["addr", "add", f"{ip}/24", "dev", "eth0"], ["link", "set", "lo", "up"],
                ["link", "set", "eth0", "up"], ["route", "add", "default", "via", gateway]):
        await must("ip", "-n", netns, *cmd)


async def delete_node_net(netns: str, host_veth: str) -> None:
    if (await run("ip", "link", "show", "dev", host_veth))[0] == 0:
        await run("ip", "link", "del", host_veth)
    code, out, _ = await run("ip", "netns", "list")
    if any(line.split()[0] == netns for line in out.splitlines() if line.strip()):
        await must("ip", "netns", "del", netns)


async def start_anchor(netns: str, hostname: str) -> int:
    """Start the node's anchor in its own session (it outlives this process); its pid.

    `setsid -f` forks and returns at once; `ip netns exec` and `unshare` exec in place, so
    the shell's `$$` is the anchor's pid (and its process group), printed once it is ready.
    """
    code, out, err = await run("setsid", "-f", "ip", "netns", "exec", netns, "unshare", "--mount", "--uts",
                               "--propagation", "slave", "/bin/sh", "-c", anchor_script(hostname), timeout=20)
    words = out.split()
    if code != 0 or len(words) != 2 or words[0] != "ready":
        raise LabNetError(f"the namespace anchor of {hostname} failed: {err.strip() or out.strip()}")
    return int(words[1])


def stop_anchor(pid: int | None) -> None:
    """Kill the anchor's process group; its mount namespace (and tmpfs) go with it."""
    if not pid or not anchor_alive(pid):
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def anchor_alive(pid: int | None) -> bool:
    from pykube.runstate import pid_alive
    if not pid or not pid_alive(pid):
        return False
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"sleep")
    except OSError:
        return False
