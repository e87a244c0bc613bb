"""kube-proxy's rules as text: names, chains, rendering, cleanup (pure)."""
from __future__ import annotations

from kubelet.proxy import rules
from kubelet.proxy.existing import cleanup_restore, missing_jumps, parse_save, stale_chains
from kubelet.proxy.rules import (JUMPS, Endpoint, RuleBuilder, RulesConfig, ServicePortInfo,
                                 build_ruleset, endpoint_chain, external_chain, render_restore,
                                 service_chain)

CFG = RulesConfig(cluster_cidr="10.244.0.0/16")


def sp(name: str = "web", port_name: str = "http", proto: str = "TCP", port: int = 80,
       ip: str = "10.96.0.50", **kw: object) -> ServicePortInfo:
    return ServicePortInfo("default", name, port_name, proto, port, ip, **kw)  # type: ignore[arg-type]


EPS = (Endpoint("10.244.1.5", 8080), Endpoint("10.244.2.5", 8080))


def test_chain_names_are_kube_proxys() -> None:
    # the names every Kubernetes cluster has for these well-known service ports
    assert service_chain(ServicePortInfo("default", "kubernetes", "https", "TCP", 443, "10.96.0.1")) == \
        "KUBE-SVC-NPX46M4PTMTKRN6Y"
    assert service_chain(ServicePortInfo("kube-system", "kube-dns", "dns", "UDP", 53, "10.96.0.10")) == \
        "KUBE-SVC-TCOU7JCQXEZGVUNU"
    assert service_chain(ServicePortInfo("kube-system", "kube-dns", "dns-tcp", "TCP", 53, "10.96.0.10")) == \
        "KUBE-SVC-ERIFXISQEP7F7OF4"
    assert service_chain(ServicePortInfo("default", "nginx", "", "TCP", 80, "10.32.0.251")) == \
        "KUBE-SVC-2CMXP7HKUVJN7L6M"
    s = sp()
    assert external_chain(s)[len("KUBE-EXT-"):] == service_chain(s)[len("KUBE-SVC-"):]
    assert endpoint_chain(s, EPS[0]) != endpoint_chain(s, EPS[1])
    assert len(endpoint_chain(s, EPS[0])) == len("KUBE-SEP-") + 16


def test_cluster_ip_service_text() -> None:
    s = sp()
    rs = build_ruleset({s.key: s}, {s.key: EPS}, CFG)
    svc, sep1, sep2 = service_chain(s), endpoint_chain(s, EPS[0]), endpoint_chain(s, EPS[1])
    assert rs["nat"]["KUBE-SERVICES"] == (
        f'-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp '
        f"-d 10.96.0.50/32 --dport 80 -j {svc}",
        rules.NODEPORTS_LAST)
    assert rs["nat"][svc] == (
        f'-A {svc} -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.50/32 '
        f"--dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ",
        f'-A {svc} -m comment --comment "default/web:http -> 10.244.1.5:8080" '
        f"-m statistic --mode random --probability 0.5000000000 -j {sep1}",
        f'-A {svc} -m comment --comment "default/web:http -> 10.244.2.5:8080" -j {sep2}')
    assert rs["nat"][sep1] == (
        f"-A {sep1} -m comment --comment default/web:http -s 10.244.1.5/32 -j KUBE-MARK-MASQ",
        f"-A {sep1} -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.5:8080")
    assert rs["filter"]["KUBE-SERVICES"] == ()
    assert rs["nat"]["KUBE-NODEPORTS"] == ()
    assert not any(c.startswith("KUBE-EXT-") for c in rs["nat"])


def test_probabilities_spread_evenly() -> None:
    s = sp()
    eps = tuple(Endpoint(f"10.244.1.{i}", 80) for i in range(1, 5))
    lines = build_ruleset({s.key: s}, {s.key: eps}, CFG)["nat"][service_chain(s)]
    probs = [line.split("--probability ")[1].split()[0] for line in lines if "--probability" in line]
    assert probs == ["0.2500000000", "0.3333333333", "0.5000000000"]
    assert "statistic" not in lines[-1]


