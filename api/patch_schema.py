"""The strategic-merge-patch table: how each list and map of the built-in kinds is patched.

Kubernetes reads this from struct tags (`patchStrategy:"merge" patchMergeKey:"name"`); we
keep the same facts as a small table of named types. `SCHEMA[type][field]` is a PatchMeta:
the type of the field's value (or of each list item), the strategy (`merge` for lists
merged by key or unioned, `""` to replace), the merge key, and whether the field carries
`retainKeys`. Fields not listed are plain: maps merge recursively, lists are replaced.
`root_type(kind)` names the type a kind starts from; unknown kinds only know metadata.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PatchMeta:
    type: str | None = None
    strategy: str = ""
    key: str = ""
    retain_keys: bool = False


PLAIN = PatchMeta()


def _merge(key: str = "", type_: str | None = None, retain_keys: bool = False) -> PatchMeta:
    return PatchMeta(type_, "merge", key, retain_keys)


def _obj(spec: str | None, status: str | None) -> dict[str, PatchMeta]:
    fields = {"metadata": PatchMeta("ObjectMeta")}
    if spec:
        fields["spec"] = PatchMeta(spec)
    if status:
        fields["status"] = PatchMeta(status)
    return fields


_CONDITIONS = {"conditions": _merge("type")}

SCHEMA: dict[str, dict[str, PatchMeta]] = {
    "ObjectMeta": {
        "ownerReferences": _merge("uid"),
        "finalizers": _merge(),
    },
    # ---- pods
    "Pod": _obj("PodSpec", "PodStatus"),
    "PodTemplateSpec": _obj("PodSpec", None),
    "PodSpec": {
        "volumes": _merge("name", "Volume", retain_keys=True),
        "initContainers": _merge("name", "Container"),
        "containers": _merge("name", "Container"),
        "ephemeralContainers": _merge("name", "Container"),
        "imagePullSecrets": _merge("name"),
        "hostAliases": _merge("ip"),
        "topologySpreadConstraints": _merge("topologyKey"),
        "resourceClaims": _merge("name", retain_keys=True),
        "schedulingGates": _merge("name"),
    },
    "Volume": {},
    "Container": {
        "ports": _merge("containerPort"),
        "env": _merge("name"),
        "volumeMounts": _merge("mountPath"),
        "volumeDevices": _merge("devicePath"),
    },
    "PodStatus": {
        **_CONDITIONS,
        "podIPs": _merge("ip"),
        "hostIPs": _merge("ip"),
    },
    # ---- services and endpoints
    "Service": _obj("ServiceSpec", "ServiceStatus"),
    "ServiceSpec": {"ports": _merge("port")},
    "ServiceStatus": dict(_CONDITIONS),
    "Endpoints": _obj(None, None),
    # ---- nodes and namespaces
    "Node": _obj("NodeSpec", "NodeStatus"),
    "NodeSpec": {"podCIDRs": _merge()},
    "NodeStatus": {**_CONDITIONS, "addresses": _merge("type")},
    "Namespace": _obj(None, "NamespaceStatus"),
    "NamespaceStatus": dict(_CONDITIONS),
    # ---- config and identity
    "ConfigMap": _obj(None, None),
    "Secret": _obj(None, None),
    "ServiceAccount": {**_obj(None, None), "secrets": _merge("name")},
    "Event": _obj(None, None),
    "Lease": _obj(None, None),
    # ---- apps
    "Deployment": _obj("DeploymentSpec", "DeploymentStatus"),
    "DeploymentSpec": {
        "template": PatchMeta("PodTemplateSpec"),
        "strategy": PatchMeta(retain_keys=True),
    },
    "DeploymentStatus": dict(_CONDITIONS),
    "ReplicaSet": _obj("ReplicaSetSpec", "ReplicaSetStatus"),
    "ReplicaSetSpec": {"template": PatchMeta("PodTemplateSpec")},
    "ReplicaSetStatus": dict(_CONDITIONS),
    "Scale": _obj(None, None),
    "ReplicationController": _obj("ReplicationControllerSpec", "ReplicationControllerStatus"),
    "ReplicationControllerSpec": {"template": PatchMeta("PodTemplateSpec")},
    "ReplicationControllerStatus": dict(_CONDITIONS),
    # ---- batch
    "Job": _obj("JobSpec", "JobStatus"),
    "JobSpec": {"template": PatchMeta("PodTemplateSpec")},
    "JobStatus": dict(_CONDITIONS),
    "CronJob": _obj("CronJobSpec", None),
    "CronJobSpec": {"jobTemplate": PatchMeta("JobTemplateSpec")},
    "JobTemplateSpec": _obj("JobSpec", None),
    # ---- apps sets, storage, policy, discovery
    "DaemonSet": _obj("DaemonSetSpec", "DaemonSetStatus"),
    "DaemonSetSpec": {"template": PatchMeta("PodTemplateSpec"),
                      "updateStrategy": PatchMeta(retain_keys=True)},
    "DaemonSetStatus": dict(_CONDITIONS),
    "StatefulSet": _obj("StatefulSetSpec", "StatefulSetStatus"),
    "StatefulSetSpec": {"template": PatchMeta("PodTemplateSpec")},
    "StatefulSetStatus": dict(_CONDITIONS),
    "ControllerRevision": _obj(None, None),
    "PersistentVolume": _obj(None, None),
    "PersistentVolumeClaim": _obj(None, "PersistentVolumeClaimStatus"),
    "PersistentVolumeClaimStatus": dict(_CONDITIONS),
    "StorageClass": _obj(None, None),
    "PodDisruptionBudget": _obj(None, "PodDisruptionBudgetStatus"),
    "PodDisruptionBudgetStatus": dict(_CONDITIONS),
    "EndpointSlice": _obj(None, None),
    # ---- anything else: metadata only
    "Object": _obj(None, None),
}


def root_type(kind: str | None) -> str:
    """The schema type an object of `kind` starts from (`Object` for unknown kinds)."""
    return kind if kind in SCHEMA else "Object"


def lookup(type_name: str | None, field: str) -> PatchMeta:
    """How `field` of a value of `type_name` is patched (PLAIN when nothing special)."""
    if type_name is None:
        return PLAIN
    return SCHEMA.get(type_name, {}).get(field, PLAIN)


__all__ = ["PLAIN", "SCHEMA", "PatchMeta", "lookup", "root_type"]
