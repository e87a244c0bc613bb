"""What is already in the kernel, read from iptables-save (pure).

Owns `parse_save` (tables, chains and rules of `iptables-save` output), and what the
proxier decides from it: `missing_jumps` (which of kube-proxy's jumps from the built-in
chains are absent), `stale_chains` (per-service chains no longer wanted, to delete on a
full sync) and `cleanup_restore` (the restore text removing every kube-proxy chain and
every rule elsewhere that jumps to one, as `kube-proxy --cleanup`). Only chains
`rules.is_own_chain` names are ever deleted.
"""
from __future__ import annotations

from collections.abc import Mapping

from kubelet.proxy.rules import JUMPS, PER_SERVICE_PREFIXES, TABLES, Ruleset, is_own_chain

Saved = Mapping[str, tuple[set[str], list[str]]]


def parse_save(text: str) -> dict[str, tuple[set[str], list[str]]]:
    """table -> (chains declared, "-A ..." rule lines) from iptables-save output."""
    tables: dict[str, tuple[set[str], list[str]]] = {}
    current: tuple[set[str], list[str]] | None = None
    for line in text.splitlines():
        if line.startswith("*"):
            current = tables.setdefault(line[1:].strip(), (set(), []))
        elif current is None or line.startswith("#"):
            continue
        elif line.startswith(":"):
            current[0].add(line[1:].split(" ", 1)[0])
        elif line.startswith("-A "):
            current[1].append(line)
    return tables


def _jump_target(rule: str) -> str | None:
    words = rule.split()
    for i, w in enumerate(words[:-1]):
        if w in ("-j", "--jump", "-g", "--goto"):
            return words[i + 1]
    return None


def missing_jumps(saved: Saved) -> list[tuple[str, str, str]]:
    """The JUMPS not present (a rule in that built-in chain jumping to that target)."""
    missing = []
    for table, chain, spec in JUMPS:
        target = spec.rsplit(" ", 1)[1]
        rules = saved.get(table, (set(), []))[1]
        if not any(r.startswith(f"-A {chain} ") and _jump_target(r) == target for r in rules):
            missing.append((table, chain, spec))
    return missing


def stale_chains(saved: Saved, desired: Ruleset) -> dict[str, set[str]]:
    """Per-service chains present in the kernel but not desired."""
    return {t: {c for c in saved.get(t, (set(), []))[0]
                if c.startswith(PER_SERVICE_PREFIXES) and c not in desired.get(t, {})}
            for t in TABLES}


def cleanup_restore(saved: Saved) -> str:
    """Input removing every kube-proxy chain and every rule elsewhere that jumps to one."""
    out: list[str] = []
    for table in TABLES:
        chains, rules = saved.get(table, (set(), []))
        own = sorted(c for c in chains if is_own_chain(c))
        if not own:
            continue
        ours = set(own)
        unhook = [("-D" + r[2:]) for r in rules
                  if r.split()[1] not in ours and _jump_target(r) in ours]
        out.append(f"*{table}")
        out.extend(f":{c} - [0:0]" for c in own)
        out.extend(unhook)
        out.extend(f"-X {c}" for c in own)
        out.append("COMMIT")
    return "\n".join(out) + "\n" if out else ""
