"""Quota usage, Kubernetes' quota texts, LimitRange defaults and bounds, Pod Security checks."""
from __future__ import annotations

from decimal import Decimal

from api import podsecurity, quota


def _pod(*containers: dict, **spec: object) -> dict:
    return {"metadata": {"name": "p"}, "spec": {"containers": list(containers), **spec}}


def _c(name: str = "c", **resources: dict) -> dict:
    return {"name": name, "image": "x", "resources": resources}


def test_pod_usage_sums_containers_and_skips_terminated() -> None:
    pod = _pod(_c("a", requests={"cpu": "100m", "memory": "64Mi"}, limits={"cpu": "1"}),
               _c("b", requests={"cpu": "250m"}))
    u = quota.usage("", "pods", pod)
    assert u["pods"] == 1 and u["count/pods"] == 1
    assert u["requests.cpu"] == Decimal("0.35") and u["cpu"] == Decimal("0.35")
    assert u["limits.cpu"] == 1 and u["requests.memory"] == 64 * 2 ** 20
    assert quota.usage("", "pods", {**pod, "status": {"phase": "Succeeded"}}) == {}
    assert quota.usage("apps", "deployments", {}) == {"count/deployments.apps": 1}
    svc = quota.usage("", "services", {"spec": {"type": "LoadBalancer", "ports": [{"port": 80}, {"port": 443}]}})
    assert svc["services.nodeports"] == 2 and svc["services.loadbalancers"] == 1


def test_exceeded_and_failed_quota_texts() -> None:
    q = {"metadata": {"name": "team-quota"}, "spec": {"hard": {"pods": "4", "requests.cpu": "4"}}}
    assert quota.exceeded(q, {"pods": Decimal(4)}, {"pods": Decimal(1)}) == \
        "exceeded quota: team-quota, requested: pods=1, used: pods=4, limited: pods=4"
    assert quota.exceeded(q, {"requests.cpu": Decimal(3)}, {"requests.cpu": Decimal(2)}) == \
        "exceeded quota: team-quota, requested: requests.cpu=2, used: requests.cpu=3, limited: requests.cpu=4"
    assert quota.exceeded(q, {"pods": Decimal(3)}, {"pods": Decimal(1)}) is None
    assert quota.missing_limits(q, "", "pods", _pod(_c("web"))) == \
        "failed quota: team-quota: must specify requests.cpu for: web"


def test_quota_scopes() -> None:
    q = {"spec": {"scopes": ["BestEffort"]}}
    assert quota.matches_scopes(q, "", "pods", _pod(_c()))
    assert not quota.matches_scopes(q, "", "pods", _pod(_c(requests={"cpu": "1"})))
    assert not quota.matches_scopes(q, "", "services", {})


def test_limit_ranges_default_and_bound() -> None:
    lr = {"spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"},
                               "defaultRequest": {"cpu": "100m"}, "max": {"cpu": "1"},
                               "min": {"memory": "64Mi"}}]}}
    pod = _pod({"name": "c", "image": "x"})
    assert quota.apply_limit_ranges(pod, [lr]) == []
    res = pod["spec"]["containers"][0]["resources"]
    assert res == {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "256Mi"}}
    big = _pod(_c(limits={"cpu": "2", "memory": "32Mi"}, requests={"memory": "32Mi"}))
    assert quota.apply_limit_ranges(big, [lr]) == [
        "minimum memory usage per Container is 64Mi, but request is 32Mi",
        "minimum memory usage per Container is 64Mi, but limit is 32Mi",
        "maximum cpu usage per Container is 1, but limit is 2"]


def test_pod_security_levels() -> None:
    spec = {"hostNetwork": True, "containers": [{"name": "c", "securityContext": {"privileged": True}}]}
    assert podsecurity.violations("baseline", spec) == [
        "host namespaces (hostNetwork=true)",
        'privileged (container "c" must not set securityContext.privileged=true)']
    ok = {"containers": [{"name": "c", "securityContext": {
        "allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"}}}]}
    assert podsecurity.violations("restricted", ok) == []
    assert podsecurity.violations("baseline", {"containers": [{"name": "c"}]}) == []
    assert any(v.startswith("allowPrivilegeEscalation != false") for v in
               podsecurity.violations("restricted", {"containers": [{"name": "c"}]}))
    assert podsecurity.violations("privileged", spec) == []