def test_no_endpoints_rejects_and_writes_no_nat_chain() -> None:
    s = sp(node_port=30080, load_balancer_ips=("172.31.1.11",))
    rs = build_ruleset({s.key: s}, {}, CFG)
    assert rs["filter"]["KUBE-SERVICES"] == (
        '-A KUBE-SERVICES -m comment --comment "default/web:http has no endpoints" -m tcp -p tcp '
        "-d 10.96.0.50/32 --dport 80 -j REJECT",)
    ext = rs["filter"]["KUBE-EXTERNAL-SERVICES"]
    assert any("-d 172.31.1.11/32 --dport 80 -j REJECT" in line for line in ext)
    assert any("--dst-type LOCAL -m tcp -p tcp --dport 30080 -j REJECT" in line for line in ext)
    assert not any(c.startswith(("KUBE-SVC-", "KUBE-SEP-", "KUBE-EXT-")) for c in rs["nat"])
    assert rs["nat"]["KUBE-SERVICES"] == (rules.NODEPORTS_LAST,)


def test_nodeport_and_load_balancer_go_through_ext_chain() -> None:
    s = sp(node_port=30080, load_balancer_ips=("172.31.1.11",), external_ips=("192.0.2.7",))
    rs = build_ruleset({s.key: s}, {s.key: EPS}, CFG)
    svc, ext = service_chain(s), external_chain(s)
    services = rs["nat"]["KUBE-SERVICES"]
    assert f"-d 192.0.2.7/32 --dport 80 -j {ext}" in services[1] and "external IP" in services[1]
    assert f"-d 172.31.1.11/32 --dport 80 -j {ext}" in services[2] and "loadbalancer IP" in services[2]
    assert services[-1] == rules.NODEPORTS_LAST
    assert rs["nat"]["KUBE-NODEPORTS"] == (
        f"-A KUBE-NODEPORTS -m comment --comment default/web:http -m tcp -p tcp --dport 30080 -j {ext}",)
    assert rs["nat"][ext] == (
        f'-A {ext} -m comment --comment "masquerade traffic for default/web:http external destinations" '
        f"-j KUBE-MARK-MASQ", f"-A {ext} -j {svc}")


def test_client_ip_affinity() -> None:
    s = sp(affinity_seconds=600)
    rs = build_ruleset({s.key: s}, {s.key: EPS}, CFG)
    svc_lines = rs["nat"][service_chain(s)]
    sep = endpoint_chain(s, EPS[0])
    assert f"-m recent --name {sep} --rcheck --seconds 600 --reap -j {sep}" in svc_lines[1]
    assert rs["nat"][sep][1].endswith(f"-m tcp -p tcp -m recent --name {sep} --set "
                                      f"-j DNAT --to-destination 10.244.1.5:8080")


def test_masquerade_options() -> None:
    s = sp()
    all_ = build_ruleset({s.key: s}, {s.key: EPS}, RulesConfig(masquerade_all=True))
    assert all_["nat"][service_chain(s)][0].endswith("--dport 80 -j KUBE-MARK-MASQ")
    none = build_ruleset({s.key: s}, {s.key: EPS}, RulesConfig(cluster_cidr=None))
    assert "KUBE-MARK-MASQ" not in none["nat"][service_chain(s)][0]
    assert "0x8000" in build_ruleset({}, {}, RulesConfig(masquerade_bit=15))["nat"]["KUBE-MARK-MASQ"][0]


def test_udp_service() -> None:
    s = sp("dns", "dns", "UDP", 53, "10.96.0.10")
    rs = build_ruleset({s.key: s}, {s.key: (Endpoint("172.31.1.1", 5353),)}, CFG)
    assert "-m udp -p udp -d 10.96.0.10/32 --dport 53" in rs["nat"]["KUBE-SERVICES"][0]


