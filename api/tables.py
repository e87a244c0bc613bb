"""Server-side printing: the columns `kubectl get` shows for each kind.

Owns the column definitions and row functions per kind (Kubernetes'
`pkg/printers/internalversion`), as pure functions of wire dicts. The apiserver serves them
as `meta.k8s.io/v1` Tables; pykubectl prints the same rows. Columns with priority 1 appear
only with `-o wide`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

Obj = dict[str, Any]


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"
    priority: int = 0
    format: str = ""
    description: str = ""

    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "format": self.format,
                "description": self.description, "priority": self.priority}


def human_duration(seconds: float) -> str:
    """kubectl's duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{h // 24}d{h % 24}h" if h % 24 else f"{h // 24}d"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    if h < 24 * 365 * 8:
        return f"{h // 24 // 365}y{(h // 24) % 365}d"
    return f"{h // 24 // 365}y"


def parse_time(ts: str | None) -> datetime | None:
    if not ts:
        return None
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None


def age(obj: Obj, now: datetime | None = None) -> str:
    t = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
    if t is None:
        return "<unknown>"
    return human_duration(((now or datetime.now(timezone.utc)) - t).total_seconds())


def spec_of(o: Obj) -> Obj:
    """`spec` of a wire dict, {} when absent (likewise status_of, meta_of)."""
    return o.get("spec") or {}


def status_of(o: Obj) -> Obj:
    return o.get("status") or {}


def meta_of(o: Obj) -> Obj:
    return o.get("metadata") or {}


# ----------------------------------------------------------------- pods
def _sidecars(pod: Obj) -> set[str]:
    return {c.get("name") for c in spec_of(pod).get("initContainers") or [] if c.get("restartPolicy") == "Always"}


def pod_status_reason(pod: Obj) -> str:
    """The STATUS column: kubectl's printPod logic in short (sidecars never hold it in Init)."""
    st = status_of(pod)
    reason = st.get("reason") or st.get("phase") or "Unknown"
    if any(c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated"
           for c in st.get("conditions") or []):
        reason = "SchedulingGated"
    init_statuses = st.get("initContainerStatuses") or []
    n_init = len(spec_of(pod).get("initContainers") or [])
    sidecars = _sidecars(pod)
    initializing = False
    for i, cs in enumerate(init_statuses):
        state = cs.get("state") or {}
        term, wait = state.get("terminated"), state.get("waiting")
        if cs.get("name") in sidecars:
            continue
        if term and term.get("exitCode") == 0:
            continue
        initializing = True
        if term:
            reason = "Init:" + (term.get("reason") or f"Signal:{term.get('signal')}" if term.get("signal")
                                else "Init:" + (term.get("reason") or f"ExitCode:{term.get('exitCode')}"))
        elif wait and wait.get("reason") and wait["reason"] != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{n_init}"
        break
    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True"
                      for c in st.get("conditions") or [])
    if not initializing or initialized:
        has_running = False
        for cs in reversed(st.get("containerStatuses") or []):
            state = cs.get("state") or {}
            wait, term = state.get("waiting"), state.get("terminated")
            if wait and wait.get("reason"):
                reason = wait["reason"]
            elif term and term.get("reason"):
                reason = term["reason"]
            elif term:
                reason = f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode')}"
            elif state.get("running") and cs.get("ready"):
                has_running = True
        if reason == "Completed" and has_running:
            reason = "Running" if any(c.get("type") == "Ready" and c.get("status") == "True"
                                      for c in st.get("conditions") or []) else "NotReady"
    if meta_of(pod).get("deletionTimestamp"):
        reason = "Unknown" if st.get("reason") == "NodeLost" else "Terminating"
    return reason


def _readiness_gates(p: Obj) -> str:
    gates = [g.get("conditionType") for g in spec_of(p).get("readinessGates") or []]
    if not gates:
        return "<none>"
    true = {c.get("type") for c in status_of(p).get("conditions") or [] if c.get("status") == "True"}
    return f"{sum(1 for g in gates if g in true)}/{len(gates)}"


