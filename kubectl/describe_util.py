"""The building blocks of `describe` pages, as kubectl's describe.go writes them.

Owns the prefix writer (two spaces per level, tab-separated cells laid out by the Go
tabwriter with padding 2, `flush()` starting a new layout block as kubectl does before the
Events table), and the shared sections: multi-line labels / annotations / taints /
tolerations, containers, volumes, the pod template, the Events table, and time formats
(RFC 1123 with numeric zone; `10s (x3 over 2m)`). Pure: dicts in, text out.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from api.tables import human_duration, parse_time
from kubectl.tabwriter import TabWriter

Obj = dict[str, Any]
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MAX_ANNOTATION_LEN = 140


class PrefixWriter:
    """kubectl's PrefixWriter over a tabwriter (padding 2)."""

    def __init__(self, tabbed: bool = True) -> None:
        self._tw = TabWriter(padding=2) if tabbed else None
        self._done: list[str] = []
        self._raw: list[str] = []

    def write(self, level: int, text: str) -> None:
        chunk = "  " * level + text
        if self._tw is None:
            self._raw.append(chunk)
        else:
            self._tw.write(chunk)

    def line(self, text: str = "") -> None:
        self.write(0, text + "\n")

    def flush(self) -> None:
        if self._tw is not None:
            self._done.append(self._tw.flush())

    def text(self) -> str:
        if self._tw is None:
            return "".join(self._raw)
        self.flush()
        return "".join(self._done)


# ---------------------------------------------------------------- time
def rfc1123z(ts: str | None) -> str:
    t = parse_time(ts)
    if t is None:
        return "<unset>"
    return t.astimezone().strftime("%a, %d %b %Y %H:%M:%S %z")


def since(ts: str | None, now: datetime | None = None) -> str:
    t = parse_time(ts)
    if t is None:
        return "<unknown>"
    return human_duration(((now or datetime.now(timezone.utc)) - t).total_seconds())


# ---------------------------------------------------------------- metadata sections
def labels_multiline(w: PrefixWriter, title: str, labels: dict[str, str] | None,
                     initial: str = "", inner: str = "\t") -> None:
    w.write(0, f"{initial}{title}:{inner}")
    keys = sorted(labels or {})
    if not keys:
        w.line("<none>")
        return
    for i, k in enumerate(keys):
        if i:
            w.write(0, initial + inner)
        w.write(0, f"{k}={(labels or {})[k]}\n")


def annotations_multiline(w: PrefixWriter, title: str, annotations: dict[str, str] | None,
                          initial: str = "", inner: str = "\t") -> None:
    w.write(0, f"{initial}{title}:{inner}")
    ann = annotations or {}
    keys = sorted(k for k in ann if k != LAST_APPLIED)
    if not keys:
        w.line("<none>")
        return
    indent = initial + inner
    for i, k in enumerate(keys):
        if i:
            w.write(0, indent)
        value = ann[k].removesuffix("\n")
        if len(value) + len(k) + 2 > MAX_ANNOTATION_LEN or "\n" in value:
            w.write(0, f"{k}:\n")
            for s in value.split("\n"):
                short = s if len(s) <= MAX_ANNOTATION_LEN - 2 else s[:MAX_ANNOTATION_LEN - 2] + "..."
                w.write(0, f"{indent}  {short}\n")
        else:
            w.write(0, f"{k}: {value}\n")


def taints_multiline(w: PrefixWriter, title: str, taints: list[Obj] | None) -> None:
    w.write(0, f"{title}:\t")
    if not taints:
        w.line("<none>")
        return
    for i, t in enumerate(taints):
        if i:
            w.write(0, "\t")
        text = t.get("key", "")
        if t.get("value"):
            text += f"={t['value']}"
        w.write(0, f"{text}:{t.get('effect', '')}\n")


