"""Inputs for the golden patch files (see regenerate.py): documents, patches and edits."""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]

POD: Obj = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "finalizers": ["a/x", "b/y"], "labels": {"a": "1"}},
    "spec": {"containers": [
        {"name": "a", "image": "x", "ports": [{"containerPort": 80},
                                              {"containerPort": 443, "name": "https"}],
         "env": [{"name": "E1", "value": "1"}, {"name": "E2", "value": "2"}], "args": ["1", "2"]},
        {"name": "b", "image": "y", "volumeMounts": [{"name": "v", "mountPath": "/v"}]}],
        "volumes": [{"name": "v", "emptyDir": {}}, {"name": "w", "configMap": {"name": "cm"}}],
        "tolerations": [{"key": "k", "operator": "Exists"}]}}
DEPLOYMENT: Obj = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
    "spec": {"replicas": 1, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
             "selector": {"matchLabels": {"app": "d"}},
             "template": {"metadata": {"labels": {"app": "d"}},
                          "spec": {"containers": [{"name": "a", "image": "x"},
                                                  {"name": "b", "image": "y"}]}}}}
SERVICE: Obj = {
    "apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
    "spec": {"ports": [{"port": 80, "targetPort": 8080, "name": "http"},
                       {"port": 443, "name": "https"}], "selector": {"app": "x"}}}
NODE: Obj = {
    "apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"},
    "spec": {"podCIDRs": ["10.0.0.0/24"], "taints": [{"key": "a", "effect": "NoSchedule"}]},
    "status": {"conditions": [{"type": "Ready", "status": "True"},
                              {"type": "MemoryPressure", "status": "False"}],
               "addresses": [{"type": "InternalIP", "address": "1.2.3.4"}]}}


