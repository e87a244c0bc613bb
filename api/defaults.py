"""Defaulting: fill in what Kubernetes fills in before validation, on the wire dict, in place.

One function per kind, dispatched by `apply_defaults(resource, obj)`. The rules follow
Kubernetes' `SetDefaults_*` functions (pkg/apis/core/v1/defaults.go, pkg/apis/apps/v1) plus
the few values the real apiserver's registry sets on create that clients rely on seeing
(Service ipFamilies/ipFamilyPolicy, Secret stringData folded into data). Defaulting never
overwrites a value the user gave and is idempotent. Admission-time values (default
tolerations, service account, priority) are not set here.
"""
from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from api.resources import ResourceInfo

Obj = dict[str, Any]

DEFAULT_MODE = 0o644  # 420, for configMap/secret/projected/downwardAPI volumes


def _sub(parent: Obj, key: str) -> Obj:
    """parent[key] as a dict, created empty when missing or null."""
    value = parent.get(key)
    if not isinstance(value, dict):
        value = {}
        parent[key] = value
    return value


def _items(parent: Any, key: str) -> list[Obj]:
    if not isinstance(parent, dict):
        return []
    return [x for x in parent.get(key) or [] if isinstance(x, dict)]


# ---------------------------------------------------------------- pods
def _pull_policy(image: str) -> str:
    """Always for tag `latest` or no tag and no digest, IfNotPresent otherwise."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else ""
    if not tag and not digest:
        tag = "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _default_handler(handler: Any) -> None:
    if not isinstance(handler, dict):
        return
    http_get = handler.get("httpGet")
    if isinstance(http_get, dict):
        http_get.setdefault("path", "/")
        http_get.setdefault("scheme", "HTTP")


def _default_probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    _default_handler(probe)
    grpc = probe.get("grpc")
    if isinstance(grpc, dict):
        grpc.setdefault("service", "")


def _default_container(c: Obj, host_network: bool) -> None:
    image = c.get("image")
    if isinstance(image, str) and image and not c.get("imagePullPolicy"):
        c["imagePullPolicy"] = _pull_policy(image)
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})   # as Kubernetes stores it: rollbacks then hash equal
    for port in _items(c, "ports"):
        port.setdefault("protocol", "TCP")
        if host_network and not port.get("hostPort") and port.get("containerPort"):
            port["hostPort"] = port["containerPort"]
    for env in _items(c, "env"):
        field_ref = (env.get("valueFrom") or {}).get("fieldRef")
        if isinstance(field_ref, dict):
            field_ref.setdefault("apiVersion", "v1")
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(c.get(name))
    lifecycle = c.get("lifecycle")
    if isinstance(lifecycle, dict):
        _default_handler(lifecycle.get("postStart"))
        _default_handler(lifecycle.get("preStop"))
    resources = c.get("resources")
    if isinstance(resources, dict) and isinstance(resources.get("limits"), dict):
        requests = _sub(resources, "requests")
        for res, qty in resources["limits"].items():
            requests.setdefault(res, qty)


_VOLUME_SOURCES = (
    "emptyDir", "hostPath", "configMap", "secret", "projected", "downwardAPI",
    "persistentVolumeClaim", "nfs", "csi", "ephemeral", "iscsi", "image",
)


def _default_volume(v: Obj) -> None:
    if not any(v.get(src) is not None for src in _VOLUME_SOURCES):
        v["emptyDir"] = {}
    for src in ("configMap", "secret", "projected", "downwardAPI"):
        source = v.get(src)
        if isinstance(source, dict):
            source.setdefault("defaultMode", DEFAULT_MODE)
    host_path = v.get("hostPath")
    if isinstance(host_path, dict):
        host_path.setdefault("type", "")


def default_pod_spec(spec: Obj) -> None:
    """Kubernetes' SetDefaults_PodSpec and the per-container/volume defaults under it."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    host_network = bool(spec.get("hostNetwork"))
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for c in _items(spec, key):
            _default_container(c, host_network)
    for v in _items(spec, "volumes"):
        _default_volume(v)


def default_pod_template(template: Any) -> None:
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        default_pod_spec(template["spec"])


def _pod(obj: Obj) -> None:
    """SetDefaults_Pod: the spec's defaults, and enableServiceLinks (set on pods only, never
    on the pod templates of workloads)."""
    if isinstance(obj.get("spec"), dict):
        default_pod_spec(obj["spec"])
        obj["spec"].setdefault("enableServiceLinks", True)


