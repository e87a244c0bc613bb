"""FakeRuntime: the hollow-node runtime (as kubemark's), no containers at all.

Owns in-memory sandboxes, containers and images that behave, through the Runtime
protocol, like containerd's (same states, exit codes, reasons, list filters, errors,
identity labels; see interface.py). Sandboxes get IPs from the node's pod CIDR (the
first host address is the bridge gateway, as with the CNI bridge) and give them back
when stopped. A container's life is planned from its command line by ``fakeproc.plan``
(``sh -c "echo hi; exit 3"`` exits 3, most things run until stopped); its state is
computed lazily when read, so there are no tasks or timers per container and hundreds
of pods cost a few KiB each. Optional delays make RunPodSandbox and StartContainer
take time like a real node. Log lines planned by ``echo`` are written in the CRI log
format when the pod has a log directory.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kubelet.runtime.fakeproc import FakeProcess, answer_exec, plan
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
    StreamingUnsupported,
    StreamOptions,
    VersionInfo,
    container_labels,
    exit_reason,
    labels_match,
    normalize_image,
    sandbox_labels,
)

SIGKILL_EXIT, SIGTERM_EXIT = 137, 143
CANNED_EXEC = ExecResult(0)


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex  # 64 hex digits, like containerd's ids


@dataclass
class _Sandbox:
    id: str
    config: SandboxConfig
    labels: dict[str, str]
    created_at: datetime
    ip: str
    state: SandboxState = SandboxState.READY


@dataclass
class _Container:
    id: str
    sandbox_id: str
    config: ContainerConfig
    labels: dict[str, str]
    image: ImageInfo
    log_path: str
    process: FakeProcess
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int = 0

    @property
    def image_name(self) -> str:
        return self.image.repo_tags[0] if self.image.repo_tags else self.config.image

    def state(self, now: datetime) -> ContainerState:
        """Lazily let a planned exit happen, then report the state."""
        if self.finished_at is None and self.started_at is not None and self.process.exit_code is not None:
            exit_at = self.started_at + timedelta(seconds=self.process.runs_for)
            if now >= exit_at:
                self.finished_at, self.exit_code = exit_at, self.process.exit_code
        if self.finished_at is not None:
            return ContainerState.EXITED
        return ContainerState.RUNNING if self.started_at is not None else ContainerState.CREATED


def _image_info(ref: str) -> ImageInfo:
    """A stable made-up identity for an image reference (ids and digests are hashes)."""
    name = normalize_image(ref)
    repo, _, digest = name.partition("@")
    if not digest:
        repo = repo.rsplit(":", 1)[0]
        digest = "sha256:" + hashlib.sha256(f"manifest {name}".encode()).hexdigest()
    return ImageInfo(
        id="sha256:" + hashlib.sha256(f"config {name}".encode()).hexdigest(),
        repo_tags=[] if "@" in name else [name],
        repo_digests=[f"{repo}@{digest}"],
        size=1 << 20,
    )


class IPPool:
    """Pod IPs from a CIDR, handed out round-robin as host-local does; the first host
    address is the gateway and never handed out."""

    def __init__(self, cidr: str) -> None:
        self.network = ipaddress.ip_network(cidr)
        base = int(self.network.network_address)
        self._first, self._last = base + 2, base + self.network.num_addresses - 2
        self._next = self._first
        self._used: set[int] = set()

    @property
    def allocated(self) -> set[str]:
        return {str(ipaddress.ip_address(i)) for i in self._used}

    def allocate(self) -> str:
        for _ in range(max(0, self._last - self._first + 1)):
            ip, self._next = self._next, self._next + 1 if self._next < self._last else self._first
            if ip not in self._used:
                self._used.add(ip)
                return str(ipaddress.ip_address(ip))
        raise RuntimeServiceError(f"no free IP left in {self.network}")

    def release(self, ip: str) -> None:
        self._used.discard(int(ipaddress.ip_address(ip)))


class FakeRuntime:
    """An in-memory Runtime for hollow nodes and tests."""

    def __init__(
        self,
        pod_cidr: str = "10.244.0.0/24",
        images: Iterable[str] = (),
        sandbox_delay: float = 0.0,
        start_delay: float = 0.0,
        exec_result: ExecResult = CANNED_EXEC,
        pull_failures: Iterable[str] = (),
        planner: Callable[[list[str]], FakeProcess] = plan,
    ) -> None:
        self.ips = IPPool(pod_cidr)
        self.sandbox_delay = sandbox_delay
        self.start_delay = start_delay
        self.exec_result = exec_result
        self.pull_auths: list[tuple[str, PullAuth | None]] = []  # every pull, with its credentials
        self.pull_failures = {normalize_image(i) for i in pull_failures}
        self.planner = planner
        self._images: dict[str, ImageInfo] = {}
        self._sandboxes: dict[str, _Sandbox] = {}
        self._containers: dict[str, _Container] = {}
        for ref in images:
            self._add_image(ref)

    def _add_image(self, ref: str) -> ImageInfo:
        info = _image_info(ref)
        self._images[normalize_image(ref)] = info
        return info

    def _sandbox(self, sandbox_id: str) -> _Sandbox:
        try:
            return self._sandboxes[sandbox_id]
        except KeyError:
            raise NotFoundError(f"sandbox {sandbox_id!r}: not found") from None

    def _container(self, container_id: str) -> _Container:
        try:
            return self._containers[container_id]
        except KeyError:
            raise NotFoundError(f"container {container_id!r}: not found") from None

    # ---- runtime --------------------------------------------------------------

    async def version(self) -> VersionInfo:
        return VersionInfo("pykube-fake", "0.1.0", "v1")

    async def status(self) -> list[RuntimeCondition]:
        return [RuntimeCondition("RuntimeReady", True), RuntimeCondition("NetworkReady", True)]

    async def close(self) -> None:
        return None

    # ---- sandboxes ------------------------------------------------------------

    async def run_pod_sandbox(self, config: SandboxConfig) -> str:
        if self.sandbox_delay:
            await asyncio.sleep(self.sandbox_delay)
        ip = "" if config.host_network else self.ips.allocate()
        sb = _Sandbox(_new_id(), replace(config), sandbox_labels(config), _now(), ip)
        self._sandboxes[sb.id] = sb
        return sb.id

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        sb = self._sandboxes.get(sandbox_id)
        if sb is None:
            return  # idempotent, as containerd
        now = _now()
        for c in self._containers.values():
            if c.sandbox_id == sandbox_id and c.state(now) == ContainerState.RUNNING:
                c.finished_at, c.exit_code = now, SIGKILL_EXIT
        if sb.ip:
            self.ips.release(sb.ip)
            sb.ip = ""
        sb.state = SandboxState.NOTREADY

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        if sandbox_id not in self._sandboxes:
            return
        await self.stop_pod_sandbox(sandbox_id)
        for cid in [c.id for c in self._containers.values() if c.sandbox_id == sandbox_id]:
            del self._containers[cid]
        del self._sandboxes[sandbox_id]

    def _brief(self, sb: _Sandbox) -> PodSandbox:
        c = sb.config
        return PodSandbox(
            sb.id, c.name, c.namespace, c.uid, c.attempt, sb.state, sb.created_at,
            dict(sb.labels), dict(c.annotations),
        )

    async def pod_sandbox_status(self, sandbox_id: str) -> SandboxStatus:
        sb = self._sandbox(sandbox_id)
        return SandboxStatus(**vars(self._brief(sb)), ip=sb.ip)

    async def list_pod_sandboxes(
        self, labels: dict[str, str] | None = None, state: SandboxState | None = None
    ) -> list[PodSandbox]:
        return [
            self._brief(sb)
            for sb in self._sandboxes.values()
            if labels_match(sb.labels, labels) and (state is None or sb.state == state)
        ]

    # ---- containers -----------------------------------------------------------

    async def create_container(
        self, sandbox_id: str, config: ContainerConfig, sandbox_config: SandboxConfig
    ) -> str:
        sb = self._sandbox(sandbox_id)
        if sb.state != SandboxState.READY:
            raise RuntimeServiceError(f"sandbox {sandbox_id!r} is not ready")
        image = self._images.get(normalize_image(config.image))
        if image is None:
            raise RuntimeServiceError(f"failed to get image {config.image!r}: not found")
        log_path = ""
        if config.log_path and sandbox_config.log_directory:
            log_path = str(Path(sandbox_config.log_directory) / config.log_path)
        c = _Container(
            id=_new_id(),
            sandbox_id=sandbox_id,
            config=replace(config),
            labels=container_labels(config, sandbox_config),
            image=image,
            log_path=log_path,
            process=self.planner([*config.command, *config.args]),
            created_at=_now(),
        )
        self._containers[c.id] = c
        return c.id

    async def start_container(self, container_id: str) -> None:
        c = self._container(container_id)
        state = c.state(_now())
        if state != ContainerState.CREATED:
            raise RuntimeServiceError(f"container {container_id!r} is in CONTAINER_{state.value} state")
        if self.start_delay:
            await asyncio.sleep(self.start_delay)
        c.started_at = _now()
        if c.log_path and c.process.output:
            _write_log(Path(c.log_path), c.started_at, c.process.output)

    async def stop_container(self, container_id: str, timeout: int = 0) -> None:
        c = self._container(container_id)
        now = _now()
        if c.state(now) == ContainerState.RUNNING:
            c.finished_at, c.exit_code = now, SIGTERM_EXIT if timeout > 0 else SIGKILL_EXIT

    async def remove_container(self, container_id: str) -> None:
        self._containers.pop(container_id, None)

    async def list_containers(
        self,
        sandbox_id: str | None = None,
        labels: dict[str, str] | None = None,
        state: ContainerState | None = None,
    ) -> list[Container]:
        now = _now()
        out = []
        for c in self._containers.values():
            st = c.state(now)
            if sandbox_id and c.sandbox_id != sandbox_id:
                continue
            if not labels_match(c.labels, labels) or (state is not None and st != state):
                continue
            out.append(
                Container(
                    c.id, c.sandbox_id, c.config.name, c.config.attempt, c.image_name,
                    c.image.repo_digests[0], st, c.created_at, dict(c.labels),
                    dict(c.config.annotations),
                )
            )
        return out

    async def container_status(self, container_id: str) -> ContainerStatus:
        c = self._container(container_id)
        st = c.state(_now())
        return ContainerStatus(
            id=c.id,
            name=c.config.name,
            attempt=c.config.attempt,
            state=st,
            created_at=c.created_at,
            started_at=c.started_at,
            finished_at=c.finished_at,
            exit_code=c.exit_code,
            image=c.image_name,
            image_ref=c.image.repo_digests[0],
            reason=exit_reason(c.exit_code) if st == ContainerState.EXITED else "",
            message="",
            log_path=c.log_path,
            labels=dict(c.labels),
            annotations=dict(c.config.annotations),
        )

    async def update_container_resources(self, container_id: str, resources: Resources) -> None:
        self._container(container_id).config.resources = replace(resources)

    async def exec_sync(self, container_id: str, cmd: list[str], timeout: int = 10) -> ExecResult:
        c = self._container(container_id)
        state = c.state(_now())
        if state != ContainerState.RUNNING:
            raise RuntimeServiceError(f"failed to exec in container: container is in CONTAINER_{state.value} state")
        sb = self._sandboxes[c.sandbox_id].config
        return answer_exec(cmd, sb.hostname or sb.name, self.exec_result)

    # ---- streaming: hollow containers run no process to talk to ------------------

    async def exec(self, container_id: str, cmd: list[str], opts: StreamOptions) -> str:
        self._container(container_id)
        raise StreamingUnsupported("streaming exec is not supported by the hollow runtime (only ExecSync)")

    async def attach(self, container_id: str, opts: StreamOptions) -> str:
        self._container(container_id)
        raise StreamingUnsupported("attach is not supported by the hollow runtime")

    async def port_forward(self, sandbox_id: str, ports: list[int]) -> str:
        if sandbox_id not in self._sandboxes:
            raise NotFoundError(f"sandbox {sandbox_id} not found")
        raise StreamingUnsupported("port-forward is not supported by the hollow runtime")

    # ---- images ---------------------------------------------------------------

    async def image_status(self, image: str) -> ImageInfo | None:
        return self._images.get(normalize_image(image))

    async def pull_image(self, image: str, auth: PullAuth | None = None) -> str:
        self.pull_auths.append((image, auth))
        if normalize_image(image) in self.pull_failures:
            raise RuntimeServiceError(f"failed to pull and unpack image {image!r}: not found")
        info = self._images.get(normalize_image(image)) or self._add_image(image)
        return info.repo_digests[0]

    async def list_images(self) -> list[ImageInfo]:
        return list(self._images.values())

    async def remove_image(self, image: str) -> None:
        self._images.pop(normalize_image(image), None)

    # ---- for tests and hollow-node metrics -------------------------------------

    @property
    def counts(self) -> dict[str, int]:
        return {"sandboxes": len(self._sandboxes), "containers": len(self._containers)}


def _write_log(path: Path, at: datetime, lines: list[tuple[str, str]]) -> None:
    """Append lines in the CRI log format: ``<RFC3339Nano> <stream> F <line>``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    with path.open("a") as f:
        f.writelines(f"{stamp} {stream} F {line}\n" for stream, line in lines)
