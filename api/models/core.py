"""Core (v1) kinds: Namespace, Node, Pod, Service, Endpoints, ConfigMap, Secret, Event,
ServiceAccount, plus the Binding and Status bodies the REST layer exchanges.

Field names follow Kubernetes (`podIP`, `clusterIP`, `podCIDR` keep their upper-case
spelling through explicit aliases). Only what pykube interprets is modelled in depth.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.models.base import K8sModel, K8sObject, LabelSelector, ObjectMeta

IntOrString = int | str


# ---------------------------------------------------------------- containers and pods
class ContainerPort(K8sModel):
    name: str | None = None
    container_port: int
    host_port: int | None = None
    host_ip: str | None = Field(default=None, alias="hostIP")
    protocol: str | None = None


class ObjectFieldSelector(K8sModel):
    api_version: str | None = None
    field_path: str


class KeySelector(K8sModel):
    name: str | None = None
    key: str
    optional: bool | None = None


class ResourceFieldSelector(K8sModel):
    container_name: str | None = None
    resource: str
    divisor: IntOrString | None = None


class EnvVarSource(K8sModel):
    field_ref: ObjectFieldSelector | None = None
    config_map_key_ref: KeySelector | None = None
    secret_key_ref: KeySelector | None = None
    resource_field_ref: ResourceFieldSelector | None = None


class EnvVar(K8sModel):
    name: str
    value: str | None = None
    value_from: EnvVarSource | None = None


class EnvFromSource(K8sModel):
    prefix: str | None = None
    config_map_ref: dict[str, Any] | None = None
    secret_ref: dict[str, Any] | None = None


class ResourceRequirements(K8sModel):
    limits: dict[str, IntOrString] | None = None
    requests: dict[str, IntOrString] | None = None


class VolumeMount(K8sModel):
    name: str
    mount_path: str
    read_only: bool | None = None
    sub_path: str | None = None


class HTTPHeader(K8sModel):
    name: str
    value: str


class HTTPGetAction(K8sModel):
    path: str | None = None
    port: IntOrString
    host: str | None = None
    scheme: str | None = None
    http_headers: list[HTTPHeader] | None = None


class TCPSocketAction(K8sModel):
    port: IntOrString
    host: str | None = None


class ExecAction(K8sModel):
    command: list[str] | None = None


class Probe(K8sModel):
    exec: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    grpc: dict[str, Any] | None = None
    initial_delay_seconds: int | None = None
    timeout_seconds: int | None = None
    period_seconds: int | None = None
    success_threshold: int | None = None
    failure_threshold: int | None = None
    termination_grace_period_seconds: int | None = None


class Container(K8sModel):
    name: str
    image: str | None = None
    command: list[str] | None = None
    args: list[str] | None = None
    working_dir: str | None = None
    ports: list[ContainerPort] | None = None
    env: list[EnvVar] | None = None
    env_from: list[EnvFromSource] | None = None
    resources: ResourceRequirements | None = None
    volume_mounts: list[VolumeMount] | None = None
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    lifecycle: dict[str, Any] | None = None
    termination_message_path: str | None = None
    termination_message_policy: str | None = None
    image_pull_policy: str | None = None
    security_context: dict[str, Any] | None = None
    stdin: bool | None = None
    stdin_once: bool | None = None
    tty: bool | None = None


class KeyToPath(K8sModel):
    key: str
    path: str
    mode: int | None = None


class ConfigMapVolumeSource(K8sModel):
    name: str | None = None
    items: list[KeyToPath] | None = None
    default_mode: int | None = None
    optional: bool | None = None


class SecretVolumeSource(K8sModel):
    secret_name: str | None = None
    items: list[KeyToPath] | None = None
    default_mode: int | None = None
    optional: bool | None = None


class HostPathVolumeSource(K8sModel):
    path: str
    type: str | None = None


class EmptyDirVolumeSource(K8sModel):
    medium: str | None = None
    size_limit: IntOrString | None = None


class Volume(K8sModel):
    name: str
    empty_dir: EmptyDirVolumeSource | None = None
    host_path: HostPathVolumeSource | None = None
    config_map: ConfigMapVolumeSource | None = None
    secret: SecretVolumeSource | None = None
    projected: dict[str, Any] | None = None
    downward_api: dict[str, Any] | None = Field(default=None, alias="downwardAPI")
    persistent_volume_claim: dict[str, Any] | None = None


class Toleration(K8sModel):
    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None
    toleration_seconds: int | None = None


class NodeSelectorRequirement(K8sModel):
    key: str
    operator: str
    values: list[str] | None = None


class NodeSelectorTerm(K8sModel):
    match_expressions: list[NodeSelectorRequirement] | None = None
    match_fields: list[NodeSelectorRequirement] | None = None


class NodeSelector(K8sModel):
    node_selector_terms: list[NodeSelectorTerm]


class PreferredSchedulingTerm(K8sModel):
    weight: int
    preference: NodeSelectorTerm


class NodeAffinity(K8sModel):
    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    preferred_during_scheduling_ignored_during_execution: list[PreferredSchedulingTerm] | None = None


class Affinity(K8sModel):
    node_affinity: NodeAffinity | None = None
    pod_affinity: dict[str, Any] | None = None
    pod_anti_affinity: dict[str, Any] | None = None


class PodDNSConfig(K8sModel):
    nameservers: list[str] | None = None
    searches: list[str] | None = None
    options: list[dict[str, Any]] | None = None


class PodSpec(K8sModel):
    containers: list[Container]
    init_containers: list[Container] | None = None
    volumes: list[Volume] | None = None
    restart_policy: str | None = None
    termination_grace_period_seconds: int | None = None
    active_deadline_seconds: int | None = None
    dns_policy: str | None = None
    dns_config: PodDNSConfig | None = None
    node_selector: dict[str, str] | None = None
    service_account_name: str | None = None
    service_account: str | None = None
    automount_service_account_token: bool | None = None
    node_name: str | None = None
    host_network: bool | None = None
    host_pid: bool | None = Field(default=None, alias="hostPID")
    host_ipc: bool | None = Field(default=None, alias="hostIPC")
    security_context: dict[str, Any] | None = None
    image_pull_secrets: list[dict[str, Any]] | None = None
    hostname: str | None = None
    subdomain: str | None = None
    affinity: Affinity | None = None
    scheduler_name: str | None = None
    tolerations: list[Toleration] | None = None
    priority_class_name: str | None = None
    priority: int | None = None
    enable_service_links: bool | None = None
    topology_spread_constraints: list[dict[str, Any]] | None = None


class ContainerStateWaiting(K8sModel):
    reason: str | None = None
    message: str | None = None


class ContainerStateRunning(K8sModel):
    started_at: str | None = None


class ContainerStateTerminated(K8sModel):
    exit_code: int
    signal: int | None = None
    reason: str | None = None
    message: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    container_id: str | None = Field(default=None, alias="containerID")


class ContainerState(K8sModel):
    waiting: ContainerStateWaiting | None = None
    running: ContainerStateRunning | None = None
    terminated: ContainerStateTerminated | None = None


class ContainerStatus(K8sModel):
    name: str
    state: ContainerState | None = None
    last_state: ContainerState | None = None
    ready: bool = False
    restart_count: int = 0
    image: str = ""
    image_id: str = Field(default="", alias="imageID")
    container_id: str | None = Field(default=None, alias="containerID")
    started: bool | None = None


class PodCondition(K8sModel):
    type: str
    status: str
    last_probe_time: str | None = None
    last_transition_time: str | None = None
    reason: str | None = None
    message: str | None = None


class PodIP(K8sModel):
    ip: str


class PodStatus(K8sModel):
    phase: str | None = None
    conditions: list[PodCondition] | None = None
    message: str | None = None
    reason: str | None = None
    host_ip: str | None = Field(default=None, alias="hostIP")
    host_ips: list[PodIP] | None = Field(default=None, alias="hostIPs")
    pod_ip: str | None = Field(default=None, alias="podIP")
    pod_ips: list[PodIP] | None = Field(default=None, alias="podIPs")
    start_time: str | None = None
    init_container_statuses: list[ContainerStatus] | None = None
    container_statuses: list[ContainerStatus] | None = None
    qos_class: str | None = None
    nominated_node_name: str | None = None


class PodTemplateSpec(K8sModel):
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: PodSpec | None = None


class Pod(K8sObject):
    api_version: Literal["v1"] = "v1"
    kind: Literal["Pod"] = "Pod"
    spec: PodSpec | None = None
    status: PodStatus | None = None


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
    capacity: dict[str, IntOrString] | None = None
    allocatable: dict[str, IntOrString] | None = None
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