def smp_cases() -> list[tuple[Obj, Obj]]:
    c = "containers"
    return [
        (POD, {"spec": {c: [{"name": "b", "image": "new"}]}}),
        (POD, {"spec": {c: [{"name": "c", "image": "new"}]}}),
        (POD, {"spec": {c: [{"name": "a", "$patch": "delete"}]}}),
        (POD, {"spec": {c: [{"name": "z", "image": "q"}, {"$patch": "replace"}]}}),
        (POD, {"spec": {c: [{"name": "a", "env": [{"name": "E3", "value": "3"}]}]}}),
        (POD, {"spec": {c: [{"name": "a", "env": [{"name": "E1", "$patch": "delete"}],
                             "ports": [{"containerPort": 8080}]}]}}),
        (POD, {"spec": {c: [{"name": "a", "args": ["9"]}]}}),
        (POD, {"spec": {"tolerations": [{"key": "z", "operator": "Exists"}]}}),
        (POD, {"metadata": {"finalizers": ["c/z"]}}),
        (POD, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a/x"]}}),
        (POD, {"metadata": {"$setElementOrder/finalizers": ["b/y", "c/z", "a/x"],
                            "finalizers": ["c/z"]}}),
        (POD, {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}),
        (POD, {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "c"},
                                                        {"name": "a"}],
                        c: [{"name": "c", "image": "n"}]}}),
        (POD, {"spec": {"volumes": [{"name": "w", "$retainKeys": ["name", "secret"],
                                     "secret": {"secretName": "s"}}]}}),
        (POD, {"metadata": {"labels": {"a": None, "b": "2"}}}),
        (POD, {"metadata": {"labels": {"$patch": "replace", "z": "9"}}}),
        (POD, {"spec": {"volumes": [{"name": "v", "$patch": "delete"}],
                        c: [{"name": "b", "volumeMounts": [{"mountPath": "/v",
                                                            "$patch": "delete"}]}]}}),
        (DEPLOYMENT, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
        (DEPLOYMENT, {"spec": {"template": {"spec": {c: [{"name": "b", "image": "yy"},
                                                         {"name": "c", "image": "z"}]}}}}),
        (DEPLOYMENT, {"spec": {"replicas": None}}),
        (SERVICE, {"spec": {"ports": [{"port": 8080, "name": "alt"}]}}),
        (SERVICE, {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
        (SERVICE, {"spec": {"$setElementOrder/ports": [{"port": 443}, {"port": 80}]}}),
        (POD, {"spec": {c: [{"image": "noname"}]}}),
        (POD, {"spec": {"newfield": {"$patch": "delete"}}}),
        (POD, {"metadata": {"ownerReferences": [{"uid": "u1", "name": "o", "kind": "ReplicaSet",
                                                 "apiVersion": "apps/v1"}]}}),
        (POD, {"metadata": {"labels": {"$patch": "delete"}}}),
        (POD, {"spec": {c: [{"name": "a", "$patch": "merge"}]}}),
        (POD, {"spec": {c: [{"name": "a", "$patch": "bogus"}]}}),
        (POD, {"spec": {"$patch": "replace", c: [{"name": "q", "image": "q"}]}}),
        (NODE, {"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "X"}]}}),
        (NODE, {"status": {"conditions": [{"type": "DiskPressure", "status": "False"}]}}),
        (NODE, {"spec": {"podCIDRs": ["10.0.1.0/24"], "taints": [{"key": "b",
                                                                  "effect": "NoExecute"}]}}),
        (NODE, {"status": {"addresses": [{"type": "Hostname", "address": "n"}]}}),
        (POD, {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                        c: [{"name": "c", "image": "n"}]}}),
        (POD, {"spec": {"$setElementOrder/containers": [{"name": "b"}],
                        c: [{"name": "a", "$patch": "delete"}]}}),
        (POD, {"spec": {c: [{"name": "a", "ports": [{"containerPort": 443, "$patch": "delete"},
                                                    {"containerPort": 80, "protocol": "UDP"}]}]}}),
        (POD, {"metadata": {"finalizers": ["b/y", "a/x", "c/z"]}}),
        (POD, {"metadata": {"finalizers": []}}),
        (POD, {"spec": {c: []}}),
        (POD, {"spec": {c: None}}),
        (POD, {"spec": {c: {"name": "a"}}}),
        (POD, {"spec": {"volumes": [{"name": "v", "$retainKeys": ["name", "hostPath"],
                                     "hostPath": {"path": "/x"}}]}}),
        (POD, {"spec": {c: [{"name": "a", "env": [{"name": "E2", "value": "22"},
                                                  {"name": "E0", "value": "0"}],
                             "$setElementOrder/env": [{"name": "E0"}, {"name": "E1"},
                                                      {"name": "E2"}]}]}}),
        (DEPLOYMENT, {"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}],
            c: [{"name": "c", "image": "z"}]}}}}),
        (DEPLOYMENT, {"metadata": {"annotations": {"x": "y"}},
                      "spec": {"template": {"metadata": {"labels": {"v": "2"}}}}}),
    ]


def _web() -> Obj:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web",
                                                                           "tier": "fe"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                         {"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
                          "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                         {"name": "side", "image": "busybox", "args": ["sleep", "1d"]}]}}}}


def _served(d: Obj) -> Obj:
    """What the apiserver would hold after defaulting the applied Deployment."""
    d = copy.deepcopy(d)
    rolling = {"maxSurge": "25%", "maxUnavailable": "25%"}
    d["spec"].setdefault("strategy", {"type": "RollingUpdate", "rollingUpdate": rolling})
    for c in d["spec"]["template"]["spec"]["containers"]:
        c.setdefault("imagePullPolicy", "IfNotPresent")
        for p in c.get("ports", []):
            p.setdefault("protocol", "TCP")
    d["status"] = {"replicas": 2}
    return d


def _svc_served(s: Obj) -> Obj:
    s = copy.deepcopy(s)
    s["spec"]["clusterIP"] = "10.96.0.10"
    s["spec"]["type"] = "ClusterIP"
    for p in s["spec"]["ports"]:
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p["port"])
    return s


Edit = Callable[[Obj], Any]


def _containers(d: Obj) -> list[Obj]:
    result: list[Obj] = d["spec"]["template"]["spec"]["containers"]
    return result


