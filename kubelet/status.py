"""Pod status as Kubernetes reports it, and the manager that writes it only on change.

Owns:
- `generate_pod_status(pod, runtime_pod, ctx)`, pure: phase (Kubernetes' getPhase),
  conditions (PodReadyToStartContainers, Initialized, Ready, ContainersReady,
  PodScheduled; a condition's lastTransitionTime moves only when its status does),
  podIP(s), hostIP(s), startTime, and one containerStatus per spec container (state
  waiting / running / terminated with reason and exit code, lastState, restartCount,
  ready, started, image, imageID, containerID), in the wire (camelCase) form; the
  ephemeral containers' statuses beside them (never ready, no part of the phase).
- `StatusManager`: sends a merge patch of pods/status only when the generated status
  differs from the pod's current one (and is not the write it just made), so an
  unchanged pod costs no write.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from api.meta import now_rfc3339
from api.models.core import Pod, PodStatus
from client.errors import NotFound
from client.rest import Client
from kubelet.probes import READINESS, STARTUP
from kubelet.runtime.interface import ContainerState, ContainerStatus, SandboxState
from kubelet.runtime_pod import RuntimePod, restart_count

log = logging.getLogger("kubelet.status")

Status = dict[str, Any]


@dataclass
class StatusContext:
    """Everything besides the pod and the runtime that the status depends on."""

    host_ip: str = ""
    runtime_scheme: str = "containerd"
    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (reason, message)
    probe: Any = None  # result(container_id, kind) -> bool | None (ProbeManager)
    now: datetime | None = None

    def probe_result(self, container_id: str, kind: str, has_probe: bool) -> bool | None:
        if not has_probe:
            return True
        if self.probe is None:
            return None if kind == STARTUP else False
        result: bool | None = self.probe.result(container_id, kind)
        return result


def _ts(t: datetime | None) -> str | None:
    return now_rfc3339(t) if t is not None else None


def _terminated(st: ContainerStatus, scheme: str) -> dict[str, Any]:
    out: dict[str, Any] = {"exitCode": st.exit_code, "reason": st.reason or ("Completed" if st.exit_code == 0 else "Error"),
                           "startedAt": _ts(st.started_at), "finishedAt": _ts(st.finished_at),
                           "containerID": f"{scheme}://{st.id}"}
    if st.message:
        out["message"] = st.message
    return {"terminated": {k: v for k, v in out.items() if v is not None}}


def container_status(name: str, spec_image: str, has_readiness: bool, has_startup: bool,
                     statuses: list[ContainerStatus], ctx: StatusContext) -> dict[str, Any]:
    """The containerStatus of one spec container from its runtime instances (newest first)."""
    scheme = ctx.runtime_scheme
    cur = statuses[0] if statuses else None
    prev = statuses[1] if len(statuses) > 1 else None
    waiting = ctx.waiting.get(name)
    out: dict[str, Any] = {"name": name, "ready": False, "restartCount": 0, "image": spec_image,
                           "imageID": "", "started": False}
    if cur is None:
        reason, msg = waiting or ("ContainerCreating", "")
        out["state"] = {"waiting": {"reason": reason, **({"message": msg} if msg else {})}}
        out["lastState"] = {}
        return out
    out.update(restartCount=restart_count(cur), image=cur.image or spec_image,
               imageID=cur.image_ref, containerID=f"{scheme}://{cur.id}")
    out["lastState"] = _terminated(prev, scheme) if prev is not None and prev.state == ContainerState.EXITED else {}
    if cur.state == ContainerState.RUNNING:
        started = ctx.probe_result(cur.id, STARTUP, has_startup) is True
        ready = started and ctx.probe_result(cur.id, READINESS, has_readiness) is True
        out["state"] = {"running": {"startedAt": _ts(cur.started_at)}}
        out.update(ready=ready, started=started)
    elif cur.state == ContainerState.EXITED:
        if waiting is not None:
            reason, msg = waiting
            out["state"] = {"waiting": {"reason": reason, **({"message": msg} if msg else {})}}
            out["lastState"] = _terminated(cur, scheme)
        else:
            out["state"] = _terminated(cur, scheme)
    else:  # created but not started, or unknown
        reason, msg = waiting or ("ContainerCreating", "")
        out["state"] = {"waiting": {"reason": reason, **({"message": msg} if msg else {})}}
    return out


def pod_phase(restart_policy: str, statuses: list[dict[str, Any]]) -> str:
    """Kubernetes' getPhase over containerStatuses."""
    running = waiting = stopped = succeeded = 0
    for cs in statuses:
        state = cs.get("state") or {}
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            if state["terminated"].get("exitCode") == 0:
                succeeded += 1
        elif "waiting" in state:
            if (cs.get("lastState") or {}).get("terminated"):
                stopped += 1
            else:
                waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        if restart_policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if restart_policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"


