"""Core (v1) kinds besides Pod (api/models/pod.py): Namespace, Node, Service, Endpoints,
ConfigMap, Secret, Event, ServiceAccount, plus the Binding and Status bodies the REST
layer exchanges. The pod types are re-exported here.

Field names follow Kubernetes (`podIP`, `clusterIP`, `podCIDR` keep their upper-case
spelling through explicit aliases). Only what pykube interprets is modelled in depth.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.models.base import K8sModel, K8sObject, LabelSelector, ObjectMeta, Quantity
from api.models.base import IntOrString
from api.models.pod import (ContainerPort, ObjectFieldSelector, KeySelector,
                             ResourceFieldSelector, EnvVarSource, EnvVar, EnvFromSource,
                             ResourceRequirements, VolumeMount, HTTPHeader, HTTPGetAction,
                             TCPSocketAction, ExecAction, Probe, Container, EphemeralContainer, KeyToPath,
                             ConfigMapVolumeSource, SecretVolumeSource,
                             HostPathVolumeSource, EmptyDirVolumeSource, Volume,
                             Toleration, NodeSelectorRequirement, NodeSelectorTerm,
                             NodeSelector, PreferredSchedulingTerm, NodeAffinity, Affinity,
                             PodDNSConfig, PodSpec, ContainerStateWaiting,
                             ContainerStateRunning, ContainerStateTerminated,
                             ContainerState, ContainerStatus, PodCondition, PodIP,
                             PodStatus, PodTemplateSpec, Pod)  # re-exported (F401 off for this file)


# ---------------------------------------------------------------- services and endpoints
class ServicePort(K8sModel):
    name: str | None = None
    protocol: str | None = None
    app_protocol: str | None = None
    port: int
    target_port: IntOrString | None = None
    node_port: int | None = None


class ServiceSpec(K8sModel):
    ports: list[ServicePort] | None = None
    selector: dict[str, str] | None = None
    cluster_ip: str | None = Field(default=None, alias="clusterIP")
    cluster_ips: list[str] | None = Field(default=None, alias="clusterIPs")
    type: str | None = None
    external_ips: list[str] | None = Field(default=None, alias="externalIPs")
    session_affinity: str | None = None
    session_affinity_config: dict[str, Any] | None = None
    load_balancer_ip: str | None = Field(default=None, alias="loadBalancerIP")
    external_name: str | None = None
    external_traffic_policy: str | None = None
    internal_traffic_policy: str | None = None
    ip_families: list[str] | None = None
    ip_family_policy: str | None = None
    publish_not_ready_addresses: bool | None = None
    allocate_load_balancer_node_ports: bool | None = None
    health_check_node_port: int | None = None
    load_balancer_class: str | None = None
    load_balancer_source_ranges: list[str] | None = None
    traffic_distribution: str | None = None


class LoadBalancerIngress(K8sModel):
    ip: str | None = None
    hostname: str | None = None


class LoadBalancerStatus(K8sModel):
    ingress: list[LoadBalancerIngress] | None = None


class ServiceStatus(K8sModel):
    load_balancer: LoadBalancerStatus | None = None
    conditions: list[dict[str, Any]] | None = None


class Service(K8sObject):
    api_version: Literal["v1"] = "v1"
    kind: Literal["Service"] = "Service"
    spec: ServiceSpec | None = None
    status: ServiceStatus | None = None


class ObjectReference(K8sModel):
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    uid: str | None = None
    api_version: str | None = None
    resource_version: str | None = None
    field_path: str | None = None


class EndpointAddress(K8sModel):
    ip: str
    hostname: str | None = None
    node_name: str | None = None
    target_ref: ObjectReference | None = None


class EndpointPort(K8sModel):
    name: str | None = None
    port: int
    protocol: str | None = None
    app_protocol: str | None = None


class EndpointSubset(K8sModel):
    addresses: list[EndpointAddress] | None = None
    not_ready_addresses: list[EndpointAddress] | None = None
    ports: list[EndpointPort] | None = None


class Endpoints(K8sObject):
    api_version: Literal["v1"] = "v1"
    kind: Literal["Endpoints"] = "Endpoints"
    subsets: list[EndpointSubset] | None = None


# ---------------------------------------------------------------- nodes
class Taint(K8sModel):
    key: str
    value: str | None = None
    effect: str
    time_added: str | None = None


class NodeSpec(K8sModel):
    pod_cidr: str | None = Field(default=None, alias="podCIDR")
    pod_cidrs: list[str] | None = Field(default=None, alias="podCIDRs")
    provider_id: str | None = Field(default=None, alias="providerID")
    unschedulable: bool | None = None
    taints: list[Taint] | None = None


class NodeCondition(K8sModel):
    type: str
    status: str
    last_heartbeat_time: str | None = None
    last_transition_time: str | None = None
    reason: str | None = None
    message: str | None = None


class NodeAddress(K8sModel):
    type: str
    address: str


class DaemonEndpoint(K8sModel):
    port: int = Field(alias="Port")


class NodeDaemonEndpoints(K8sModel):
    kubelet_endpoint: DaemonEndpoint | None = None


class NodeSystemInfo(K8sModel):
    machine_id: str = Field(default="", alias="machineID")
    system_uuid: str = Field(default="", alias="systemUUID")
    boot_id: str = Field(default="", alias="bootID")
    kernel_version: str = ""
    os_image: str = ""
    container_runtime_version: str = ""
    kubelet_version: str = ""
    kube_proxy_version: str = ""
    operating_system: str = ""
    architecture: str = ""


class NodeStatus(K8sModel):
    capacity: dict[str, Quantity] | None = None
    allocatable: dict[str, Quantity] | None = None
    phase: str | None = None
    conditions: list[NodeCondition] | None = None
    addresses: list[NodeAddress] | None = None
    daemon_endpoints: NodeDaemonEndpoints | None = None
    node_info: NodeSystemInfo | None = None
    images: list[dict[str, Any]] | None = None


class Node(K8sObject):
    api_version: Literal["v1"] = "v1"
    kind: Literal["Node"] = "Node"
    spec: NodeSpec | None = None
    status: NodeStatus | None = None


# ---------------------------------------------------------------- namespaces and config
class NamespaceSpec(K8sModel):
    finalizers: list[str] | None = None


class NamespaceStatus(K8sModel):
    phase: str | None = None
    conditions: list[dict[str, Any]] | None = None


class Namespace(K8sObject):
    api_version: Literal["v1"] = "v1"
    kind: Literal["Namespace"] = "Namespace"
    spec: NamespaceSpec | None = None
    status: NamespaceStatus | None = None


class ConfigMap(K8sObject):
    api_version: Literal["v1"] = "v1"
    kind: Literal["ConfigMap"] = "ConfigMap"
    data: dict[str, str] | None = None
    binary_data: dict[str, str] | None = None
    immutable: bool | None = None


class Secret(K8sObject):
    api_version: Literal["v1"] = "v1"
    kind: Literal["Secret"] = "Secret"
    data: dict[str, str] | None = None
    string_data: dict[str, str] | None = None
    type: str | None = None
    immutable: bool | None = None


class ServiceAccount(K8sObject):
    api_version: Literal["v1"] = "v1"
    kind: Literal["ServiceAccount"] = "ServiceAccount"
    secrets: list[ObjectReference] | None = None
    image_pull_secrets: list[dict[str, Any]] | None = None
    automount_service_account_token: bool | None = None


class EventSource(K8sModel):
    component: str | None = None
    host: str | None = None


class Event(K8sObject):
    api_version: Literal["v1"] = "v1"
    kind: Literal["Event"] = "Event"
    involved_object: ObjectReference = Field(default_factory=ObjectReference)
    reason: str | None = None
    message: str | None = None
    source: EventSource | None = None
    first_timestamp: str | None = None
    last_timestamp: str | None = None
    event_time: str | None = None
    count: int | None = None
    type: str | None = None
    action: str | None = None
    reporting_component: str | None = None
    reporting_instance: str | None = None


class Binding(K8sObject):
    """Body of pods/binding; not a stored kind, so no row in the resource table."""

    api_version: str = "v1"
    kind: str = "Binding"
    target: ObjectReference = Field(default_factory=ObjectReference)


class StatusCause(K8sModel):
    reason: str | None = None
    message: str | None = None
    field: str | None = None


class StatusDetails(K8sModel):
    name: str | None = None
    group: str | None = None
    kind: str | None = None
    uid: str | None = None
    causes: list[StatusCause] | None = None
    retry_after_seconds: int | None = None


class Status(K8sModel):
    """The error (and delete) answer body."""

    api_version: str = "v1"
    kind: str = "Status"
    metadata: dict[str, Any] = Field(default_factory=dict)
    status: str | None = None
    message: str | None = None
    reason: str | None = None
    details: StatusDetails | None = None
    code: int | None = None