def _pod_row(p: Obj) -> list[Any]:
    st = status_of(p)
    sidecars = _sidecars(p)
    side_statuses = [c for c in st.get("initContainerStatuses") or [] if c.get("name") in sidecars]
    statuses = st.get("containerStatuses") or []
    total = len(spec_of(p).get("containers") or []) + len(sidecars)
    ready = sum(1 for c in statuses if c.get("ready")) + sum(1 for c in side_statuses
                                                              if c.get("started") and c.get("ready"))
    status = pod_status_reason(p)
    counted = (st.get("initContainerStatuses") or []) if status.startswith("Init:") else [*side_statuses, *statuses]
    restarts = sum(int(c.get("restartCount") or 0) for c in counted)
    last = None
    for c in statuses:
        t = parse_time(((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
        if t and (last is None or t > last):
            last = t
    restarts_s = str(restarts)
    if restarts and last:
        restarts_s += f" ({human_duration((datetime.now(timezone.utc) - last).total_seconds())} ago)"
    return [meta_of(p).get("name"), f"{ready}/{total}", status, restarts_s, age(p),
            st.get("podIP") or "<none>", spec_of(p).get("nodeName") or "<none>",
            st.get("nominatedNodeName") or "<none>", _readiness_gates(p)]


def _containers_images(template_spec: Obj) -> tuple[str, str]:
    cs = template_spec.get("containers") or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def format_label_selector(sel: Obj | None) -> str:
    if not sel:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        op = e.get("operator")
        vals = ",".join(e.get("values") or [])
        if op == "In":
            parts.append(f"{e['key']} in ({vals})")
        elif op == "NotIn":
            parts.append(f"{e['key']} notin ({vals})")
        elif op == "Exists":
            parts.append(e["key"])
        elif op == "DoesNotExist":
            parts.append("!" + e["key"])
    return ",".join(parts) or "<none>"


def _deployment_row(d: Obj) -> list[Any]:
    st, spec = status_of(d), spec_of(d)
    names, images = _containers_images(spec_of(spec.get("template") or {}))
    return [meta_of(d).get("name"), f"{st.get('readyReplicas') or 0}/{spec.get('replicas', 0)}",
            st.get("updatedReplicas") or 0, st.get("availableReplicas") or 0, age(d),
            names, images, format_label_selector(spec.get("selector"))]


def _replicaset_row(r: Obj) -> list[Any]:
    st, spec = status_of(r), spec_of(r)
    names, images = _containers_images(spec_of(spec.get("template") or {}))
    return [meta_of(r).get("name"), spec.get("replicas", 0), st.get("replicas") or 0,
            st.get("readyReplicas") or 0, age(r), names, images,
            format_label_selector(spec.get("selector"))]


def _since(ts: str | None) -> str:
    t = parse_time(ts)
    if t is None:
        return "<unknown>"
    return human_duration((datetime.now(timezone.utc) - t).total_seconds())


def _true_condition(o: Obj, ctype: str) -> bool:
    return any(c.get("type") == ctype and c.get("status") == "True"
               for c in status_of(o).get("conditions") or [])


def job_status_text(j: Obj) -> str:
    """The Job STATUS column (printJob)."""
    for ctype, text in (("Complete", "Complete"), ("Failed", "Failed")):
        if _true_condition(j, ctype):
            return text
    if meta_of(j).get("deletionTimestamp"):
        return "Terminating"
    for ctype in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if _true_condition(j, ctype):
            return ctype
    return "Running"


def _job_row(j: Obj) -> list[Any]:
    st, spec = status_of(j), spec_of(j)
    succeeded = st.get("succeeded") or 0
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif (spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    start, end = parse_time(st.get("startTime")), parse_time(st.get("completionTime"))
    duration = ""
    if start is not None:
        duration = human_duration(((end or datetime.now(timezone.utc)) - start).total_seconds())
    names, images = _containers_images(spec_of(spec.get("template") or {}))
    return [meta_of(j).get("name"), job_status_text(j), completions, duration, age(j),
            names, images, format_label_selector(spec.get("selector"))]


def _cronjob_row(c: Obj) -> list[Any]:
    st, spec = status_of(c), spec_of(c)
    suspend = spec.get("suspend")
    job_spec = spec_of(spec.get("jobTemplate") or {})
    names, images = _containers_images(spec_of(job_spec.get("template") or {}))
    last = _since(st["lastScheduleTime"]) if st.get("lastScheduleTime") else "<none>"
    return [meta_of(c).get("name"), spec.get("schedule") or "", spec.get("timeZone") or "<none>",
            "<unset>" if suspend is None else str(bool(suspend)), len(st.get("active") or []),
            last, age(c), names, images, format_label_selector(job_spec.get("selector"))]


def _replicationcontroller_row(r: Obj) -> list[Any]:
    st, spec = status_of(r), spec_of(r)
    names, images = _containers_images(spec_of(spec.get("template") or {}))
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items()))
    return [meta_of(r).get("name"), spec.get("replicas", 0), st.get("replicas") or 0,
            st.get("readyReplicas") or 0, age(r), names, images, selector or "<none>"]


def service_external_ip(s: Obj) -> str:
    spec = spec_of(s)
    stype = spec.get("type") or "ClusterIP"
    ext = list(spec.get("externalIPs") or [])
    if stype == "LoadBalancer":
        ing = [i.get("ip") or i.get("hostname") for i in
               (status_of(s).get("loadBalancer") or {}).get("ingress") or []]
        ext = [i for i in ing if i] + ext
        return ",".join(ext) if ext else "<pending>"
    if stype == "ExternalName":
        return spec.get("externalName") or "<none>"
    return ",".join(ext) if ext else "<none>"


def service_ports(s: Obj) -> str:
    out = []
    for p in spec_of(s).get("ports") or []:
        txt = f"{p.get('port')}"
        if p.get("nodePort"):
            txt += f":{p['nodePort']}"
        out.append(f"{txt}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


def _service_row(s: Obj) -> list[Any]:
    spec = spec_of(s)
    sel = spec.get("selector")
    return [meta_of(s).get("name"), spec.get("type") or "ClusterIP", spec.get("clusterIP") or "<none>",
            service_external_ip(s), service_ports(s), age(s),
            ",".join(f"{k}={v}" for k, v in sorted(sel.items())) if sel else "<none>"]


def node_status_text(n: Obj) -> str:
    conds = {c.get("type"): c.get("status") for c in status_of(n).get("conditions") or []}
    ready = conds.get("Ready")
    # kubectl's printNode: Ready when True, NotReady for False *and* Unknown, Unknown without one
    text = "Ready" if ready == "True" else "NotReady" if ready else "Unknown"
    if spec_of(n).get("unschedulable"):
        text += ",SchedulingDisabled"
    return text


def _node_row(n: Obj) -> list[Any]:
    st = status_of(n)
    labels = meta_of(n).get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    addrs = {a.get("type"): a.get("address") for a in st.get("addresses") or []}
    info = st.get("nodeInfo") or {}
    return [meta_of(n).get("name"), node_status_text(n), ",".join(roles) or "<none>", age(n),
            info.get("kubeletVersion", ""), addrs.get("InternalIP", "<none>"),
            addrs.get("ExternalIP", "<none>"), info.get("osImage") or "<unknown>",
            info.get("kernelVersion") or "<unknown>", info.get("containerRuntimeVersion") or "<unknown>"]


def _endpoints_text(e: Obj) -> str:
    items = []
    for ss in e.get("subsets") or []:
        ports = ss.get("ports") or [{}]
        for a in ss.get("addresses") or []:
            for p in ports:
                items.append(f"{a.get('ip')}:{p['port']}" if p.get("port") else a.get("ip"))
    if not items:
        return "<none>"
    more = len(items) - 3
    return ",".join(items[:3]) + (f" + {more} more..." if more > 0 else "")


def _event_row(e: Obj) -> list[Any]:
    inv = e.get("involvedObject") or {}
    last = parse_time(e.get("lastTimestamp") or e.get("eventTime"))
    seen = human_duration((datetime.now(timezone.utc) - last).total_seconds()) if last else "<unknown>"
    return [seen, e.get("type") or "", e.get("reason") or "",
            f"{(inv.get('kind') or '').lower()}/{inv.get('name', '')}", e.get("message") or ""]


def _binding_row(b: Obj) -> list[Any]:
    ref = b.get("roleRef") or {}
    subjects = b.get("subjects") or []

    def names(kind: str) -> str:
        return ", ".join((f"{s.get('namespace')}/{s.get('name')}" if kind == "ServiceAccount" else s.get("name", ""))
                         for s in subjects if s.get("kind") == kind)
    return [meta_of(b).get("name"), f"{ref.get('kind')}/{ref.get('name')}", age(b),
            names("User"), names("Group"), names("ServiceAccount")]


def _csr_row(c: Obj) -> list[Any]:
    spec = spec_of(c)
    conds = [x.get("type") for x in status_of(c).get("conditions") or [] if x.get("status", "True") == "True"]
    if status_of(c).get("certificate"):
        conds.append("Issued")
    secs = spec.get("expirationSeconds")
    return [meta_of(c).get("name"), age(c), spec.get("signerName") or "", spec.get("username") or "",
            human_duration(secs) if secs else "<none>", ",".join(conds) or "Pending"]


def _quota_row(q: Obj) -> list[Any]:
    hard, used = status_of(q).get("hard") or spec_of(q).get("hard") or {}, status_of(q).get("used") or {}
    parts = {"req": [], "lim": []}   # type: dict[str, list[str]]
    for k in sorted(hard):
        parts["lim" if k.startswith("limits.") else "req"].append(f"{k}: {used.get(k, '0')}/{hard[k]}")
    return [meta_of(q).get("name"), age(q), ", ".join(parts["req"]), ", ".join(parts["lim"])]


def _created_at(o: Obj) -> list[Any]:
    return [meta_of(o).get("name"), meta_of(o).get("creationTimestamp")]


_NAME = Column("Name", format="name", description="Name must be unique within a namespace.")
_AGE = Column("Age", description="CreationTimestamp")
TABLES: dict[str, tuple[list[Column], Callable[[Obj], list[Any]]]] = {
    "Pod": ([_NAME, Column("Ready"), Column("Status"), Column("Restarts"), _AGE,
             Column("IP", priority=1), Column("Node", priority=1),
             Column("Nominated Node", priority=1), Column("Readiness Gates", priority=1)], _pod_row),
    "Deployment": ([_NAME, Column("Ready"), Column("Up-to-date", "integer"),
                    Column("Available", "integer"), _AGE, Column("Containers", priority=1),
                    Column("Images", priority=1), Column("Selector", priority=1)], _deployment_row),
    "ReplicaSet": ([_NAME, Column("Desired", "integer"), Column("Current", "integer"),
                    Column("Ready", "integer"), _AGE, Column("Containers", priority=1),
                    Column("Images", priority=1), Column("Selector", priority=1)], _replicaset_row),
    "Service": ([_NAME, Column("Type"), Column("Cluster-IP"), Column("External-IP"),
                 Column("Port(s)"), _AGE, Column("Selector", priority=1)], _service_row),
    "Node": ([_NAME, Column("Status"), Column("Roles"), _AGE, Column("Version"),
              Column("Internal-IP", priority=1), Column("External-IP", priority=1),
              Column("OS-Image", priority=1), Column("Kernel-Version", priority=1),
              Column("Container-Runtime", priority=1)], _node_row),
    "Namespace": ([_NAME, Column("Status"), _AGE],
                  lambda o: [meta_of(o).get("name"), status_of(o).get("phase") or "Active", age(o)]),
    "Endpoints": ([_NAME, Column("Endpoints"), _AGE],
                  lambda o: [meta_of(o).get("name"), _endpoints_text(o), age(o)]),
    "ConfigMap": ([_NAME, Column("Data", "integer"), _AGE],
                  lambda o: [meta_of(o).get("name"), len(o.get("data") or {}) + len(o.get("binaryData") or {}), age(o)]),
    "Secret": ([_NAME, Column("Type"), Column("Data", "integer"), _AGE],
               lambda o: [meta_of(o).get("name"), o.get("type") or "Opaque", len(o.get("data") or {}), age(o)]),
    "ServiceAccount": ([_NAME, Column("Secrets", "integer"), _AGE],
                       lambda o: [meta_of(o).get("name"), len(o.get("secrets") or []), age(o)]),
    "Event": ([Column("Last Seen"), Column("Type"), Column("Reason"), Column("Object"),
               Column("Message")], _event_row),
    "CertificateSigningRequest": ([_NAME, _AGE, Column("SignerName"), Column("Requestor"),
                                   Column("RequestedDuration"), Column("Condition")], _csr_row),
    "ResourceQuota": ([_NAME, _AGE, Column("Request"), Column("Limit")], _quota_row),
    "NetworkPolicy": ([_NAME, Column("Pod-Selector"), _AGE],
                      lambda o: [meta_of(o).get("name"), format_label_selector(spec_of(o).get("podSelector")),
                                 age(o)]),
    "LimitRange": ([_NAME, Column("Created At", format="date-time")], _created_at),
    "Role": ([_NAME, Column("Created At", format="date-time")], _created_at),
    "ClusterRole": ([_NAME, Column("Created At", format="date-time")], _created_at),
    "RoleBinding": ([_NAME, Column("Role"), _AGE, Column("Users", priority=1),
                     Column("Groups", priority=1), Column("ServiceAccounts", priority=1)], _binding_row),
    "ClusterRoleBinding": ([_NAME, Column("Role"), _AGE, Column("Users", priority=1),
                            Column("Groups", priority=1), Column("ServiceAccounts", priority=1)], _binding_row),
    "CustomResourceDefinition": ([_NAME, Column("Created At", format="date-time")],
                                 lambda o: [meta_of(o).get("name"), meta_of(o).get("creationTimestamp")]),
    "ReplicationController": ([_NAME, Column("Desired", "integer"), Column("Current", "integer"),
                               Column("Ready", "integer"), _AGE, Column("Containers", priority=1),
                               Column("Images", priority=1), Column("Selector", priority=1)],
                              _replicationcontroller_row),
    "Job": ([_NAME, Column("Status", description="Status of the job."), Column("Completions"),
             Column("Duration", description="Time required to complete the job."), _AGE,
             Column("Containers", priority=1), Column("Images", priority=1),
             Column("Selector", priority=1)], _job_row),
    "CronJob": ([_NAME, Column("Schedule"), Column("Timezone"), Column("Suspend", "boolean"),
                 Column("Active", "integer"), Column("Last Schedule"), _AGE,
                 Column("Containers", priority=1), Column("Images", priority=1),
                 Column("Selector", priority=1)], _cronjob_row),
    "Lease": ([_NAME, Column("Holder"), _AGE],
              lambda o: [meta_of(o).get("name"), spec_of(o).get("holderIdentity") or "", age(o)]),
}


def columns_for(kind: str) -> list[Column]:
    return TABLES.get(kind, ([_NAME, _AGE], None))[0]


def row_for(obj: Obj) -> list[Any]:
    entry = TABLES.get(obj.get("kind", ""))
    if entry is None:
        return [meta_of(obj).get("name"), age(obj)]
    return entry[1](obj)


from api.tables_workloads import TABLES as _WORKLOAD_TABLES  # noqa: E402  (built on the helpers above)

TABLES.update(_WORKLOAD_TABLES)
from api.tables_networking import TABLES as _NETWORKING_TABLES  # noqa: E402

TABLES.update(_NETWORKING_TABLES)