def test_builder_reuses_unchanged_fragments() -> None:
    a, b = sp("a", ip="10.96.0.1"), sp("b", ip="10.96.0.2")
    builder = RuleBuilder(CFG)
    first = builder.build({a.key: a, b.key: b}, {a.key: EPS, b.key: EPS})
    second = builder.build({a.key: a, b.key: b}, {a.key: EPS, b.key: EPS[:1]})
    assert first["nat"][service_chain(a)] is second["nat"][service_chain(a)]
    assert first["nat"][service_chain(b)] != second["nat"][service_chain(b)]


def test_render_full_then_partial() -> None:
    a, b = sp("a", ip="10.96.0.1"), sp("b", ip="10.96.0.2")
    one = build_ruleset({a.key: a, b.key: b}, {a.key: EPS, b.key: EPS}, CFG)
    full = render_restore(one, None, jumps=JUMPS)
    assert full.startswith("*filter\n") and full.count("COMMIT") == 2
    assert f":{service_chain(a)} - [0:0]" in full
    assert '-I PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES' in full
    two = build_ruleset({a.key: a, b.key: b}, {a.key: EPS, b.key: EPS[1:]}, CFG)
    partial = render_restore(two, one)
    lines = partial.splitlines()
    assert lines[0] == "*nat" and "*filter" not in lines            # filter unchanged: not written
    assert f":{service_chain(b)} - [0:0]" in lines
    assert f":{service_chain(a)} - [0:0]" not in lines              # a unchanged
    gone = endpoint_chain(b, EPS[0])
    assert lines[-2:] == [f"-X {gone}", "COMMIT"]
    assert f":{gone} - [0:0]" in lines                              # flushed before deleted
    assert render_restore(two, two) == ""


def test_stale_chains_and_missing_jumps_from_save() -> None:
    save = """*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-OLDOLDOLDOLDOLDO - [0:0]
:KUBE-MARK-DROP - [0:0]
:CNI-abc - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -s 10.244.1.5/32 -j CNI-abc
COMMIT
*filter
:INPUT ACCEPT [0:0]
COMMIT
"""
    saved = parse_save(save)
    assert stale_chains(saved, build_ruleset({}, {}, CFG)) == {"nat": {"KUBE-SVC-OLDOLDOLDOLDOLDO"},
                                                               "filter": set()}
    missing = missing_jumps(saved)
    assert ("nat", "PREROUTING", JUMPS[5][2]) not in missing
    assert len(missing) == len(JUMPS) - 1


def test_cleanup_removes_only_our_chains() -> None:
    save = """*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]
:KUBE-MARK-DROP - [0:0]
:CNI-abc - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A POSTROUTING -s 10.244.1.5/32 -j CNI-abc
-A KUBE-SERVICES -d 10.96.0.5/32 -j KUBE-SVC-AAAAAAAAAAAAAAAA
COMMIT
"""
    text = cleanup_restore(parse_save(save))
    assert text == """*nat
:KUBE-POSTROUTING - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]
-D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-D POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-X KUBE-POSTROUTING
-X KUBE-SERVICES
-X KUBE-SVC-AAAAAAAAAAAAAAAA
COMMIT
"""
    assert cleanup_restore(parse_save("*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n")) == ""


def test_localhost_nodeports_are_kube_proxys_default() -> None:
    s = sp(node_port=30080)
    rs = build_ruleset({s.key: s}, {s.key: EPS}, CFG)
    assert rs["nat"]["KUBE-SERVICES"][-1].endswith("-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS")
    assert rs["filter"]["KUBE-FIREWALL"] == (
        '-A KUBE-FIREWALL -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m comment --comment "block incoming localnet '
        'connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',)
    assert ("filter", "INPUT", "-j KUBE-FIREWALL") in JUMPS and ("filter", "OUTPUT", "-j KUBE-FIREWALL") in JUMPS
    off = build_ruleset({s.key: s}, {s.key: EPS}, RulesConfig(cluster_cidr="10.244.0.0/16", localhost_nodeports=False))
    assert off["nat"]["KUBE-SERVICES"][-1].endswith("--dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS")
    assert off["filter"]["KUBE-FIREWALL"] == ()
