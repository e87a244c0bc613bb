"""Environment resolution: values, $(VAR) expansion, fieldRef, resourceFieldRef, configMap and secret refs."""
from __future__ import annotations

import pytest

from kubelet.env import EnvError, PodContext, expand, expand_command, referenced_objects, resolve_env
from tests.support.kubelet_pods import pod

CTX = PodContext(pod_ip="10.244.1.7", pod_ips=["10.244.1.7"], host_ip="192.168.1.10", node_name="n1")


def env_of(env: list[dict[str, object]], cms: dict[str, dict[str, str]] | None = None,
           secrets: dict[str, dict[str, str]] | None = None, **container: object) -> dict[str, str]:
    p = pod(containers=[{"name": "c", "image": "busybox:1", "env": env, **container}])
    assert p.spec is not None
    return resolve_env(p, p.spec.containers[0], CTX, cms or {}, secrets or {})


def test_values_and_expansion() -> None:
    e = env_of([{"name": "A", "value": "x"}, {"name": "B", "value": "$(A)-y"}, {"name": "C", "value": "$$(A) $(NOPE)"}])
    assert e == {"A": "x", "B": "x-y", "C": "$(A) $(NOPE)"}
    assert expand("a$b$", {}) == "a$b$"


def test_field_refs() -> None:
    refs = {"NAME": "metadata.name", "NS": "metadata.namespace", "UID": "metadata.uid", "IP": "status.podIP",
            "IPS": "status.podIPs", "HOST": "status.hostIP", "NODE": "spec.nodeName",
            "APP": "metadata.labels['app']"}
    e = env_of([{"name": k, "valueFrom": {"fieldRef": {"fieldPath": v}}} for k, v in refs.items()])
    assert e == {"NAME": "web", "NS": "default", "UID": "uid-web", "IP": "10.244.1.7", "IPS": "10.244.1.7",
                 "HOST": "192.168.1.10", "NODE": "n1", "APP": "web"}


def test_resource_field_refs() -> None:
    e = env_of([{"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
                {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
                {"name": "REQ", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu", "divisor": "1m"}}}],
               resources={"limits": {"cpu": "1500m", "memory": "64Mi"}, "requests": {"cpu": "250m"}})
    assert e == {"CPU": "2", "MEM": "64", "REQ": "250"}


def test_config_map_and_secret_refs() -> None:
    env = [{"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "color"}}},
           {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "password"}}},
           {"name": "OPT", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "nope", "optional": True}}}]
    e = env_of(env, {"cfg": {"color": "blue"}}, {"s": {"password": "hunter2"}})
    assert e == {"COLOR": "blue", "PW": "hunter2"}
    p = pod(containers=[{"name": "c", "image": "x", "env": env}])
    assert p.spec is not None
    assert referenced_objects(p.spec.containers[0]) == ({"cfg"}, {"s"})


def test_missing_key_is_a_config_error() -> None:
    with pytest.raises(EnvError, match="couldn't find key color in configmap default/cfg"):
        env_of([{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "color"}}}], {"cfg": {}})
    with pytest.raises(EnvError, match='secret "s" not found'):
        env_of([{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}])


def test_env_from_with_prefix_and_override() -> None:
    e = env_of([{"name": "P_A", "value": "mine"}], {"cfg": {"A": "1", "B": "2", "bad key": "3"}},
               envFrom=[{"prefix": "P_", "configMapRef": {"name": "cfg"}}])
    assert e == {"P_A": "mine", "P_B": "2"}


def test_command_expansion() -> None:
    assert expand_command(["sh", "-c", "echo $(GREETING) $(X)"], {"GREETING": "hi"}) == ["sh", "-c", "echo hi $(X)"]