# ---------------------------------------------------------------- workloads
def _deployment(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    spec.setdefault("replicas", 1)
    strategy = _sub(spec, "strategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _sub(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    default_pod_template(spec.get("template"))


def _replica_set(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    spec.setdefault("replicas", 1)
    default_pod_template(spec.get("template"))


def _replication_controller(obj: Obj) -> None:
    """SetDefaults_ReplicationController: selector and labels from the template's labels."""
    spec = _sub(obj, "spec")
    template = spec.get("template")
    labels = (template.get("metadata") or {}).get("labels") if isinstance(template, dict) else None
    if labels:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        meta = _sub(obj, "metadata")
        if not meta.get("labels"):
            meta["labels"] = dict(labels)
    spec.setdefault("replicas", 1)
    default_pod_template(template)


# ---------------------------------------------------------------- batch
def default_job_labels(obj: Obj) -> None:
    """A Job without labels takes its pod template's (part of SetDefaults_Job)."""
    template = (obj.get("spec") or {}).get("template")
    labels = (template.get("metadata") or {}).get("labels") if isinstance(template, dict) else None
    meta = _sub(obj, "metadata")
    if labels and not meta.get("labels"):
        meta["labels"] = dict(labels)


def _job(obj: Obj) -> None:
    """SetDefaults_Job (pkg/apis/batch/v1/defaults.go)."""
    spec = _sub(obj, "spec")
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 6
    default_job_labels(obj)
    if spec.get("completionMode") is None:
        spec["completionMode"] = "NonIndexed"
    if spec.get("suspend") is None:
        spec["suspend"] = False
    policy = spec.get("podFailurePolicy")
    for rule in _items(policy, "rules"):
        for pattern in _items(rule, "onPodConditions"):
            if not pattern.get("status"):
                pattern["status"] = "True"
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if isinstance(policy, dict) else "TerminatingOrFailed"
    default_pod_template(spec.get("template"))


def _cron_job(obj: Obj) -> None:
    """SetDefaults_CronJob; the job template's pod spec gets the pod defaults."""
    spec = _sub(obj, "spec")
    if not spec.get("concurrencyPolicy"):
        spec["concurrencyPolicy"] = "Allow"
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("successfulJobsHistoryLimit") is None:
        spec["successfulJobsHistoryLimit"] = 3
    if spec.get("failedJobsHistoryLimit") is None:
        spec["failedJobsHistoryLimit"] = 1
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict) and isinstance(job_template.get("spec"), dict):
        default_pod_template(job_template["spec"].get("template"))


# ---------------------------------------------------------------- services
def _service(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["sessionAffinity"] == "ClientIP":
        client_ip = _sub(_sub(spec, "sessionAffinityConfig"), "clientIP")
        client_ip.setdefault("timeoutSeconds", 10800)
    for port in _items(spec, "ports"):
        port.setdefault("protocol", "TCP")
        if port.get("targetPort") in (None, 0, "") and "port" in port:
            port["targetPort"] = port["port"]
    svc_type = spec["type"]
    if svc_type != "ExternalName":
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        if not spec.get("ipFamilies"):
            spec["ipFamilies"] = ["IPv4"]
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if svc_type in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if svc_type == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)


def _endpoints(obj: Obj) -> None:
    for subset in _items(obj, "subsets"):
        for port in _items(subset, "ports"):
            port.setdefault("protocol", "TCP")


# ---------------------------------------------------------------- cluster objects and config
def _namespace(obj: Obj) -> None:
    name = (obj.get("metadata") or {}).get("name")
    if name:
        _sub(_sub(obj, "metadata"), "labels").setdefault("kubernetes.io/metadata.name", name)
    spec = _sub(obj, "spec")
    if not spec.get("finalizers"):
        spec["finalizers"] = ["kubernetes"]
    _sub(obj, "status").setdefault("phase", "Active")


def _node(obj: Obj) -> None:
    status = obj.get("status")
    if isinstance(status, dict) and status.get("capacity") and not status.get("allocatable"):
        status["allocatable"] = dict(status["capacity"])


def _secret(obj: Obj) -> None:
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = _sub(obj, "data")
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


_DEFAULTERS: dict[str, Callable[[Obj], None]] = {
    "Pod": _pod,
    "Deployment": _deployment,
    "ReplicaSet": _replica_set,
    "ReplicationController": _replication_controller,
    "Job": _job,
    "CronJob": _cron_job,
    "Service": _service,
    "Endpoints": _endpoints,
    "Namespace": _namespace,
    "Node": _node,
    "Secret": _secret,
}


def _workload_defaulters() -> dict[str, Callable[[Obj], None]]:
    from api.defaults_workloads import DEFAULTERS   # it builds on this module's helpers
    return DEFAULTERS


def apply_defaults(resource: ResourceInfo, obj: Obj) -> None:
    """Fill Kubernetes' defaults into `obj` (a wire dict of `resource`'s kind), in place."""
    defaulter = _DEFAULTERS.get(resource.kind) or _workload_defaulters().get(resource.kind)
    if defaulter is not None:
        defaulter(obj)


__all__ = ["apply_defaults", "default_job_labels", "default_pod_spec", "default_pod_template"]
