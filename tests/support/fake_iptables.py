"""Test support: an in-memory stand-in for `kubelet.proxy.iptables.IPTables`.

`FakeIPTables` applies `iptables-restore --noflush` text to a dict "kernel" with the same
semantics the real one has for what kube-proxy writes (`:CHAIN` declares or flushes,
`-A` appends, `-I` prepends, `-D` deletes one matching rule, `-X` deletes an empty,
unreferenced chain, and a table is all-or-nothing), records every restore, and can be
told to fail the next one. Built-in chains start empty in filter and nat.
"""
from __future__ import annotations

import copy
import shlex

from kubelet.proxy import existing
from kubelet.proxy.iptables import CommandError

BUILTIN = {"filter": ("INPUT", "FORWARD", "OUTPUT"),
           "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")}


class FakeIPTables:
    def __init__(self) -> None:
        self.kernel: dict[str, dict[str, list[str]]] = {t: {c: [] for c in cs} for t, cs in BUILTIN.items()}
        self.restores: list[str] = []
        self.saves = 0
        self.fail_next = False
        self.conntrack: list[list[str]] = []
        self.sysctls: dict[str, str] = {}

    # -- the IPTables surface the proxier uses
    async def restore(self, text: str) -> None:
        if not text:
            return
        self.restores.append(text)
        if self.fail_next:
            self.fail_next = False
            raise CommandError(["iptables-restore"], 1, "injected failure")
        self.apply(text)

    async def save(self) -> dict[str, tuple[set[str], list[str]]]:
        self.saves += 1
        return existing.parse_save(self.save_text())

    async def cleanup(self) -> bool:
        text = existing.cleanup_restore(existing.parse_save(self.save_text()))
        await self.restore(text)
        return bool(text)

    async def delete_conntrack(self, flows: list[list[str]]) -> None:
        self.conntrack.extend(flows)

    async def ensure_sysctl(self, key: str, value: str) -> bool:
        changed = self.sysctls.get(key) != value
        self.sysctls[key] = value
        return changed

    # -- the simulated kernel
    def save_text(self) -> str:
        out = []
        for table, chains in self.kernel.items():
            out.append(f"*{table}")
            out.extend(f":{c} {'ACCEPT' if c in BUILTIN[table] else '-'} [0:0]" for c in chains)
            for rs in chains.values():
                out.extend(rs)
            out.append("COMMIT")
        return "\n".join(out) + "\n"

    def apply(self, text: str) -> None:
        staged = copy.deepcopy(self.kernel)
        table: dict[str, list[str]] | None = None
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            if line.startswith("*"):
                table = staged.setdefault(line[1:], {})
                continue
            if line == "COMMIT":
                table = None
                continue
            assert table is not None, line
            if line.startswith(":"):
                table[line[1:].split()[0]] = []
                continue
            op, chain, *rest = line.split(" ", 2)
            if chain not in table:
                raise CommandError(["iptables-restore"], 1, f"no chain {chain}: {line}")
            spec = rest[0] if rest else ""
            if op == "-A":
                self._check_target(table, spec, line)
                table[chain].append(line)
            elif op == "-I":
                self._check_target(table, spec, line)
                table[chain].insert(0, f"-A {chain} {spec}")
            elif op == "-D":
                table[chain].remove(f"-A {chain} {spec}")
            elif op == "-X":
                if table[chain]:
                    raise CommandError(["iptables-restore"], 1, f"chain {chain} not empty")
                if any(_target(r) == chain for rs in table.values() for r in rs):
                    raise CommandError(["iptables-restore"], 4, f"chain {chain} busy")
                del table[chain]
            else:
                raise AssertionError(f"unsupported: {line}")
        self.kernel = staged

    @staticmethod
    def _check_target(table: dict[str, list[str]], spec: str, line: str) -> None:
        t = _target("-A X " + spec)
        if t and t.startswith("KUBE-") and t not in table:
            raise CommandError(["iptables-restore"], 1, f"no target {t}: {line}")

    def chains(self, table: str) -> set[str]:
        return set(self.kernel[table])

    def rules_of(self, table: str, chain: str) -> list[str]:
        return list(self.kernel[table].get(chain, []))


def _target(rule: str) -> str | None:
    words = shlex.split(rule)
    for i, w in enumerate(words[:-1]):
        if w == "-j":
            return words[i + 1]
    return None
