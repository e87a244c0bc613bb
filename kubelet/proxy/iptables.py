"""The thin I/O under kube-proxy: iptables-restore, iptables-save, iptables, conntrack, ip.

Owns `Runner` (every command through `asyncio.create_subprocess_exec`, optionally behind
a prefix such as `nsenter --net=/run/netns/X`, so a node in its own network namespace
is driven from outside it) and `IPTables`: `restore(text)` is one `iptables-restore
--noflush` call, `save()` reads the tables it needs back, `ensure_sysctl` sets one sysctl
(route_localnet, for NodePorts on 127.0.0.1), `cleanup()` removes every
kube-proxy chain and jump (`existing.cleanup_restore`), `delete_conntrack` drops UDP flows
(best effort: "no flow matched" is not an error). Nothing here decides what to write.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from kubelet.proxy import existing, rules

log = logging.getLogger(__name__)


class CommandError(RuntimeError):
    def __init__(self, argv: Sequence[str], code: int, stderr: str) -> None:
        super().__init__(f"{' '.join(argv[:3])}: exit {code}: {stderr.strip()[:2000]}")
        self.argv, self.code, self.stderr = list(argv), code, stderr


@dataclass
class Runner:
    """Runs commands, in the current network namespace or behind `prefix`."""

    prefix: list[str] = field(default_factory=list)
    timeout: float = 120.0

    async def run(self, *argv: str, stdin: str | None = None, check: bool = True) -> tuple[int, str, str]:
        full = [*self.prefix, *argv]
        proc = await asyncio.create_subprocess_exec(
            *full, stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(
                proc.communicate(stdin.encode() if stdin is not None else None), self.timeout)
        except BaseException:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            raise
        code = proc.returncode or 0
        if check and code != 0:
            raise CommandError(full, code, err.decode(errors="replace"))
        return code, out.decode(errors="replace"), err.decode(errors="replace")


class IPTables:
    def __init__(self, runner: Runner | None = None, iptables: str = "iptables") -> None:
        self.runner = runner or Runner()
        self.iptables = iptables

    async def restore(self, text: str) -> None:
        """Apply `text` atomically per table, leaving every other chain alone."""
        if text:
            await self.runner.run(f"{self.iptables}-restore", "-w", "5", "--noflush", stdin=text)

    async def save(self) -> dict[str, tuple[set[str], list[str]]]:
        """The filter and nat tables as `existing.parse_save` gives them."""
        parts = []
        for table in rules.TABLES:
            _, out, _ = await self.runner.run(f"{self.iptables}-save", "-t", table)
            parts.append(out)
        return existing.parse_save("\n".join(parts))

    async def cleanup(self) -> bool:
        """Remove every kube-proxy chain and the jumps to them; True if anything was there."""
        text = existing.cleanup_restore(await self.save())
        await self.restore(text)
        return bool(text)

    async def check_rule(self, table: str, chain: str, spec: Sequence[str]) -> bool:
        code, _, _ = await self.runner.run(self.iptables, "-w", "5", "-t", table, "-C", chain, *spec,
                                           check=False)
        return code == 0

    async def ensure_rule(self, table: str, chain: str, spec: Sequence[str], position: int = 1) -> bool:
        """Insert the rule at `position` unless present; True when it was added."""
        if await self.check_rule(table, chain, spec):
            return False
        await self.runner.run(self.iptables, "-w", "5", "-t", table, "-I", chain, str(position), *spec)
        return True

    async def delete_rule(self, table: str, chain: str, spec: Sequence[str]) -> bool:
        """Delete every copy of the rule; True when one was there."""
        found = False
        while await self.check_rule(table, chain, spec):
            await self.runner.run(self.iptables, "-w", "5", "-t", table, "-D", chain, *spec)
            found = True
        return found

    async def ensure_sysctl(self, key: str, value: str) -> bool:
        """Set a (per network namespace) sysctl unless it already has `value`; True when written."""
        _, out, _ = await self.runner.run("sysctl", "-n", key)
        if out.strip() == value:
            return False
        await self.runner.run("sysctl", "-q", "-w", f"{key}={value}")
        return True

    async def delete_conntrack(self, flows: list[list[str]]) -> None:
        for args in flows:
            try:
                await self.runner.run("conntrack", *args, check=False)
            except OSError as e:  # conntrack not installed: stale UDP flows age out
                log.debug("conntrack unavailable: %s", e)
                return