def apply_cases() -> list[tuple[str, Obj, Obj, Obj]]:
    out: list[tuple[str, Obj, Obj, Obj]] = []

    def case(name: str, base: Obj, edit: Edit, drift: Edit | None = None) -> None:
        modified = copy.deepcopy(base)
        edit(modified)
        live = _served(base)
        if drift:
            drift(live)
        out.append((name, base, modified, live))

    web = _web()
    case("nochange", web, lambda m: None)
    case("replicas", web, lambda m: m["spec"].__setitem__("replicas", 5))
    case("remove label", web, lambda m: m["metadata"]["labels"].pop("tier"))
    case("image", web, lambda m: _containers(m)[0].__setitem__("image", "nginx:2"))
    case("add env", web, lambda m: _containers(m)[0]["env"].append({"name": "Z", "value": "z"}))
    case("remove env", web, lambda m: _containers(m)[0]["env"].pop(0))
    case("remove container", web, lambda m: _containers(m).pop(1))
    case("add container front", web,
         lambda m: _containers(m).insert(0, {"name": "init", "image": "alpine"}))
    case("reorder", web, lambda m: _containers(m).reverse())
    case("args change", web, lambda m: _containers(m)[1].__setitem__("args", ["sleep", "2d"]))
    case("strategy recreate", web,
         lambda m: m["spec"].__setitem__("strategy", {"type": "Recreate"}))
    case("strategy rolling", web,
         lambda m: m["spec"].__setitem__("strategy", {"type": "RollingUpdate"}))
    case("remove port", web, lambda m: _containers(m)[0].pop("ports"))
    case("add port", web, lambda m: _containers(m)[0]["ports"].append({"containerPort": 443}))
    case("drift replicas kept", web, lambda m: None,
         lambda c: c["spec"].__setitem__("replicas", 7))
    case("drift env", web, lambda m: None,
         lambda c: _containers(c)[0]["env"].append({"name": "X", "value": "x"}))
    case("remove replicas", web, lambda m: m["spec"].pop("replicas"))
    case("volumes add", web, lambda m: m["spec"]["template"]["spec"].__setitem__(
        "volumes", [{"name": "v", "emptyDir": {}}]))
    with_volumes = _web()
    with_volumes["spec"]["template"]["spec"]["volumes"] = [
        {"name": "v", "emptyDir": {}}, {"name": "w", "configMap": {"name": "c"}}]
    case("volume type change", with_volumes, lambda m: m["spec"]["template"]["spec"]["volumes"]
         .__setitem__(0, {"name": "v", "hostPath": {"path": "/x"}}))
    case("volume remove", with_volumes, lambda m: m["spec"]["template"]["spec"]["volumes"].pop(1))
    with_finalizers = _web()
    with_finalizers["metadata"]["finalizers"] = ["a.io/x", "b.io/y"]
    case("finalizer remove", with_finalizers, lambda m: m["metadata"]["finalizers"].pop(0))
    case("finalizer add", with_finalizers, lambda m: m["metadata"]["finalizers"].append("c.io/z"))
    case("finalizers reorder", with_finalizers, lambda m: m["metadata"]["finalizers"].reverse())
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "default"},
           "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80,
                                                           "targetPort": 8080},
                                                          {"name": "https", "port": 443}]}}
    for name, edit in [("svc port change", lambda m: m["spec"]["ports"][0].__setitem__(
                            "targetPort", 9090)),
                       ("svc port remove", lambda m: m["spec"]["ports"].pop()),
                       ("svc nodeport", lambda m: m["spec"].__setitem__("type", "NodePort"))]:
        modified = copy.deepcopy(svc)
        edit(modified)
        out.append((name, svc, modified, _svc_served(svc)))
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "c", "namespace": "default"}, "data": {"a": "1", "b": "2"}}
    cm_modified = copy.deepcopy(cm)
    cm_modified["data"].pop("a")
    cm_modified["data"]["c"] = "3"
    out.append(("cm data", cm, cm_modified, copy.deepcopy(cm)))
    out.append(("first apply", {}, _web(), _served(_web())))
    return out
