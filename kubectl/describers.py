"""`describe` pages per kind: Pod, Deployment, ReplicaSet, Service, Node (in
describe_node), Namespace, ConfigMap, and a generic page for the rest — the text
kubectl's describers print.

Each describer is a pure function of the object and the related objects the command
fetched for it (events, owned ReplicaSets, pods, endpoints, the node's lease), returning
the whole page. `RELATED` says which related objects each kind needs.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from api.tables import format_label_selector, meta_of as _meta, spec_of as _spec, status_of as _status
from kubectl import describe_util as du
from kubectl.describe_node import describe_node

Obj = dict[str, Any]


def selector_text(sel: Obj | None) -> str:
    text = format_label_selector(sel)
    return "" if text == "<none>" else text


# ---------------------------------------------------------------- pod
def _qos(pod: Obj) -> str:
    if _status(pod).get("qosClass"):
        return str(_status(pod)["qosClass"])
    reqs = lims = 0
    guaranteed = True
    for c in _spec(pod).get("containers") or []:
        r = (c.get("resources") or {})
        req, lim = r.get("requests") or {}, r.get("limits") or {}
        reqs += len(req)
        lims += len(lim)
        for res in ("cpu", "memory"):
            if res not in lim or (res in req and req[res] != lim[res]):
                guaranteed = False
    if not reqs and not lims:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def describe_pod(pod: Obj, events: list[Obj] | None = None, now: datetime | None = None) -> str:
    w = du.PrefixWriter()
    meta, spec, st = _meta(pod), _spec(pod), _status(pod)
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    if spec.get("priority") is not None:
        w.write(0, f"Priority:\t{spec['priority']}\n")
    if spec.get("priorityClassName"):
        w.write(0, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    if spec.get("runtimeClassName"):
        w.write(0, f"Runtime Class Name:\t{spec['runtimeClassName']}\n")
    if spec.get("serviceAccountName"):
        w.write(0, f"Service Account:\t{spec['serviceAccountName']}\n")
    node = spec.get("nodeName")
    w.write(0, f"Node:\t{node}/{st.get('hostIP', '')}\n" if node else "Node:\t<none>\n")
    if st.get("startTime"):
        w.write(0, f"Start Time:\t{du.rfc1123z(st['startTime'])}\n")
    du.labels_multiline(w, "Labels", meta.get("labels"))
    du.annotations_multiline(w, "Annotations", meta.get("annotations"))
    phase = st.get("phase", "")
    if meta.get("deletionTimestamp") and phase not in ("Failed", "Succeeded"):
        w.write(0, f"Status:\tTerminating (lasts {du.since(meta['deletionTimestamp'], now)})\n")
        w.write(0, f"Termination Grace Period:\t{meta.get('deletionGracePeriodSeconds', 0)}s\n")
    else:
        w.write(0, f"Status:\t{phase}\n")
    if st.get("reason"):
        w.write(0, f"Reason:\t{st['reason']}\n")
    if st.get("message"):
        w.write(0, f"Message:\t{st['message']}\n")
    w.write(0, f"IP:\t{st.get('podIP', '')}\n")
    ips = st.get("podIPs") or []
    if not ips:
        w.write(0, "IPs:\t<none>\n")
    else:
        w.write(0, "IPs:\n")
        for ip in ips:
            w.write(1, f"IP:\t{ip.get('ip', '')}\n")
    if du.controller_text(pod):
        w.write(0, f"Controlled By:\t{du.controller_text(pod)}\n")
    if st.get("nominatedNodeName"):
        w.write(0, f"NominatedNodeName:\t{st['nominatedNodeName']}\n")
    if spec.get("initContainers"):
        du.containers(w, "Init Containers", spec["initContainers"], st.get("initContainerStatuses"), "")
    du.containers(w, "Containers", spec.get("containers") or [], st.get("containerStatuses"), "")
    if st.get("conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\n")
        for c in st["conditions"]:
            w.write(1, f"{c.get('type')} \t{c.get('status')} \n")
    du.volumes(w, spec.get("volumes"), "")
    w.write(0, f"QoS Class:\t{_qos(pod)}\n")
    du.labels_multiline(w, "Node-Selectors", spec.get("nodeSelector"))
    du.tolerations_multiline(w, "Tolerations", spec.get("tolerations"))
    du.events(w, events, now)
    return w.text()


# ---------------------------------------------------------------- deployment / replicaset
def revision(rs: Obj) -> int:
    try:
        return int((_meta(rs).get("annotations") or {}).get("deployment.kubernetes.io/revision", ""))
    except ValueError:
        return -1


def template_equal_ignoring_hash(a: Obj | None, b: Obj | None) -> bool:
    import copy
    a, b = copy.deepcopy(a or {}), copy.deepcopy(b or {})
    for t in (a, b):
        labels = (t.get("metadata") or {}).get("labels")
        if labels:
            labels.pop("pod-template-hash", None)
    return a == b


def split_replicasets(d: Obj, owned: list[Obj]) -> tuple[list[Obj], list[Obj], Obj | None]:
    """(old ReplicaSets with replicas, every old one, the new one) — deploymentutil's
    GetAllReplicaSets over the ReplicaSets the Deployment controls."""
    ordered = sorted(owned, key=lambda r: (_meta(r).get("creationTimestamp") or "", _meta(r).get("name", "")))
    new = next((r for r in ordered if template_equal_ignoring_hash(_spec(r).get("template"),
                                                                    _spec(d).get("template"))), None)
    all_old = [r for r in ordered if r is not new]
    required = [r for r in all_old if _spec(r).get("replicas", 0) != 0]
    return required, all_old, new


def _rs_list(items: list[Obj]) -> str:
    text = ", ".join(f"{_meta(r).get('name')} ({_status(r).get('replicas', 0)}/"
                     f"{_spec(r).get('replicas', 0)} replicas created)" for r in items)
    return text or "<none>"


def _conditions_table(w: du.PrefixWriter, conditions: list[Obj] | None) -> None:
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.write(1, "----\t------\t------\n")
        for c in conditions:
            w.write(1, f"{c.get('type')} \t{c.get('status')}\t{c.get('reason', '')}\n")


def describe_deployment(d: Obj, owned: list[Obj], events: list[Obj] | None = None,
                        now: datetime | None = None) -> str:
    w = du.PrefixWriter()
    meta, spec, st = _meta(d), _spec(d), _status(d)
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"CreationTimestamp:\t{du.rfc1123z(meta.get('creationTimestamp'))}\n")
    du.labels_multiline(w, "Labels", meta.get("labels"))
    du.annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"Selector:\t{selector_text(spec.get('selector'))}\n")
    w.write(0, f"Replicas:\t{spec.get('replicas', 1)} desired | {st.get('updatedReplicas', 0)} updated | "
               f"{st.get('replicas', 0)} total | {st.get('availableReplicas', 0)} available | "
               f"{st.get('unavailableReplicas', 0)} unavailable\n")
    strategy = spec.get("strategy") or {}
    w.write(0, f"StrategyType:\t{strategy.get('type', '')}\n")
    w.write(0, f"MinReadySeconds:\t{spec.get('minReadySeconds', 0)}\n")
    ru = strategy.get("rollingUpdate")
    if ru is not None:
        w.write(0, f"RollingUpdateStrategy:\t{ru.get('maxUnavailable', '25%')} max unavailable, "
                   f"{ru.get('maxSurge', '25%')} max surge\n")
    du.pod_template(w, spec.get("template"))
    _conditions_table(w, st.get("conditions"))
    _, all_old, new = split_replicasets(d, owned)
    if all_old or new:
        w.write(0, f"OldReplicaSets:\t{_rs_list(all_old)}\n")
        w.write(0, f"NewReplicaSet:\t{_rs_list([new] if new else [])}\n")
    du.events(w, events, now)
    return w.text()


def describe_replicaset(rs: Obj, pods: list[Obj], events: list[Obj] | None = None,
                        now: datetime | None = None) -> str:
    w = du.PrefixWriter()
    meta, spec, st = _meta(rs), _spec(rs), _status(rs)
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"Selector:\t{selector_text(spec.get('selector'))}\n")
    du.labels_multiline(w, "Labels", meta.get("labels"))
    du.annotations_multiline(w, "Annotations", meta.get("annotations"))
    if du.controller_text(rs):
        w.write(0, f"Controlled By:\t{du.controller_text(rs)}\n")
    w.write(0, f"Replicas:\t{st.get('replicas', 0)} current / {spec.get('replicas', 0)} desired\n")
    phases = [_status(p).get("phase") for p in pods]
    w.write(0, "Pods Status:\t")
    w.write(0, f"{phases.count('Running')} Running / {phases.count('Pending')} Waiting / "
               f"{phases.count('Succeeded')} Succeeded / {phases.count('Failed')} Failed\n")
    du.pod_template(w, spec.get("template"))
    _conditions_table(w, st.get("conditions"))
    du.events(w, events, now)
    return w.text()


# ---------------------------------------------------------------- service
def _endpoints_for_port(ep: Obj | None, port_name: str | None) -> str:
    items: list[str] = []
    for ss in (ep or {}).get("subsets") or []:
        for p in ss.get("ports") or []:
            if port_name is not None and (p.get("name") or "") != port_name:
                continue
            for a in ss.get("addresses") or []:
                items.append(f"{a.get('ip')}:{p.get('port')}")
    if not items:
        return "<none>"
    more = len(items) - 3
    return ",".join(items[:3]) + (f" + {more} more..." if more > 0 else "")


def _endpoints_from_slices(slices: list[Obj], port_name: str | None) -> str:
    """kubectl's formatEndpointSlices: ready endpoints (`ip:port` for the port's name, or
    bare addresses in a slice without ports), three and `+ N more...`; no slice: <none>."""
    if not slices:
        return "<none>"
    items: list[str] = []
    count = 0
    for es in sorted(slices, key=lambda s: (s.get("metadata") or {}).get("name") or ""):
        ports = es.get("ports") or []
        numbers: list[int | None] = [None] if not ports else \
            [p.get("port") for p in ports if port_name is None or (p.get("name") or "") == port_name]
        for port in numbers:
            for ep in es.get("endpoints") or []:
                if (ep.get("conditions") or {}).get("ready") is False:
                    continue
                addr = (ep.get("addresses") or [""])[0]
                if len(items) < 3:
                    items.append(addr if port is None else f"{addr}:{port}")
                count += 1
    text = ",".join(items)
    return f"{text} + {count - 3} more..." if count > 3 else text


def describe_service(svc: Obj, endpoints: Obj | None, events: list[Obj] | None = None,
                     now: datetime | None = None, slices: list[Obj] | None = None) -> str:
    """kubectl describe service; the Endpoints lines come from the Service's EndpointSlices
    as kubectl 1.2x+ reads them (`slices`), or from its Endpoints when not given."""
    w = du.PrefixWriter()
    meta, spec, st = _meta(svc), _spec(svc), _status(svc)
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    du.labels_multiline(w, "Labels", meta.get("labels"))
    du.annotations_multiline(w, "Annotations", meta.get("annotations"))
    sel = spec.get("selector") or {}
    w.write(0, f"Selector:\t{','.join(f'{k}={v}' for k, v in sorted(sel.items())) or '<none>'}\n")
    w.write(0, f"Type:\t{spec.get('type', '')}\n")
    if spec.get("ipFamilyPolicy"):
        w.write(0, f"IP Family Policy:\t{spec['ipFamilyPolicy']}\n")
    w.write(0, f"IP Families:\t{','.join(spec.get('ipFamilies') or []) or '<none>'}\n")
    w.write(0, f"IP:\t{spec.get('clusterIP', '')}\n")
    w.write(0, f"IPs:\t{','.join(spec.get('clusterIPs') or []) or '<none>'}\n")
    if spec.get("externalIPs"):
        w.write(0, f"External IPs:\t{','.join(spec['externalIPs'])}\n")
    if spec.get("loadBalancerIP"):
        w.write(0, f"IP:\t{spec['loadBalancerIP']}\n")
    if spec.get("externalName"):
        w.write(0, f"External Name:\t{spec['externalName']}\n")
    ingress = (st.get("loadBalancer") or {}).get("ingress") or []
    if ingress:
        w.write(0, "LoadBalancer Ingress:\t" + ", ".join(i.get("ip") or i.get("hostname") or "" for i in ingress) + "\n")
    for p in spec.get("ports") or []:
        name = p.get("name") or "<unset>"
        proto = p.get("protocol", "TCP")
        w.write(0, f"Port:\t{name}\t{p.get('port')}/{proto}\n")
        w.write(0, f"TargetPort:\t{p.get('targetPort', p.get('port'))}/{proto}\n")
        if p.get("nodePort"):
            w.write(0, f"NodePort:\t{name}\t{p['nodePort']}/{proto}\n")
        text = _endpoints_for_port(endpoints, p.get("name") or "") if slices is None else \
            _endpoints_from_slices(slices, p.get("name") or "")
        w.write(0, f"Endpoints:\t{text}\n")
    if not spec.get("ports"):
        text = _endpoints_for_port(endpoints, None) if slices is None else _endpoints_from_slices(slices, None)
        w.write(0, f"Endpoints:\t{text}\n")
    w.write(0, f"Session Affinity:\t{spec.get('sessionAffinity', '')}\n")
    if spec.get("externalTrafficPolicy"):
        w.write(0, f"External Traffic Policy:\t{spec['externalTrafficPolicy']}\n")
    if spec.get("internalTrafficPolicy"):
        w.write(0, f"Internal Traffic Policy:\t{spec['internalTrafficPolicy']}\n")
    if spec.get("healthCheckNodePort"):
        w.write(0, f"HealthCheck NodePort:\t{spec['healthCheckNodePort']}\n")
    du.events(w, events, now)
    return w.text()


# ---------------------------------------------------------------- namespace, configmap, generic
def describe_namespace(ns: Obj, events: list[Obj] | None = None, now: datetime | None = None) -> str:
    w = du.PrefixWriter()
    meta = _meta(ns)
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    du.labels_multiline(w, "Labels", meta.get("labels"))
    du.annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"Status:\t{_status(ns).get('phase', '')}\n")
    return w.text()


def describe_configmap(cm: Obj, events: list[Obj] | None = None, now: datetime | None = None) -> str:
    w = du.PrefixWriter()
    meta = _meta(cm)
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    du.labels_multiline(w, "Labels", meta.get("labels"))
    du.annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, "\nData\n====\n")
    for k in sorted(cm.get("data") or {}):
        w.write(0, f"{k}:\n----\n")
        w.write(0, f"{cm['data'][k]}\n\n")
    w.write(0, "\nBinaryData\n====\n")
    for k in sorted(cm.get("binaryData") or {}):
        w.write(0, f"{k}: {len(cm['binaryData'][k]) * 3 // 4} bytes\n")
    w.write(0, "\n")
    du.events(w, events, now)
    return w.text()


def _generic_fields(w: du.PrefixWriter, value: Any, level: int) -> None:
    if isinstance(value, dict):
        for k in sorted(value):
            v = value[k]
            if isinstance(v, (dict, list)):
                w.write(level, f"{k[:1].upper()}{k[1:]}:\n")
                _generic_fields(w, v, level + 1)
            else:
                w.write(level, f"{k[:1].upper()}{k[1:]}:\t{v}\n")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)):
                _generic_fields(w, item, level)
            else:
                w.write(level, f"{item}\n")


def describe_generic(obj: Obj, events: list[Obj] | None = None, now: datetime | None = None) -> str:
    w = du.PrefixWriter()
    meta = _meta(obj)
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    if meta.get("namespace"):
        w.write(0, f"Namespace:\t{meta['namespace']}\n")
    du.labels_multiline(w, "Labels", meta.get("labels"))
    du.annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"API Version:\t{obj.get('apiVersion', '')}\n")
    w.write(0, f"Kind:\t{obj.get('kind', '')}\n")
    rest = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    _generic_fields(w, rest, 0)
    du.events(w, events, now)
    return w.text()


DESCRIBERS: dict[str, Callable[..., str]] = {
    "Pod": describe_pod, "Deployment": describe_deployment, "ReplicaSet": describe_replicaset,
    "Service": describe_service, "Node": describe_node, "Namespace": describe_namespace,
    "ConfigMap": describe_configmap,
}

__all__ = ["DESCRIBERS", "describe_configmap", "describe_deployment", "describe_generic",
           "describe_namespace", "describe_node", "describe_pod", "describe_replicaset",
           "describe_service", "revision", "selector_text", "split_replicasets",
           "template_equal_ignoring_hash"]


from kubectl import describe_batch  # noqa: E402  (Job, CronJob; ReplicationController in cmd_describe)

DESCRIBERS.update(describe_batch.DESCRIBERS)
