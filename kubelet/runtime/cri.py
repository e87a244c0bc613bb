"""CRIRuntime: the Runtime protocol over CRI ``runtime.v1`` gRPC (grpc.aio, unix socket).

The only module in pykube that speaks CRI. It translates the dataclasses of
``interface.py`` to and from protobuf messages and gRPC errors to ``NotFoundError`` /
``RuntimeServiceError``; it keeps no state besides the channel, so any number of
instances (a kubelet, a test, ``pykube killall``) may talk to the same containerd.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
import grpc.aio

from kubelet.runtime.cri_pb import api_pb2 as pb
from kubelet.runtime.cri_pb import api_pb2_grpc as pb_grpc
from kubelet.runtime.interface import (
    PullAuth,
    Container,
    ContainerConfig,
    ContainerState,
    ContainerStatus,
    ExecResult,
    ImageInfo,
    NotFoundError,
    PodSandbox,
    Resources,
    RuntimeCondition,
    RuntimeServiceError,
    SandboxConfig,
    SandboxState,
    SandboxStatus,
    StreamOptions,
    VersionInfo,
    container_labels,
    sandbox_labels,
)

CRI_API_VERSION = "v1"
_MAX_MESSAGE = 40 * 1024 * 1024  # ExecSync may return 16 MiB of stdout and of stderr
_PROPAGATION = {
    "private": pb.PROPAGATION_PRIVATE,
    "host-to-container": pb.PROPAGATION_HOST_TO_CONTAINER,
    "bidirectional": pb.PROPAGATION_BIDIRECTIONAL,
}
_CONTAINER_STATE = {
    pb.CONTAINER_CREATED: ContainerState.CREATED,
    pb.CONTAINER_RUNNING: ContainerState.RUNNING,
    pb.CONTAINER_EXITED: ContainerState.EXITED,
    pb.CONTAINER_UNKNOWN: ContainerState.UNKNOWN,
}
_CONTAINER_STATE_PB = {v: k for k, v in _CONTAINER_STATE.items()}
_SANDBOX_STATE = {pb.SANDBOX_READY: SandboxState.READY, pb.SANDBOX_NOTREADY: SandboxState.NOTREADY}
_SANDBOX_STATE_PB = {v: k for k, v in _SANDBOX_STATE.items()}


def _time(ns: int) -> datetime | None:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC) if ns else None


def _created(ns: int) -> datetime:
    return _time(ns) or datetime.fromtimestamp(0, tz=UTC)


def _resources_pb(r: Resources) -> Any:
    return pb.LinuxContainerResources(
        cpu_period=r.cpu_period,
        cpu_quota=r.cpu_quota,
        cpu_shares=r.cpu_shares,
        memory_limit_in_bytes=r.memory_limit_in_bytes,
        oom_score_adj=r.oom_score_adj,
    )


def sandbox_config_pb(c: SandboxConfig) -> Any:
    node, pod = pb.NODE, pb.POD
    ns = pb.NamespaceOption(
        network=node if c.host_network else pod,
        pid=node if c.host_pid else pb.CONTAINER,
        ipc=node if c.host_ipc else pod,
    )
    dns = c.dns
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(
            name=c.name, uid=c.uid, namespace=c.namespace, attempt=c.attempt
        ),
        hostname=c.hostname,
        log_directory=c.log_directory,
        dns_config=pb.DNSConfig(servers=dns.servers, searches=dns.searches, options=dns.options)
        if dns
        else None,
        port_mappings=[
            pb.PortMapping(
                protocol=pb.Protocol.Value(p.protocol.upper()),
                container_port=p.container_port,
                host_port=p.host_port,
                host_ip=p.host_ip,
            )
            for p in c.port_mappings
        ],
        labels=sandbox_labels(c),
        annotations=c.annotations,
        linux=pb.LinuxPodSandboxConfig(
            cgroup_parent=c.cgroup_parent,
            security_context=pb.LinuxSandboxSecurityContext(
                namespace_options=ns, privileged=c.privileged
            ),
            sysctls=c.sysctls,
        ),
    )


def container_config_pb(c: ContainerConfig, sandbox: SandboxConfig) -> Any:
    sc = pb.LinuxContainerSecurityContext(
        capabilities=pb.Capability(
            add_capabilities=c.add_capabilities, drop_capabilities=c.drop_capabilities
        ),
        privileged=c.privileged,
        namespace_options=pb.NamespaceOption(
            network=pb.NODE if sandbox.host_network else pb.POD,
            pid=pb.NODE if sandbox.host_pid else pb.TARGET if c.pid_target_id else pb.CONTAINER,
            ipc=pb.NODE if sandbox.host_ipc else pb.POD,
            target_id=c.pid_target_id if c.pid_target_id and not sandbox.host_pid else "",
        ),
        readonly_rootfs=c.readonly_rootfs,
    )
    if c.run_as_user is not None:
        sc.run_as_user.value = c.run_as_user
    if c.run_as_group is not None:
        sc.run_as_group.value = c.run_as_group
    return pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=c.name, attempt=c.attempt),
        image=pb.ImageSpec(image=c.image),
        command=c.command,
        args=c.args,
        working_dir=c.working_dir,
        envs=[pb.KeyValue(key=k, value=v) for k, v in c.envs.items()],
        mounts=[
            pb.Mount(
                container_path=m.container_path,
                host_path=m.host_path,
                readonly=m.readonly,
                propagation=_PROPAGATION[m.propagation],
            )
            for m in c.mounts
        ],
        labels=container_labels(c, sandbox),
        annotations=c.annotations,
        log_path=c.log_path,
        stdin=c.stdin,
        stdin_once=c.stdin_once,
        tty=c.tty,
        linux=pb.LinuxContainerConfig(
            resources=_resources_pb(c.resources) if c.resources else None,
            security_context=sc,
        ),
    )


def _image_info(img: Any) -> ImageInfo:
    return ImageInfo(
        id=img.id,
        repo_tags=list(img.repo_tags),
        repo_digests=list(img.repo_digests),
        size=img.size,
    )


class CRIRuntime:
    """A Runtime backed by a CRI server (containerd) on ``unix://<socket>``."""

    def __init__(self, address: str, timeout: float = 60.0) -> None:
        self.address = address if "://" in address else f"unix://{address}"
        self.timeout = timeout
        self._channel: grpc.aio.Channel | None = None
        self._rt: Any = None
        self._img: Any = None

    def _stubs(self) -> tuple[Any, Any]:
        if self._channel is None:
            opts = [
                ("grpc.max_receive_message_length", _MAX_MESSAGE),
                ("grpc.max_send_message_length", _MAX_MESSAGE),
            ]
            self._channel = grpc.aio.insecure_channel(self.address, options=opts)
            self._rt = pb_grpc.RuntimeServiceStub(self._channel)
            self._img = pb_grpc.ImageServiceStub(self._channel)
        return self._rt, self._img

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    async def _rpc(self, service: str, method: str, request: Any, timeout: float | None = None) -> Any:
        rt, img = self._stubs()
        stub = rt if service == "runtime" else img
        try:
            return await getattr(stub, method)(request, timeout=timeout or self.timeout)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFoundError(e.details() or "not found") from None
            raise RuntimeServiceError(f"{method}: {e.code().name}: {e.details()}") from None

    # ---- runtime --------------------------------------------------------------

    async def version(self) -> VersionInfo:
        r = await self._rpc("runtime", "Version", pb.VersionRequest(version=CRI_API_VERSION))
        return VersionInfo(r.runtime_name, r.runtime_version, r.runtime_api_version)

    async def status(self) -> list[RuntimeCondition]:
        r = await self._rpc("runtime", "Status", pb.StatusRequest())
        return [
            RuntimeCondition(c.type, c.status, c.reason, c.message) for c in r.status.conditions
        ]

    # ---- sandboxes ------------------------------------------------------------

    async def run_pod_sandbox(self, config: SandboxConfig) -> str:
        req = pb.RunPodSandboxRequest(config=sandbox_config_pb(config))
        r = await self._rpc("runtime", "RunPodSandbox", req, timeout=max(self.timeout, 240))
        return str(r.pod_sandbox_id)

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        try:
            await self._rpc("runtime", "StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=sandbox_id))
        except NotFoundError:
            pass  # already gone: stopping is idempotent

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        try:
            await self._rpc("runtime", "RemovePodSandbox", pb.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id))
        except NotFoundError:
            pass

    async def pod_sandbox_status(self, sandbox_id: str) -> SandboxStatus:
        r = await self._rpc("runtime", "PodSandboxStatus", pb.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id))
        s = r.status
        return SandboxStatus(
            id=s.id,
            name=s.metadata.name,
            namespace=s.metadata.namespace,
            uid=s.metadata.uid,
            attempt=s.metadata.attempt,
            state=_SANDBOX_STATE[s.state],
            created_at=_created(s.created_at),
            labels=dict(s.labels),
            annotations=dict(s.annotations),
            ip=s.network.ip,
            additional_ips=[a.ip for a in s.network.additional_ips],
        )

    async def list_pod_sandboxes(
        self, labels: dict[str, str] | None = None, state: SandboxState | None = None
    ) -> list[PodSandbox]:
        f = pb.PodSandboxFilter(label_selector=labels or {})
        if state is not None:
            f.state.state = _SANDBOX_STATE_PB[state]
        r = await self._rpc("runtime", "ListPodSandbox", pb.ListPodSandboxRequest(filter=f))
        return [
            PodSandbox(
                id=s.id,
                name=s.metadata.name,
                namespace=s.metadata.namespace,
                uid=s.metadata.uid,
                attempt=s.metadata.attempt,
                state=_SANDBOX_STATE[s.state],
                created_at=_created(s.created_at),
                labels=dict(s.labels),
                annotations=dict(s.annotations),
            )
            for s in r.items
        ]

    # ---- containers -----------------------------------------------------------

    async def create_container(
        self, sandbox_id: str, config: ContainerConfig, sandbox_config: SandboxConfig
    ) -> str:
        req = pb.CreateContainerRequest(
            pod_sandbox_id=sandbox_id,
            config=container_config_pb(config, sandbox_config),
            sandbox_config=sandbox_config_pb(sandbox_config),
        )
        r = await self._rpc("runtime", "CreateContainer", req, timeout=max(self.timeout, 240))
        return str(r.container_id)

    async def start_container(self, container_id: str) -> None:
        await self._rpc("runtime", "StartContainer", pb.StartContainerRequest(container_id=container_id))

    async def stop_container(self, container_id: str, timeout: int = 0) -> None:
        req = pb.StopContainerRequest(container_id=container_id, timeout=timeout)
        await self._rpc("runtime", "StopContainer", req, timeout=self.timeout + timeout)

    async def remove_container(self, container_id: str) -> None:
        try:
            await self._rpc("runtime", "RemoveContainer", pb.RemoveContainerRequest(container_id=container_id))
        except NotFoundError:
            pass

    async def list_containers(
        self,
        sandbox_id: str | None = None,
        labels: dict[str, str] | None = None,
        state: ContainerState | None = None,
    ) -> list[Container]:
        f = pb.ContainerFilter(pod_sandbox_id=sandbox_id or "", label_selector=labels or {})
        if state is not None:
            f.state.state = _CONTAINER_STATE_PB[state]
        r = await self._rpc("runtime", "ListContainers", pb.ListContainersRequest(filter=f))
        return [
            Container(
                id=c.id,
                sandbox_id=c.pod_sandbox_id,
                name=c.metadata.name,
                attempt=c.metadata.attempt,
                image=c.image.image,
                image_ref=c.image_ref,
                state=_CONTAINER_STATE[c.state],
                created_at=_created(c.created_at),
                labels=dict(c.labels),
                annotations=dict(c.annotations),
            )
            for c in r.containers
        ]

    async def container_status(self, container_id: str) -> ContainerStatus:
        r = await self._rpc("runtime", "ContainerStatus", pb.ContainerStatusRequest(container_id=container_id))
        s = r.status
        return ContainerStatus(
            id=s.id,
            name=s.metadata.name,
            attempt=s.metadata.attempt,
            state=_CONTAINER_STATE[s.state],
            created_at=_created(s.created_at),
            started_at=_time(s.started_at),
            finished_at=_time(s.finished_at),
            exit_code=s.exit_code,
            image=s.image.image,
            image_ref=s.image_ref,
            reason=s.reason,
            message=s.message,
            log_path=s.log_path,
            labels=dict(s.labels),
            annotations=dict(s.annotations),
        )

    async def update_container_resources(self, container_id: str, resources: Resources) -> None:
        req = pb.UpdateContainerResourcesRequest(container_id=container_id, linux=_resources_pb(resources))
        await self._rpc("runtime", "UpdateContainerResources", req)

    async def exec_sync(self, container_id: str, cmd: list[str], timeout: int = 10) -> ExecResult:
        req = pb.ExecSyncRequest(container_id=container_id, cmd=cmd, timeout=timeout)
        deadline = timeout + self.timeout if timeout else None
        r = await self._rpc("runtime", "ExecSync", req, timeout=deadline)
        return ExecResult(exit_code=r.exit_code, stdout=bytes(r.stdout), stderr=bytes(r.stderr))

    # ---- streaming (URLs on containerd's streaming server) -----------------------

    async def exec(self, container_id: str, cmd: list[str], opts: StreamOptions) -> str:
        req = pb.ExecRequest(container_id=container_id, cmd=cmd, tty=opts.tty, stdin=opts.stdin,
                             stdout=opts.stdout, stderr=opts.stderr and not opts.tty)
        return str((await self._rpc("runtime", "Exec", req)).url)

    async def attach(self, container_id: str, opts: StreamOptions) -> str:
        req = pb.AttachRequest(container_id=container_id, tty=opts.tty, stdin=opts.stdin,
                               stdout=opts.stdout, stderr=opts.stderr and not opts.tty)
        return str((await self._rpc("runtime", "Attach", req)).url)

    async def port_forward(self, sandbox_id: str, ports: list[int]) -> str:
        req = pb.PortForwardRequest(pod_sandbox_id=sandbox_id, port=ports)
        return str((await self._rpc("runtime", "PortForward", req)).url)

    # ---- images ---------------------------------------------------------------

    async def image_status(self, image: str) -> ImageInfo | None:
        r = await self._rpc("image", "ImageStatus", pb.ImageStatusRequest(image=pb.ImageSpec(image=image)))
        return _image_info(r.image) if r.HasField("image") else None

    async def pull_image(self, image: str, auth: PullAuth | None = None) -> str:
        req = pb.PullImageRequest(image=pb.ImageSpec(image=image))
        if auth is not None:
            req.auth.CopyFrom(pb.AuthConfig(username=auth.username, password=auth.password))
        r = await self._rpc("image", "PullImage", req, timeout=max(self.timeout, 600))
        return str(r.image_ref)

    async def list_images(self) -> list[ImageInfo]:
        r = await self._rpc("image", "ListImages", pb.ListImagesRequest())
        return [_image_info(i) for i in r.images]

    async def remove_image(self, image: str) -> None:
        try:
            await self._rpc("image", "RemoveImage", pb.RemoveImageRequest(image=pb.ImageSpec(image=image)))
        except NotFoundError:
            pass