def _condition(old: dict[str, dict[str, Any]], ctype: str, ok: bool, now: str,
               reason: str = "", message: str = "") -> dict[str, Any]:
    status = "True" if ok else "False"
    prev = old.get(ctype)
    since = prev.get("lastTransitionTime") if prev and prev.get("status") == status else None
    c: dict[str, Any] = {"type": ctype, "status": status, "lastTransitionTime": since or now}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def _init_statuses(pod: Pod, rp: RuntimePod, ctx: StatusContext) -> tuple[list[dict[str, Any]], bool, bool]:
    """(initContainerStatuses, all init containers done, one failed)."""
    assert pod.spec is not None
    inits = pod.spec.init_containers or []
    out = []
    for c in inits:
        instances = rp.by_name(c.name)
        waiting = ctx.waiting if instances else {c.name: ("PodInitializing", ""), **ctx.waiting}
        cs = container_status(c.name, c.image or "", False, False, instances, replace(ctx, waiting=waiting))
        term = (cs.get("state") or {}).get("terminated")
        cs["ready"] = bool(term) and term.get("exitCode") == 0
        out.append(cs)
    app_ran = any(rp.latest(c.name) is not None for c in pod.spec.containers)
    initialized = app_ran or all(cs["ready"] for cs in out)
    failed = any(((cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get("terminated") or {})
                 .get("exitCode", 0) != 0 for cs in out)
    return out, initialized, failed


def generate_pod_status(pod: Pod, rp: RuntimePod, ctx: StatusContext) -> Status:
    """The status the kubelet reports for `pod` given what the runtime holds for it."""
    spec = pod.spec
    assert spec is not None
    old = pod.status.to_dict() if pod.status else {}
    now = now_rfc3339(ctx.now)
    init_statuses, initialized, init_failed = _init_statuses(pod, rp, ctx)
    if not initialized:  # app containers wait for the init containers
        ctx = replace(ctx, waiting={**{c.name: ("PodInitializing", "") for c in spec.containers}, **ctx.waiting})
    statuses = []
    for c in spec.containers:
        statuses.append(container_status(c.name, c.image or "", c.readiness_probe is not None,
                                         c.startup_probe is not None, rp.by_name(c.name), ctx))
    policy = spec.restart_policy or "Always"
    if initialized:
        phase = pod_phase(policy, statuses)
    else:
        phase = "Failed" if init_failed and policy == "Never" else "Pending"
    if pod.status and pod.status.phase in ("Succeeded", "Failed"):
        phase = pod.status.phase  # terminal phases never change
    terminal = phase in ("Succeeded", "Failed")
    old_conds = {c["type"]: c for c in old.get("conditions") or []}
    unready = [s["name"] for s in statuses if not s["ready"]]
    if terminal:
        ready, reason, msg = False, "PodCompleted", ""
    elif unready:
        ready, reason, msg = False, "ContainersNotReady", f"containers with unready status: [{' '.join(unready)}]"
    else:
        ready, reason, msg = True, "", ""
    sb = rp.sandbox
    sandbox_ok = sb is not None and sb.state == SandboxState.READY and (bool(sb.ip) or bool(spec.host_network))
    conditions = [
        _condition(old_conds, "PodReadyToStartContainers", sandbox_ok, now),
        _condition(old_conds, "Initialized", initialized, now,
                   "" if initialized else "ContainersNotInitialized",
                   "" if initialized else "containers with incomplete status: "
                   f"[{' '.join(s['name'] for s in init_statuses if not s['ready'])}]"),
        _condition(old_conds, "Ready", ready, now, reason, msg),
        _condition(old_conds, "ContainersReady", ready, now, reason, msg),
        old_conds.get("PodScheduled") or _condition(old_conds, "PodScheduled", True, now),
    ]
    status: Status = {"phase": phase, "conditions": conditions}
    if ctx.host_ip:
        status["hostIP"] = ctx.host_ip
        status["hostIPs"] = [{"ip": ctx.host_ip}]
    ips: list[str] = []
    if spec.host_network:
        ips = [ctx.host_ip] if ctx.host_ip else []
    elif sb is not None and sb.state == SandboxState.READY and sb.ip:
        ips = [sb.ip, *sb.additional_ips]
    elif old.get("podIP"):
        ips = [p["ip"] for p in old.get("podIPs") or [{"ip": old["podIP"]}]]
    if ips:
        status["podIP"] = ips[0]
        status["podIPs"] = [{"ip": ip} for ip in ips]
    status["startTime"] = old.get("startTime") or now
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    status["containerStatuses"] = statuses
    ephemeral = [{**container_status(e.name, e.image or "", False, False, rp.by_name(e.name), ctx), "ready": False}
                 for e in spec.ephemeral_containers or []]
    if ephemeral:   # never part of the phase or of readiness
        status["ephemeralContainerStatuses"] = ephemeral
    if old.get("qosClass"):
        status["qosClass"] = old["qosClass"]
    return normalize(status)


def normalize(status: Status) -> Status:
    """The status as the Pod model round-trips it (so equality with the cache is exact)."""
    return PodStatus.model_validate(status).to_dict()


class StatusManager:
    """Writes pods/status with a merge patch, only when the status changed.

    The pod as the informer has it is the truth: a status someone else wrote (the node
    lifecycle controller marking pods NotReady) is overwritten at the next sync. Our own
    write is remembered with its resourceVersion, so while the informer has not caught
    up with it the same status is not sent twice."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._written: dict[str, tuple[Status, int]] = {}
        self.writes = 0

    def forget(self, uid: str) -> None:
        self._written.pop(uid, None)

    def last(self, uid: str) -> Status | None:
        w = self._written.get(uid)
        return w[0] if w else None

    async def set(self, pod: Pod, status: Status) -> bool:
        """Write `status` unless the pod already has it; True when a write happened."""
        uid = pod.metadata.uid or ""
        current = normalize(pod.status.to_dict()) if pod.status else {}
        if status == current:
            return False
        written = self._written.get(uid)
        seen_rv = _rv(pod.metadata.resource_version)
        if written is not None and written[0] == status and seen_rv <= written[1]:
            return False  # the informer has not seen our write yet
        base = written[0] if written is not None and seen_rv <= written[1] else current
        patch: dict[str, Any] = {k: None for k in base if k not in status}
        patch.update(status)
        try:
            out = await self.client.patch(Pod, pod.metadata.name or "", {"status": patch},
                                          namespace=pod.metadata.namespace, subresource="status")
        except NotFound:
            return False
        self._written[uid] = (status, _rv(getattr(getattr(out, "metadata", None), "resource_version", None)))
        self.writes += 1
        return True


def _rv(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
