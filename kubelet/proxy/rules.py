"""kube-proxy's iptables rules as a pure function of services and endpoints.

Owns the rule set kube-proxy (iptables mode) writes, and its rendering as
`iptables-restore --noflush` input. No I/O: `iptables.py` applies what this returns.

- Inputs are the internal `ServicePortInfo` (one per service port; ClusterIP, NodePort,
  LoadBalancer ingress IPs, external IPs, ClientIP affinity) and ready `Endpoint`s.
- Chain names are Kubernetes': `KUBE-SVC-`, `KUBE-EXT-` + the first 16 characters of
  base32(sha256("ns/name:port" + "tcp")), `KUBE-SEP-` the same over name + protocol +
  "ip:port" (so `default/kubernetes:https` is `KUBE-SVC-NPX46M4PTMTKRN6Y`, as in any cluster).
- nat: KUBE-SERVICES (cluster IP, load-balancer and external IP jumps, KUBE-NODEPORTS last),
  KUBE-NODEPORTS, KUBE-SVC-* (masquerade of sources outside the cluster CIDR, then
  `statistic --mode random --probability 1/(n-i)`, `recent` for ClientIP affinity),
  KUBE-EXT-* (mark, then the service chain), KUBE-SEP-* (hairpin mark, DNAT),
  KUBE-MARK-MASQ and KUBE-POSTROUTING (MASQUERADE of marked packets).
  filter: REJECT in KUBE-SERVICES / KUBE-EXTERNAL-SERVICES for ports without ready
  endpoints, KUBE-FORWARD accepting marked and established traffic, KUBE-FIREWALL (from
  INPUT and OUTPUT) dropping packets for 127.0.0.0/8 that come from elsewhere.
- NodePorts answer on every local address, 127.0.0.1 included (kube-proxy's
  `--iptables-localhost-nodeports`, on by default): KUBE-NODEPORTS is reached for any
  `--dst-type LOCAL` destination, KUBE-EXT-* masquerades, and the proxier turns on
  `net.ipv4.conf.all.route_localnet` so a DNAT-ed packet from 127.0.0.1 may leave the
  node's loopback; KUBE-FIREWALL keeps others from using that opening. With the option off,
  the nodeports jump excludes `-d 127.0.0.0/8`.
- `RuleBuilder` memoises each service port's fragment, so a sync after one Endpoints
  change rebuilds one fragment. `render_restore` writes only the chains that differ from
  what was applied (all of them on a full sync), declares-and-deletes stale chains, and
  inserts missing jumps from the built-in chains (`existing.py` reads the kernel's side).
- Only kube-proxy's own chains (`is_own_chain`) are ever flushed or deleted.
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

FILTER, NAT = "filter", "nat"
TABLES = (FILTER, NAT)
KUBE_SERVICES = "KUBE-SERVICES"
KUBE_EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES"
KUBE_NODEPORTS = "KUBE-NODEPORTS"
KUBE_POSTROUTING = "KUBE-POSTROUTING"
KUBE_MARK_MASQ = "KUBE-MARK-MASQ"
KUBE_FORWARD = "KUBE-FORWARD"
KUBE_FIREWALL = "KUBE-FIREWALL"
OWN_FIXED = frozenset({KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING,
                       KUBE_MARK_MASQ, KUBE_FORWARD, KUBE_FIREWALL, "KUBE-PROXY-FIREWALL", "KUBE-PROXY-CANARY"})
PER_SERVICE_PREFIXES = ("KUBE-SVC-", "KUBE-SEP-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SVL-")
DEFAULT_AFFINITY_SECONDS = 10800

# (table, built-in chain, rule spec) kube-proxy keeps at the top of the built-in chains
JUMPS: tuple[tuple[str, str, str], ...] = (
    (FILTER, "INPUT", '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible '
                      'service portals" -j KUBE-EXTERNAL-SERVICES'),
    (FILTER, "FORWARD", '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" '
                        '-j KUBE-SERVICES'),
    (FILTER, "FORWARD", '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible '
                        'service portals" -j KUBE-EXTERNAL-SERVICES'),
    (FILTER, "FORWARD", '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD'),
    (FILTER, "OUTPUT", '-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" '
                       '-j KUBE-SERVICES'),
    (NAT, "PREROUTING", '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'),
    (NAT, "OUTPUT", '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'),
    (NAT, "POSTROUTING", '-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'),
    (FILTER, "INPUT", f"-j {KUBE_FIREWALL}"),
    (FILTER, "OUTPUT", f"-j {KUBE_FIREWALL}"),
)

Lines = tuple[str, ...]
Ruleset = dict[str, dict[str, Lines]]  # table -> chain -> full "-A CHAIN ..." lines, in order


def is_own_chain(name: str) -> bool:
    return name in OWN_FIXED or name.startswith(PER_SERVICE_PREFIXES)


@dataclass(frozen=True)
class ServicePortInfo:
    """One port of one Service, as kube-proxy needs it."""

    namespace: str
    name: str
    port_name: str
    protocol: str  # TCP, UDP, SCTP
    port: int
    cluster_ip: str
    node_port: int = 0
    load_balancer_ips: tuple[str, ...] = ()
    external_ips: tuple[str, ...] = ()
    affinity_seconds: int = 0  # ClientIP affinity timeout; 0 = none

    @property
    def name_string(self) -> str:
        """`ns/name:port`, or `ns/name` for an unnamed port (Kubernetes' ServicePortName)."""
        base = f"{self.namespace}/{self.name}"
        return f"{base}:{self.port_name}" if self.port_name else base

    @property
    def proto(self) -> str:
        return self.protocol.lower()

    @property
    def key(self) -> tuple[str, str]:
        return (self.name_string, self.proto)


@dataclass(frozen=True)
class Endpoint:
    ip: str
    port: int

    @property
    def addr(self) -> str:
        return f"{self.ip}:{self.port}"


@dataclass(frozen=True)
class RulesConfig:
    cluster_cidr: str | None = "10.244.0.0/16"
    masquerade_all: bool = False
    masquerade_bit: int = 14
    localhost_nodeports: bool = True

    @property
    def mark(self) -> str:
        return f"{1 << self.masquerade_bit:#x}"


# ---------------------------------------------------------------- names
def _hash16(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def service_chain(sp: ServicePortInfo) -> str:
    return "KUBE-SVC-" + _hash16(sp.name_string + sp.proto)


def external_chain(sp: ServicePortInfo) -> str:
    return "KUBE-EXT-" + _hash16(sp.name_string + sp.proto)


def endpoint_chain(sp: ServicePortInfo, ep: Endpoint) -> str:
    return "KUBE-SEP-" + _hash16(sp.name_string + sp.proto + ep.addr)


def _q(comment: str) -> str:
    """A comment argument as iptables-restore reads it (quoted when it has spaces)."""
    return f'"{comment}"' if (" " in comment or not comment) else comment


def probability(n: int) -> str:
    return f"{1.0 / n:0.10f}"


def sort_endpoints(eps: Iterable[Endpoint]) -> tuple[Endpoint, ...]:
    return tuple(sorted(set(eps), key=lambda e: (ipaddress.ip_address(e.ip).packed, e.port)))


# ---------------------------------------------------------------- per service port
@dataclass(frozen=True)
class Fragment:
    """What one service port contributes: chains of its own, lines in shared chains."""

    own: tuple[tuple[str, str, Lines], ...]          # (table, chain, lines)
    shared: tuple[tuple[str, str, Lines], ...]       # (table, shared chain, lines appended)


def build_fragment(sp: ServicePortInfo, eps: tuple[Endpoint, ...], cfg: RulesConfig) -> Fragment:
    name, p = sp.name_string, sp.proto
    match = f"-m {p} -p {p}"
    has_external = bool(sp.node_port or sp.load_balancer_ips or sp.external_ips)
    if not eps:
        reject: list[str] = [f'-A {KUBE_SERVICES} -m comment --comment {_q(name + " has no endpoints")} '
                             f"{match} -d {sp.cluster_ip}/32 --dport {sp.port} -j REJECT"]
        ext_reject = []
        for ip in (*sp.external_ips, *sp.load_balancer_ips):
            ext_reject.append(f'-A {KUBE_EXTERNAL_SERVICES} -m comment --comment {_q(name + " has no endpoints")} '
                              f"{match} -d {ip}/32 --dport {sp.port} -j REJECT")
        if sp.node_port:
            ext_reject.append(f'-A {KUBE_EXTERNAL_SERVICES} -m comment --comment {_q(name + " has no endpoints")} '
                              f"-m addrtype --dst-type LOCAL {match} --dport {sp.node_port} -j REJECT")
        shared = [(FILTER, KUBE_SERVICES, tuple(reject))]
        if ext_reject:
            shared.append((FILTER, KUBE_EXTERNAL_SERVICES, tuple(ext_reject)))
        return Fragment(own=(), shared=tuple(shared))

    svc, ext = service_chain(sp), external_chain(sp)
    target = ext if has_external else svc
    services = [f'-A {KUBE_SERVICES} -m comment --comment {_q(name + " cluster IP")} '
                f"{match} -d {sp.cluster_ip}/32 --dport {sp.port} -j {svc}"]
    for ip in sp.external_ips:
        services.append(f'-A {KUBE_SERVICES} -m comment --comment {_q(name + " external IP")} '
                        f"{match} -d {ip}/32 --dport {sp.port} -j {target}")
    for ip in sp.load_balancer_ips:
        services.append(f'-A {KUBE_SERVICES} -m comment --comment {_q(name + " loadbalancer IP")} '
                        f"{match} -d {ip}/32 --dport {sp.port} -j {target}")
    shared: list[tuple[str, str, Lines]] = [(NAT, KUBE_SERVICES, tuple(services))]
    if sp.node_port:
        shared.append((NAT, KUBE_NODEPORTS, (f"-A {KUBE_NODEPORTS} -m comment --comment {_q(name)} "
                                             f"{match} --dport {sp.node_port} -j {target}",)))

    own: list[tuple[str, str, Lines]] = []
    svc_lines: list[str] = []
    comment = f'-m comment --comment {_q(name + " cluster IP")}'
    if cfg.masquerade_all:
        svc_lines.append(f"-A {svc} {comment} {match} -d {sp.cluster_ip}/32 --dport {sp.port} -j {KUBE_MARK_MASQ}")
    elif cfg.cluster_cidr:
        svc_lines.append(f"-A {svc} {comment} {match} -d {sp.cluster_ip}/32 --dport {sp.port} "
                         f"! -s {cfg.cluster_cidr} -j {KUBE_MARK_MASQ}")
    sep_names = [endpoint_chain(sp, ep) for ep in eps]
    if sp.affinity_seconds:
        for ep, sep in zip(eps, sep_names):
            svc_lines.append(f'-A {svc} -m comment --comment {_q(f"{name} -> {ep.addr}")} -m recent '
                             f"--name {sep} --rcheck --seconds {sp.affinity_seconds} --reap -j {sep}")
    n = len(eps)
    for i, (ep, sep) in enumerate(zip(eps, sep_names)):
        stat = f"-m statistic --mode random --probability {probability(n - i)} " if i < n - 1 else ""
        svc_lines.append(f'-A {svc} -m comment --comment {_q(f"{name} -> {ep.addr}")} {stat}-j {sep}')
    own.append((NAT, svc, tuple(svc_lines)))
    if has_external:
        ext_comment = _q(f"masquerade traffic for {name} external destinations")
        own.append((NAT, ext, (f"-A {ext} -m comment --comment {ext_comment} -j {KUBE_MARK_MASQ}",
                               f"-A {ext} -j {svc}")))
    affinity = "-m recent --name {sep} --set " if sp.affinity_seconds else ""
    for ep, sep in zip(eps, sep_names):
        own.append((NAT, sep, (
            f"-A {sep} -m comment --comment {_q(name)} -s {ep.ip}/32 -j {KUBE_MARK_MASQ}",
            f"-A {sep} -m comment --comment {_q(name)} {match} {affinity.format(sep=sep)}"
            f"-j DNAT --to-destination {ep.addr}",
        )))
    return Fragment(own=tuple(own), shared=tuple(shared))


def static_chains(cfg: RulesConfig) -> Ruleset:
    """The chains that do not depend on services (headers of the shared ones included)."""
    mark = f"{cfg.mark}/{cfg.mark}"
    return {
        FILTER: {
            KUBE_SERVICES: (),
            KUBE_EXTERNAL_SERVICES: (),
            KUBE_FORWARD: (
                f"-A {KUBE_FORWARD} -m conntrack --ctstate INVALID -j DROP",
                f'-A {KUBE_FORWARD} -m comment --comment "kubernetes forwarding rules" '
                f"-m mark --mark {mark} -j ACCEPT",
                f'-A {KUBE_FORWARD} -m comment --comment "kubernetes forwarding conntrack rule" '
                f"-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            ),
            KUBE_FIREWALL: (
                f'-A {KUBE_FIREWALL} -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m comment --comment '
                f'"block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
            ) if cfg.localhost_nodeports else (),
        },
        NAT: {
            KUBE_SERVICES: (),
            KUBE_NODEPORTS: (),
            KUBE_POSTROUTING: (
                f"-A {KUBE_POSTROUTING} -m mark ! --mark {mark} -j RETURN",
                f"-A {KUBE_POSTROUTING} -j MARK --xor-mark {cfg.mark}",
                f'-A {KUBE_POSTROUTING} -m comment --comment "kubernetes service traffic requiring SNAT" '
                f"-j MASQUERADE --random-fully",
            ),
            KUBE_MARK_MASQ: (f"-A {KUBE_MARK_MASQ} -j MARK --or-mark {cfg.mark}",),
        },
    }


NODEPORTS_LAST = (f'-A {KUBE_SERVICES} -m comment --comment "kubernetes service nodeports; NOTE: this '
                  f'must be the last rule in this chain" -m addrtype --dst-type LOCAL -j {KUBE_NODEPORTS}')
NODEPORTS_LAST_NO_LOCALHOST = (f'-A {KUBE_SERVICES} -m comment --comment "kubernetes service nodeports; NOTE: '
                               f'this must be the last rule in this chain" -m addrtype --dst-type LOCAL '
                               f'! -d 127.0.0.0/8 -j {KUBE_NODEPORTS}')


def assemble(fragments: Iterable[Fragment], cfg: RulesConfig) -> Ruleset:
    """Static chains + every fragment, shared chains in the order the fragments come."""
    out = static_chains(cfg)
    shared: dict[tuple[str, str], list[str]] = {}
    for frag in fragments:
        for table, chain, lines in frag.own:
            out[table][chain] = lines
        for table, chain, lines in frag.shared:
            shared.setdefault((table, chain), []).extend(lines)
    shared.setdefault((NAT, KUBE_SERVICES), []).append(
        NODEPORTS_LAST if cfg.localhost_nodeports else NODEPORTS_LAST_NO_LOCALHOST)
    for (table, chain), lines in shared.items():
        out[table][chain] = tuple(lines)
    return out


def build_ruleset(services: Mapping[tuple[str, str], ServicePortInfo],
                  endpoints: Mapping[tuple[str, str], Iterable[Endpoint]],
                  cfg: RulesConfig) -> Ruleset:
    """The whole rule set, without memoisation (tests, bench's raw reference)."""
    return RuleBuilder(cfg).build(services, endpoints)


_SHARED = ((FILTER, KUBE_SERVICES), (FILTER, KUBE_EXTERNAL_SERVICES), (NAT, KUBE_SERVICES), (NAT, KUBE_NODEPORTS))
_Entry = tuple[ServicePortInfo, tuple[Endpoint, ...], Fragment]


@dataclass
class RuleBuilder:
    """`build_ruleset`, incrementally: one cached fragment per service port, and each
    build starts from the last result, replacing only the chains of ports whose service or
    endpoints changed (shared chains are re-joined only when a port's share of them
    changed). Results are never mutated afterwards: a caller may keep one as "applied"."""

    cfg: RulesConfig
    _cache: dict[tuple[str, str], _Entry] = field(default_factory=dict)
    _last: Ruleset | None = None

    def build(self, services: Mapping[tuple[str, str], ServicePortInfo],
              endpoints: Mapping[tuple[str, str], Iterable[Endpoint]]) -> Ruleset:
        cache: dict[tuple[str, str], _Entry] = {}
        gone: list[Fragment] = []
        new: list[Fragment] = []
        reshare = self._last is None or len(services) != len(self._cache)
        for key, sp in services.items():
            raw = endpoints.get(key, ())
            eps = raw if isinstance(raw, tuple) else tuple(raw)
            hit = self._cache.get(key)
            if hit is not None and hit[0] == sp and (hit[1] is eps or hit[1] == eps):
                cache[key] = hit
                continue
            frag = build_fragment(sp, sort_endpoints(eps), self.cfg)
            cache[key] = (sp, eps, frag)
            new.append(frag)
            if hit is None:
                reshare = True
            else:
                gone.append(hit[2])
                reshare = reshare or hit[2].shared != frag.shared
        gone += [hit[2] for key, hit in self._cache.items() if key not in services]
        self._cache = cache
        if self._last is None:
            self._last = assemble((cache[k][2] for k in sorted(cache)), self.cfg)
            return self._last
        if not (gone or new):
            return self._last
        out = {t: dict(chains) for t, chains in self._last.items()}
        for frag in gone:
            for table, chain, _ in frag.own:
                out[table].pop(chain, None)
        for frag in new:
            for table, chain, lines in frag.own:
                out[table][chain] = lines
        if reshare:
            joined = assemble((cache[k][2] for k in sorted(cache)), self.cfg)
            for table, chain in _SHARED:
                out[table][chain] = joined[table][chain]
        self._last = out
        return out


# ---------------------------------------------------------------- rendering
def count_rules(rs: Ruleset) -> dict[str, int]:
    return {t: sum(len(lines) for lines in chains.values()) for t, chains in rs.items()}


def render_restore(desired: Ruleset, applied: Ruleset | None = None,
                   stale: Mapping[str, Iterable[str]] | None = None,
                   jumps: Iterable[tuple[str, str, str]] = ()) -> str:
    """iptables-restore --noflush input moving the kernel from `applied` (None: unknown,
    write everything) to `desired`; `stale` names chains seen in the kernel to delete when
    no longer desired; `jumps` are built-in chain rules to insert. "" when nothing to do."""
    out: list[str] = []
    jumps = list(jumps)
    for table in TABLES:
        want = desired.get(table, {})
        have = None if applied is None else applied.get(table, {})
        if have is None:
            write = list(want)
        else:
            write = [c for c, lines in want.items() if have.get(c) is not lines and have.get(c) != lines]
        gone = set(stale.get(table, ()) if stale else ()) | (set(have) if have is not None else set())
        delete = sorted(c for c in gone if c not in want and is_own_chain(c))
        inserts = [f"-I {chain} {spec}" for t, chain, spec in jumps if t == table]
        if not (write or delete or inserts):
            continue
        out.append(f"*{table}")
        out.extend(f":{c} - [0:0]" for c in (*write, *delete))
        out.extend(inserts)
        for c in write:
            out.extend(want[c])
        out.extend(f"-X {c}" for c in delete)
        out.append("COMMIT")
    return "\n".join(out) + "\n" if out else ""
