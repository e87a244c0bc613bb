"""The metrics API's numbers: kubelet text in, metrics-server's rates and objects out (pure)."""
from __future__ import annotations

from apiserver.metrics_store import MetricsStore, Point, Scrape, node_metrics, parse_resource_metrics, pod_metrics, usage

TEXT = """# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="main",namespace="default",pod="web"} 12.5 1767322010000
container_memory_working_set_bytes{container="main",namespace="default",pod="web"} 2.097152e+06 1767322010000
container_start_time_seconds{container="main",namespace="default",pod="web"} 1.767322e+09 1767322010000
container_cpu_usage_seconds_total{container="",namespace="default",pod="broken"} 1 1767322010000
node_cpu_usage_seconds_total 100 1767322010000
node_memory_working_set_bytes 1e9 1767322010000
resource_scrape_error 0
"""


def scrape(node_cpu: float, ts: float, containers: dict[tuple[str, str, str], Point] | None = None) -> Scrape:
    return Scrape(Point(ts, node_cpu, 1e9), containers or {})


def test_parse() -> None:
    s = parse_resource_metrics(TEXT, now=0.0)
    assert s.node == Point(1767322010.0, 100.0, 1e9)
    assert s.containers == {("default", "web", "main"): Point(1767322010.0, 12.5, 2097152.0, 1767322000.0)}


def test_node_rate_needs_two_scrapes() -> None:
    st = MetricsStore()
    st.store("n1", scrape(100, 1000))
    assert st.node_usage("n1") is None
    st.store("n1", scrape(101.5, 1002))
    u = st.node_usage("n1")
    assert u is not None and (u.cpu_nanocores, u.window, u.memory_bytes) == (750_000_000, 2, 1_000_000_000)
    st.forget("n1")
    assert st.node_usage("n1") is None


def test_container_rates_restarts_and_new_containers() -> None:
    st = MetricsStore()
    key = ("default", "web", "main")
    st.store("n1", scrape(1, 1000, {key: Point(1000, 10, 100, 900)}))
    assert st.pod_usage("default", "web") is None               # one point of a long-running container
    st.store("n1", scrape(2, 1002, {key: Point(1002, 12, 200, 900)}))
    assert st.pod_usage("default", "web") == {"main": usage(Point(1000, 10, 100, 900), Point(1002, 12, 200, 900))}
    assert st.pod_usage("default", "web")["main"].cpu_nanocores == 1_000_000_000
    # restarted between scrapes: counted from its start, not against the old instance
    st.store("n1", scrape(3, 1004, {key: Point(1004, 0.5, 50, 1003)}))
    u = st.pod_usage("default", "web")
    assert u is not None and u["main"].cpu_nanocores == 500_000_000 and u["main"].window == 1
    # a new pod seen once, started after the previous scrape: from its start too
    other = ("default", "new", "c")
    st.store("n1", scrape(4, 1006, {key: Point(1006, 1.5, 50, 1003), other: Point(1006, 0.25, 10, 1005)}))
    assert st.pod_usage("default", "new")["c"].cpu_nanocores == 250_000_000  # type: ignore[index]
    # a pod gone from the node's scrape is gone from the API
    st.store("n1", scrape(5, 1008, {other: Point(1008, 0.75, 10, 1005)}))
    assert st.pod_usage("default", "web") is None and st.pod_usage("default", "new") is not None
    st.keep_only(set())
    assert st.pod_usage("default", "new") is None and not st.pod_node


def test_objects_have_metrics_servers_shape() -> None:
    st = MetricsStore()
    st.store("n1", scrape(100, 1767322000, {("d", "p", "b"): Point(1767322000, 1, 1048576, 1)}))
    st.store("n1", scrape(100.25, 1767322002.5, {("d", "p", "b"): Point(1767322002.5, 1.001, 1048576 + 512, 1),
                                                 ("d", "p", "a"): Point(1767322002.5, 5, 4096, 1767322001)}))
    node = node_metrics({"metadata": {"name": "n1", "labels": {"x": "y"}, "uid": "u"}}, st.node_usage("n1"),
                        now=1767322003)  # type: ignore[arg-type]
    assert node == {"kind": "NodeMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
                    "metadata": {"name": "n1", "creationTimestamp": "2026-01-02T02:46:43Z", "labels": {"x": "y"}},
                    "timestamp": "2026-01-02T02:46:42Z", "window": "2.5s",
                    "usage": {"cpu": "100m", "memory": "1000000000"}}
    pod = {"metadata": {"name": "p", "namespace": "d"}, "spec": {"containers": [{"name": "b"}, {"name": "a"}]}}
    pm = pod_metrics(pod, st.pod_usage("d", "p"), now=1767322003)  # type: ignore[arg-type]
    assert [c["name"] for c in pm["containers"]] == ["b", "a"]          # in the pod's order
    assert pm["containers"][0]["usage"] == {"cpu": "400u", "memory": "1049088"}
    assert pm["containers"][1]["usage"]["cpu"] == "3333333333n"
    assert pm["metadata"] == {"name": "p", "creationTimestamp": "2026-01-02T02:46:43Z", "namespace": "d"}
