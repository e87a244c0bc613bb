"""Network policy as ipsets and iptables rules, pure text (`ipset restore`,
`iptables-restore --noflush`).

    FORWARD ─► PYKUBE-NWPLCY-FWD ─┬─ -d <pod IP> ─► PYKUBE-NP-I-<pod>   (ingress of a local pod)
                                  └─ -s <pod IP> ─► PYKUBE-NP-E-<pod>   (egress of a local pod)
    INPUT   ─► PYKUBE-NWPLCY-IN  ─── -s <pod IP> ─► PYKUBE-NP-E-<pod>   (a pod talking to its node)

A pod chain lets replies through (conntrack ESTABLISHED,RELATED), RETURNs what an allow
matches (peers as an ipset `hash:net`, excepts as `nomatch` entries; then protocol and
port), and REJECTs the rest. RETURN rather than ACCEPT, so traffic between two pods of this
node passes both the sender's egress and the receiver's ingress chains. Every name starts
with PYKUBE-NP / PYKUBE-NWPLCY, so `cleanup` finds them all.
"""
from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from kubelet.netpol.policy import Allow, PodRules

FWD, INPUT_CHAIN = "PYKUBE-NWPLCY-FWD", "PYKUBE-NWPLCY-IN"
PREFIXES = ("PYKUBE-NP-", "PYKUBE-NWPLCY-")
JUMPS = (("FORWARD", FWD), ("INPUT", INPUT_CHAIN))


def pod_hash(namespace: str, name: str) -> str:
    return hashlib.sha256(f"{namespace}/{name}".encode()).hexdigest()[:12].upper()


def _nets(cidr: str) -> list[str]:
    """hash:net takes no /0: 0.0.0.0/0 becomes its two halves."""
    net = ipaddress.ip_network(cidr, strict=False)
    if net.prefixlen == 0:
        return [str(n) for n in net.subnets(prefixlen_diff=1)]
    return [str(net)]


@dataclass
class Rendered:
    ipset: str                 # ipset restore input
    iptables: str              # iptables-restore --noflush input (filter table)
    sets: set[str]             # every set name in use
    chains: set[str]           # every chain name in use


def _allow_lines(chain: str, set_base: str, allows: list[Allow], direction: str,
                 ipset_lines: list[str], sets: set[str]) -> list[str]:
    lines = [f"-A {chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"]
    flag = "src" if direction == "I" else "dst"
    for i, allow in enumerate(allows):
        match = ""
        if not allow.peers.all:
            name = f"{set_base}-{i}"
            sets.add(name)
            ipset_lines += [f"create {name} hash:net family inet -exist", f"flush {name}"]
            for cidr in allow.peers.nets:
                ipset_lines += [f"add {name} {n} -exist" for n in _nets(cidr)]
            for cidr in allow.peers.excepts:
                ipset_lines += [f"add {name} {n} nomatch -exist" for n in _nets(cidr)]
            match = f"-m set --match-set {name} {flag} "
        if allow.ports is None:
            lines.append(f"-A {chain} {match}-j RETURN")
            continue
        for p in allow.ports:
            proto = p.protocol.lower()
            if p.port is None:
                lines.append(f"-A {chain} {match}-p {proto} -j RETURN")
            else:
                rng = f"{p.port}:{p.end}" if p.end else str(p.port)
                lines.append(f"-A {chain} {match}-p {proto} -m {proto} --dport {rng} -j RETURN")
    lines.append(f'-A {chain} -m comment --comment "network policy: not allowed" -j REJECT')
    return lines


def render(rules: list[PodRules], existing_chains: set[str]) -> Rendered:
    """The text that makes the node's filter table and sets enforce `rules`, removing chains
    of ours that are no longer wanted."""
    ipset_lines: list[str] = []
    sets: set[str] = set()
    chains = {FWD, INPUT_CHAIN}
    body: list[str] = []
    fwd: list[str] = []
    inp: list[str] = []
    for r in sorted(rules, key=lambda r: (r.pod.namespace, r.pod.name)):
        h = pod_hash(r.pod.namespace, r.pod.name)
        for direction, allows in (("I", r.ingress), ("E", r.egress)):
            if allows is None:
                continue
            chain = f"PYKUBE-NP-{direction}-{h}"
            chains.add(chain)
            body += _allow_lines(chain, chain, allows, direction, ipset_lines, sets)
            if direction == "I":
                fwd.append(f"-A {FWD} -d {r.pod.ip}/32 -j {chain}")
            else:
                fwd.append(f"-A {FWD} -s {r.pod.ip}/32 -j {chain}")
                inp.append(f"-A {INPUT_CHAIN} -s {r.pod.ip}/32 -j {chain}")
    stale = sorted(c for c in existing_chains if c.startswith(PREFIXES) and c not in chains)
    text = ["*filter"] + [f":{c} - [0:0]" for c in sorted(chains | set(stale))]
    text += fwd + inp + body + [f"-X {c}" for c in stale] + ["COMMIT", ""]
    return Rendered("\n".join(ipset_lines) + ("\n" if ipset_lines else ""), "\n".join(text), sets, chains)


def cleanup_text(existing_chains: set[str]) -> str:
    """iptables-restore input removing every chain of ours (the jumps are deleted first)."""
    ours = sorted(c for c in existing_chains if c.startswith(PREFIXES))
    if not ours:
        return ""
    return "\n".join(["*filter"] + [f":{c} - [0:0]" for c in ours] + [f"-X {c}" for c in ours]
                     + ["COMMIT", ""])
