"""Host network state a node leaves, read and removed for killall: the CNI bridge,
routes into the pod range, and the CNI plugins' own NAT chains.

Owns pure parsers (`bridges_in_conflists`, `routes_within`, `cni_nat_leftovers` over
`iptables-save` text) and thin async runners of `ip` and `iptables`. Everything is named
by what the data dir's configuration says, never guessed from a name pattern alone.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import re
from pathlib import Path


async def run(*argv: str, timeout: float = 30.0) -> tuple[int, str, str]:
    try:
        proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
    except FileNotFoundError:
        return 127, "", f"{argv[0]}: not found"
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


def bridges_in_conflists(conf_dir: Path) -> list[str]:
    """Bridge names the `bridge` plugins of the conflists in `conf_dir` use."""
    names: list[str] = []
    for path in sorted(conf_dir.glob("*.conflist")) if conf_dir.is_dir() else []:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for plugin in doc.get("plugins", []):
            if plugin.get("type") == "bridge":
                name = plugin.get("bridge") or "cni0"
                if name not in names:
                    names.append(name)
    return names


def networks_in_conflists(conf_dir: Path) -> list[str]:
    out = []
    for path in sorted(conf_dir.glob("*.conflist")) if conf_dir.is_dir() else []:
        try:
            name = json.loads(path.read_text()).get("name")
        except (OSError, ValueError):
            continue
        if name and name not in out:
            out.append(str(name))
    return out


def routes_within(ip_route_output: str, cidrs: list[str]) -> list[str]:
    """Destinations in `ip -4 route show` output that lie inside one of `cidrs`."""
    nets = [ipaddress.ip_network(c, strict=False) for c in cidrs if c]
    out = []
    for line in ip_route_output.splitlines():
        dst = line.split(" ", 1)[0]
        if dst in ("default", "") or not dst[0].isdigit():
            continue
        try:
            net = ipaddress.ip_network(dst, strict=False)
        except ValueError:
            continue
        if any(net.version == n.version and net.subnet_of(n) for n in nets):  # type: ignore[arg-type]
            out.append(dst)
    return out


_CNI_RULE = re.compile(r'^-A (POSTROUTING|PREROUTING|OUTPUT) (.*-m comment --comment "name: \\"(?P<net>[^"\\]+)\\" id: \\"[^"\\]+\\"".*-j (?P<chain>CNI-[A-Za-z0-9-]+).*)$')


def cni_nat_leftovers(iptables_save: str, networks: list[str]) -> tuple[list[str], list[str]]:
    """Rules (as `-A ...` without the `-A`) jumping to per-pod `CNI-*` chains whose
    comment names one of `networks`, and those chains; what a CNI DEL would remove."""
    rules, chains = [], []
    for line in iptables_save.splitlines():
        m = _CNI_RULE.match(line)
        if m and m.group("net") in networks:
            rules.append(line[3:])
            if m.group("chain") not in chains:
                chains.append(m.group("chain"))
    return rules, chains


async def link_exists(name: str) -> bool:
    code, _, _ = await run("ip", "link", "show", "dev", name)
    return code == 0


async def delete_link(name: str) -> bool:
    if not await link_exists(name):
        return False
    code, _, err = await run("ip", "link", "delete", name)
    if code != 0:
        raise RuntimeError(f"ip link delete {name}: {err.strip()}")
    return True


async def delete_routes_within(cidrs: list[str]) -> list[str]:
    _, out, _ = await run("ip", "-4", "route", "show")
    removed = []
    for dst in routes_within(out, cidrs):
        code, _, _ = await run("ip", "route", "delete", dst)
        if code == 0:
            removed.append(dst)
    return removed


async def delete_cni_nat_leftovers(networks: list[str]) -> list[str]:
    code, out, _ = await run("iptables-save", "-t", "nat")
    if code != 0:
        return []
    rules, chains = cni_nat_leftovers(out, networks)
    for rule in rules:
        await run("iptables", "-w", "-t", "nat", "-D", *_split_rule(rule))
    for chain in chains:
        await run("iptables", "-w", "-t", "nat", "-F", chain)
        await run("iptables", "-w", "-t", "nat", "-X", chain)
    return chains


def _split_rule(rule: str) -> list[str]:
    import shlex
    return shlex.split(rule)
