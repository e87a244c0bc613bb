"""NetworkPolicy semantics and their iptables/ipset rendering, without a node."""
from __future__ import annotations

from kubelet.netpol import rules
from kubelet.netpol.policy import PodInfo, Port, pod_rules

A1 = PodInfo("team-a", "a1", "10.244.1.2", {"app": "web"}, {"http": (80, "TCP")})
A2 = PodInfo("team-a", "a2", "10.244.2.2", {"app": "client"})
B1 = PodInfo("team-b", "b1", "10.244.2.3", {"app": "web"})
NS = {"team-a": {"kubernetes.io/metadata.name": "team-a", "team": "a"},
      "team-b": {"kubernetes.io/metadata.name": "team-b"}}
PODS = [A1, A2, B1]


def _pol(ns: str, spec: dict) -> dict:
    return {"metadata": {"namespace": ns, "name": "p"}, "spec": spec}


def test_no_policy_no_isolation() -> None:
    assert pod_rules([A1], PODS, [], NS) == []


def test_default_deny_ingress_and_same_namespace_allow() -> None:
    deny = _pol("team-a", {"podSelector": {}})
    [r] = pod_rules([A1], PODS, [deny], NS)
    assert r.ingress == [] and r.egress is None
    same_ns = _pol("team-a", {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]})
    [r] = pod_rules([A1], PODS, [same_ns], NS)
    assert r.ingress[0].peers.nets == ["10.244.1.2/32", "10.244.2.2/32"] and r.ingress[0].ports is None


def test_namespace_selector_ipblock_and_named_ports() -> None:
    pol = _pol("team-a", {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [
        {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "team-b"}}},
                  {"ipBlock": {"cidr": "192.168.0.0/16", "except": ["192.168.1.0/24"]}}],
         "ports": [{"port": "http"}, {"port": 8000, "endPort": 8080, "protocol": "UDP"}]}]})
    [r] = pod_rules([A1, A2], PODS, [pol], NS)
    assert r.pod == A1
    allow = r.ingress[0]
    assert allow.peers.nets == ["10.244.2.3/32", "192.168.0.0/16"] and allow.peers.excepts == ["192.168.1.0/24"]
    assert allow.ports == [Port("TCP", 80), Port("UDP", 8000, 8080)]


def test_egress_deny_with_dns_allowed() -> None:
    pol = _pol("team-a", {"podSelector": {}, "policyTypes": ["Egress"],
                          "egress": [{"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}]})
    [r] = pod_rules([A2], PODS, [pol], NS)
    assert r.ingress is None and r.egress[0].peers.all and r.egress[0].ports == [Port("UDP", 53), Port("TCP", 53)]


def test_render_chains_sets_and_stale_removal() -> None:
    pol = _pol("team-a", {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0",
                                                                                   "except": ["10.0.0.0/8"]}}],
                                                          "ports": [{"port": 80}]}]})
    out = rules.render(pod_rules([A1], PODS, [pol], NS), {"PYKUBE-NP-I-OLDOLDOLDOLD"})
    h = rules.pod_hash("team-a", "a1")
    assert f"-A PYKUBE-NWPLCY-FWD -d 10.244.1.2/32 -j PYKUBE-NP-I-{h}" in out.iptables
    assert f"-A PYKUBE-NP-I-{h} -m set --match-set PYKUBE-NP-I-{h}-0 src -p tcp -m tcp --dport 80 -j RETURN" \
        in out.iptables
    assert out.iptables.rstrip().endswith("-X PYKUBE-NP-I-OLDOLDOLDOLD\nCOMMIT")
    assert f"add PYKUBE-NP-I-{h}-0 0.0.0.0/1 -exist" in out.ipset and "10.0.0.0/8 nomatch" in out.ipset
    assert out.sets == {f"PYKUBE-NP-I-{h}-0"}
    assert rules.cleanup_text({"PYKUBE-NWPLCY-FWD", "KUBE-SERVICES"}) == \
        "*filter\n:PYKUBE-NWPLCY-FWD - [0:0]\n-X PYKUBE-NWPLCY-FWD\nCOMMIT\n"