def tolerations_multiline(w: PrefixWriter, title: str, tolerations: list[Obj] | None,
                          initial: str = "", inner: str = "\t") -> None:
    w.write(0, f"{initial}{title}:{inner}")
    if not tolerations:
        w.line("<none>")
        return
    for i, t in enumerate(sorted(tolerations, key=lambda x: x.get("key", ""))):
        if i:
            w.write(0, initial + inner)
        text = t.get("key", "")
        if t.get("value"):
            text += f"={t['value']}"
        if t.get("effect"):
            text += f":{t['effect']}"
        if t.get("operator") == "Exists" and not t.get("value"):
            text += " op=Exists" if (t.get("key") or t.get("effect")) else "op=Exists"
        if t.get("tolerationSeconds") is not None:
            text += f" for {t['tolerationSeconds']}s"
        w.write(0, text + "\n")


def controller_text(obj: Obj) -> str:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return f"{ref.get('kind')}/{ref.get('name')}"
    return ""


# ---------------------------------------------------------------- containers
def _ports(ports: list[Obj], field: str) -> str:
    return ", ".join(f"{p.get(field, 0)}/{p.get('protocol', 'TCP')}" for p in ports)


def _probe(p: Obj) -> str:
    attrs = (f"delay={p.get('initialDelaySeconds', 0)}s timeout={p.get('timeoutSeconds', 1)}s "
             f"period={p.get('periodSeconds', 10)}s successThreshold={p.get('successThreshold', 1)} "
             f"failureThreshold={p.get('failureThreshold', 3)}")
    if p.get("exec"):
        return f"exec [{' '.join(p['exec'].get('command') or [])}] {attrs}"
    if p.get("httpGet"):
        h = p["httpGet"]
        scheme = str(h.get("scheme") or "HTTP").lower()
        host = h.get("host", "")
        port = h.get("port", "")
        return f"http-get {scheme}://{host}:{port}{h.get('path', '')} {attrs}"
    if p.get("tcpSocket"):
        t = p["tcpSocket"]
        return f"tcp-socket {t.get('host', '')}:{t.get('port', '')} {attrs}"
    if p.get("grpc"):
        return f"grpc <pod>:{p['grpc'].get('port')} {p['grpc'].get('service', '')} {attrs}"
    return f"unknown {attrs}"


def _state(w: PrefixWriter, name: str, state: Obj) -> None:
    if state.get("running") is not None:
        w.write(2, f"{name}:\tRunning\n")
        w.write(3, f"Started:\t{rfc1123z(state['running'].get('startedAt'))}\n")
    elif state.get("waiting") is not None:
        w.write(2, f"{name}:\tWaiting\n")
        if state["waiting"].get("reason"):
            w.write(3, f"Reason:\t{state['waiting']['reason']}\n")
    elif state.get("terminated") is not None:
        t = state["terminated"]
        w.write(2, f"{name}:\tTerminated\n")
        if t.get("reason"):
            w.write(3, f"Reason:\t{t['reason']}\n")
        if t.get("message"):
            w.write(3, f"Message:\t{t['message']}\n")
        w.write(3, f"Exit Code:\t{t.get('exitCode', 0)}\n")
        if t.get("signal"):
            w.write(3, f"Signal:\t{t['signal']}\n")
        w.write(3, f"Started:\t{rfc1123z(t.get('startedAt'))}\n")
        w.write(3, f"Finished:\t{rfc1123z(t.get('finishedAt'))}\n")
    else:
        w.write(2, f"{name}:\tWaiting\n")


