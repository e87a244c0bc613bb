"""Cluster DNS answers (pure)."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))  # helpers beside the tests

from dns_view import cluster

from kubelet.dns.records import RR, answer

V = cluster()


def ips(qname: str, qtype: str = "A") -> list[object]:
    a = answer(qname, qtype, V)
    assert a is not None
    return [r.data[0] for r in a.answers]


def test_service_a_record() -> None:
    assert ips("nginx-svc.default.svc.cluster.local.") == ["10.96.0.20"]
    assert ips("NGINX-SVC.Default.svc.cluster.local") == ["10.96.0.20"]
    assert ips("kube-dns.kube-system.svc.cluster.local") == ["10.96.0.10"]


def test_unknown_is_nxdomain_with_soa() -> None:
    for name in ("nope.default.svc.cluster.local", "nginx-svc.other.svc.cluster.local",
                 "nginx-svc.default.svc.cluster.local.default.svc.cluster.local", "x.cluster.local",
                 "a.b.c.d.e.default.svc.cluster.local"):
        a = answer(name, "A", V)
        assert a is not None and a.rcode == "NXDOMAIN", name
        assert a.authority[0].rtype == "SOA"


def test_known_name_other_type_is_nodata() -> None:
    a = answer("nginx-svc.default.svc.cluster.local", "AAAA", V)
    assert a is not None and a.rcode == "NOERROR" and a.answers == [] and a.authority[0].rtype == "SOA"
    for name in ("svc.cluster.local", "default.svc.cluster.local", "cluster.local"):
        a = answer(name, "A", V)
        assert a is not None and a.rcode == "NOERROR" and not a.answers, name
    soa = answer("cluster.local", "SOA", V)
    assert soa is not None and soa.answers[0].rtype == "SOA"


def test_headless_service_lists_ready_pods() -> None:
    assert ips("db.default.svc.cluster.local") == ["10.244.1.7", "10.244.2.7"]
    assert ips("db-0.db.default.svc.cluster.local") == ["10.244.1.7"]
    assert ips("10-244-2-7.db.default.svc.cluster.local") == ["10.244.2.7"]
    a = answer("empty.default.svc.cluster.local", "A", V)
    assert a is not None and a.rcode == "NXDOMAIN"


def test_srv_records() -> None:
    a = answer("_http._tcp.nginx-svc.default.svc.cluster.local", "SRV", V)
    assert a is not None
    assert a.answers == [RR("_http._tcp.nginx-svc.default.svc.cluster.local.", "SRV",
                            (0, 100, 80, "nginx-svc.default.svc.cluster.local."))]
    assert [r.data for r in a.additional] == [("10.96.0.20",)]
    h = answer("_pg._tcp.db.default.svc.cluster.local", "SRV", V)
    assert h is not None
    assert sorted(r.data for r in h.answers) == [(0, 50, 5432, "10-244-2-7.db.default.svc.cluster.local."),
                                                 (0, 50, 5432, "db-0.db.default.svc.cluster.local.")]
    assert len(h.additional) == 2
    bad = answer("_http._udp.nginx-svc.default.svc.cluster.local", "SRV", V)
    assert bad is not None and bad.rcode == "NXDOMAIN"
    whole = answer("nginx-svc.default.svc.cluster.local", "SRV", V)
    assert whole is not None and whole.answers[0].name == "nginx-svc.default.svc.cluster.local."


def test_external_name_is_cname() -> None:
    a = answer("ext.default.svc.cluster.local", "A", V)
    assert a is not None and [(r.rtype, r.data) for r in a.answers] == [("CNAME", ("example.org.",))]


def test_pod_names_and_ptr() -> None:
    assert ips("10-244-1-5.default.pod.cluster.local") == ["10.244.1.5"]
    assert ips("20.0.96.10.in-addr.arpa", "PTR") == ["nginx-svc.default.svc.cluster.local."]
    assert ips("7.1.244.10.in-addr.arpa", "PTR") == ["db-0.db.default.svc.cluster.local."]
    assert answer("1.2.0.192.in-addr.arpa", "PTR", V) is None


def test_outside_names_are_not_ours() -> None:
    assert answer("example.org", "A", V) is None
    assert answer("cluster.local.example.org", "A", V) is None
    assert answer("nginx-svc.default.svc.other.domain", "A", V) is None
