"""PodInfo parsing: requests (containers, init containers, sidecars, pod-level requests,
overhead, limits), non-zero
defaults, ports, tolerations, affinity, owner."""
from __future__ import annotations

from sched_fixtures import pod

from scheduler.podinfo import DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, HostPort, pod_info


def test_requests_sum_containers_and_max_init() -> None:
    obj = pod("a", cpu="500m", memory="1Gi")
    obj["spec"]["containers"].append({"name": "b", "resources": {"requests": {"cpu": "1"}}})
    obj["spec"]["initContainers"] = [{"name": "i", "resources": {"requests": {"cpu": "3"}}}]
    obj["spec"]["overhead"] = {"cpu": "100m"}
    p = pod_info(obj)
    assert p.cpu == 3100 and p.memory == 1024 ** 3
    assert p.non_zero_cpu == 3100                 # max(500 + 1000, 3000) + 100
    assert p.non_zero_memory == max(1024 ** 3 + DEFAULT_MEMORY_REQUEST, DEFAULT_MEMORY_REQUEST)


def test_sidecars_add_to_the_containers_and_to_later_init_containers() -> None:
    obj = pod("a", cpu="500m")
    obj["spec"]["initContainers"] = [
        {"name": "side", "restartPolicy": "Always", "resources": {"requests": {"cpu": "200m"}}},
        {"name": "setup", "resources": {"requests": {"cpu": "1"}}}]
    assert pod_info(obj).cpu == 1200              # max(500 + 200, 1000 + 200)
    obj["spec"]["initContainers"][1]["resources"]["requests"]["cpu"] = "100m"
    assert pod_info(obj).cpu == 700


def test_pod_level_requests_replace_the_containers_sum() -> None:
    obj = pod("a", cpu="500m", memory="50Mi")
    obj["spec"]["containers"].append({"name": "b"})
    obj["spec"]["resources"] = {"requests": {"cpu": "1", "memory": "100Mi"}, "limits": {"cpu": "1"}}
    p = pod_info(obj)
    assert (p.cpu, p.memory, p.non_zero_cpu, p.non_zero_memory) == (1000, 100 * 1024 ** 2, 1000, 100 * 1024 ** 2)


def test_best_effort_pod_has_zero_requests_and_default_non_zero() -> None:
    p = pod_info(pod("a"))
    assert (p.cpu, p.memory) == (0, 0)
    assert (p.non_zero_cpu, p.non_zero_memory) == (DEFAULT_MILLI_CPU_REQUEST, DEFAULT_MEMORY_REQUEST)


def test_limits_count_when_requests_missing() -> None:
    obj = pod("a")
    obj["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "2", "memory": "1Mi"}}
    p = pod_info(obj)
    assert (p.cpu, p.memory) == (2000, 1024 * 1024)


def test_ports_tolerations_affinity_owner() -> None:
    p = pod_info(pod("a", host_ports=[80], tolerations=[{"key": "k", "operator": "Exists"}],
                     affinity={"nodeAffinity": {
                         "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                             {"matchExpressions": [{"key": "zone", "operator": "In",
                                                    "values": ["a"]}]}]},
                         "preferredDuringSchedulingIgnoredDuringExecution": [
                             {"weight": 5, "preference": {"matchExpressions": [
                                 {"key": "ssd", "operator": "Exists"}]}}]}},
                     owner_uid="rs-1", priority=7))
    assert p.host_ports == (HostPort("0.0.0.0", "TCP", 80),)
    assert p.tolerations[0].operator == "Exists" and p.tolerations[0].effect == ""
    assert p.required_terms is not None and p.required_terms[0].match_expressions[0].values == ("a",)
    assert p.preferred_terms[0].weight == 5
    assert p.owner_key == "default/rs-1" and p.priority == 7 and p.key == "default/a"