def _env(w: PrefixWriter, c: Obj) -> None:
    env = c.get("env") or []
    w.write(2, "Environment:" + ("" if env else "\t<none>") + "\n")
    for e in env:
        vf = e.get("valueFrom")
        if not vf:
            for i, s in enumerate(str(e.get("value", "")).split("\n")):
                w.write(3, f"{e['name']}:\t{s}\n" if i == 0 else f"\t{s}\n")
        elif vf.get("fieldRef"):
            f = vf["fieldRef"]
            w.write(3, f"{e['name']}:\t ({f.get('apiVersion', 'v1')}:{f.get('fieldPath')})\n")
        elif vf.get("configMapKeyRef"):
            r = vf["configMapKeyRef"]
            w.write(3, f"{e['name']}:\t<set to the key '{r.get('key')}' of config map "
                       f"'{r.get('name')}'>\tOptional: {str(bool(r.get('optional'))).lower()}\n")
        elif vf.get("secretKeyRef"):
            r = vf["secretKeyRef"]
            w.write(3, f"{e['name']}:\t<set to the key '{r.get('key')}' in secret "
                       f"'{r.get('name')}'>\tOptional: {str(bool(r.get('optional'))).lower()}\n")
        elif vf.get("resourceFieldRef"):
            r = vf["resourceFieldRef"]
            w.write(3, f"{e['name']}:\t{r.get('resource')}\n")


def containers(w: PrefixWriter, label: str, items: list[Obj], statuses: list[Obj] | None,
               space: str) -> None:
    by_name = {s.get("name"): s for s in statuses or []}
    w.write(0, f"{space}{label}:{'' if items else ' <none>'}\n")
    for c in items:
        st = by_name.get(c.get("name"))
        w.write(1, f"{' ' if space else ''}{c.get('name')}:\n")
        if st is not None:
            w.write(2, f"Container ID:\t{st.get('containerID', '')}\n")
        w.write(2, f"Image:\t{c.get('image', '')}\n")
        if st is not None:
            w.write(2, f"Image ID:\t{st.get('imageID', '')}\n")
        ports = c.get("ports") or []
        text = _ports(ports, "containerPort")
        w.write(2, f"Ports:\t{text}\n" if "," in text else f"Port:\t{text or '<none>'}\n")
        host = _ports(ports, "hostPort")
        w.write(2, f"Host Ports:\t{host}\n" if "," in host else f"Host Port:\t{host or '<none>'}\n")
        for key, title in (("command", "Command"), ("args", "Args")):
            if c.get(key):
                w.write(2, f"{title}:\n")
                for arg in c[key]:
                    for s in str(arg).split("\n"):
                        w.write(3, f"{s}\n")
        if st is not None:
            _state(w, "State", st.get("state") or {})
            last = st.get("lastState") or {}
            if last.get("terminated"):
                _state(w, "Last State", last)
            w.write(2, f"Ready:\t{'True' if st.get('ready') else 'False'}\n")
            w.write(2, f"Restart Count:\t{st.get('restartCount', 0)}\n")
        res = c.get("resources") or {}
        for key, title in (("limits", "Limits"), ("requests", "Requests")):
            if res.get(key):
                w.write(2, f"{title}:\n")
                for name in sorted(res[key]):
                    w.write(3, f"{name}:\t{res[key][name]}\n")
        for key, title in (("livenessProbe", "Liveness"), ("readinessProbe", "Readiness"),
                           ("startupProbe", "Startup")):
            if c.get(key):
                w.write(2, f"{title}:\t{_probe(c[key])}\n")
        _env(w, c)
        mounts = c.get("volumeMounts") or []
        w.write(2, "Mounts:" + ("" if mounts else "\t<none>") + "\n")
        for m in sorted(mounts, key=lambda x: x.get("mountPath", "")):
            flags = ["ro" if m.get("readOnly") else "rw"]
            if m.get("subPath"):
                flags.append(f'path="{m["subPath"]}"')
            w.write(3, f"{m.get('mountPath')} from {m.get('name')} ({','.join(flags)})\n")


def volumes(w: PrefixWriter, vols: list[Obj] | None, space: str) -> None:
    if not vols:
        w.write(0, f"{space}Volumes:\t<none>\n")
        return
    w.write(0, f"{space}Volumes:\n")
    for v in vols:
        w.write(1, f"{' ' if space else ''}{v.get('name')}:\n")
        if "hostPath" in v:
            h = v["hostPath"] or {}
            w.write(2, "Type:\tHostPath (bare host directory volume)\n"
                       f"    Path:\t{h.get('path', '')}\n    HostPathType:\t{h.get('type') or '<none>'}\n")
        elif "emptyDir" in v:
            e = v["emptyDir"] or {}
            w.write(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n"
                       f"    Medium:\t{e.get('medium', '')}\n    SizeLimit:\t{e.get('sizeLimit') or '<unset>'}\n")
        elif "configMap" in v:
            cm = v["configMap"] or {}
            w.write(2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n"
                       f"    Name:\t{cm.get('name', '')}\n    Optional:\t{str(bool(cm.get('optional'))).lower()}\n")
        elif "secret" in v:
            s = v["secret"] or {}
            w.write(2, "Type:\tSecret (a volume populated by a Secret)\n"
                       f"    SecretName:\t{s.get('secretName', '')}\n    Optional:\t{str(bool(s.get('optional'))).lower()}\n")
        elif "persistentVolumeClaim" in v:
            p = v["persistentVolumeClaim"] or {}
            w.write(2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n"
                       f"    ClaimName:\t{p.get('claimName', '')}\n    ReadOnly:\t{str(bool(p.get('readOnly'))).lower()}\n")
        else:
            w.write(1, "<unknown>\n")


def pod_template(w: PrefixWriter, template: Obj | None) -> None:
    """kubectl's DescribePodTemplate."""
    w.write(0, "Pod Template:\n")
    if template is None:
        w.write(1, "<unset>")
        return
    meta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    labels_multiline(w, "  Labels", meta.get("labels"))
    if meta.get("annotations"):
        annotations_multiline(w, "  Annotations", meta.get("annotations"))
    if spec.get("serviceAccountName"):
        w.write(1, f"Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("initContainers"):
        containers(w, "Init Containers", spec["initContainers"], None, "  ")
    containers(w, "Containers", spec.get("containers") or [], None, "  ")
    volumes(w, spec.get("volumes"), "  ")
    labels_multiline(w, "  Node-Selectors", spec.get("nodeSelector"))
    tolerations_multiline(w, "  Tolerations", spec.get("tolerations"))
    if spec.get("priorityClassName"):
        w.write(1, f"Priority Class Name:\t{spec['priorityClassName']}\n")


# ---------------------------------------------------------------- events
def _event_sort_key(e: Obj) -> datetime:
    return parse_time(e.get("lastTimestamp") or e.get("eventTime")) or datetime.min.replace(tzinfo=timezone.utc)


def events(w: PrefixWriter, items: list[Obj] | None, now: datetime | None = None) -> None:
    """The Events table (or `Events:  <none>`); None means the section is left out."""
    if items is None:
        return
    if not items:
        w.write(0, "Events:\t<none>\n")
        return
    w.flush()
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
    w.write(1, "----\t------\t----\t----\t-------\n")
    for e in sorted(items, key=_event_sort_key):
        first = since(e.get("eventTime"), now) if e.get("eventTime") else since(e.get("firstTimestamp"), now)
        series = e.get("series")
        count = int(e.get("count") or 0)
        if series:
            interval = f"{since(series.get('lastObservedTime'), now)} (x{series.get('count')} over {first})"
        elif count > 1:
            interval = f"{since(e.get('lastTimestamp'), now)} (x{count} over {first})"
        else:
            interval = first
        source = (e.get("source") or {}).get("component") or e.get("reportingComponent") or ""
        message = str(e.get("message", "")).strip()
        if field_path := (e.get("involvedObject") or {}).get("fieldPath"):
            message = f"{field_path}: {message}"   # kubectl 1.37 names the container
        w.write(1, f"{e.get('type', '')}\t{e.get('reason', '')}\t{interval}\t{source}\t{message}\n")
