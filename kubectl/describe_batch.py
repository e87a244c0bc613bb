"""`describe` pages of Job, CronJob and ReplicationController, as kubectl's describe.go
writes them (describeJob, describeCronJob with describeJobTemplate, and
describeReplicationController). Pure: dicts in, text out; registered in describers."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from api.tables import human_duration, meta_of as _meta, parse_time, spec_of as _spec, status_of as _status
from kubectl import describe_util as du

Obj = dict[str, Any]


def _selector(sel: Obj | None) -> str:
    """metav1.LabelSelectorAsSelector(...).String(): sorted requirements, `key=value`."""
    from api.selectors import selector_from_model
    if sel is None:
        return ""
    try:
        return str(selector_from_model(sel))
    except ValueError as e:
        return f"Failed to get selector: {e}"


def _cap_indexes(text: str | None, limit: int = 50) -> str:
    """capIndexesListOrNone: at most `limit` characters, cut at a comma, then `...`."""
    if not text:
        return "<none>"
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[:cut.rfind(",")] + ",..." if "," in cut else cut + "..."


def describe_job(job: Obj, events: list[Obj] | None = None, now: datetime | None = None) -> str:
    w = du.PrefixWriter()
    meta, spec, st = _meta(job), _spec(job), _status(job)
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"Selector:\t{_selector(spec.get('selector'))}\n")
    du.labels_multiline(w, "Labels", meta.get("labels"))
    du.annotations_multiline(w, "Annotations", meta.get("annotations"))
    if du.controller_text(job):
        w.write(0, f"Controlled By:\t{du.controller_text(job)}\n")
    if spec.get("parallelism") is not None:
        w.write(0, f"Parallelism:\t{spec['parallelism']}\n")
    completions = spec.get("completions")
    w.write(0, f"Completions:\t{'<unset>' if completions is None else completions}\n")
    if spec.get("completionMode") is not None:
        w.write(0, f"Completion Mode:\t{spec['completionMode']}\n")
    if spec.get("suspend") is not None:
        w.write(0, f"Suspend:\t{str(bool(spec['suspend'])).lower()}\n")
    if spec.get("backoffLimit") is not None:
        w.write(0, f"Backoff Limit:\t{spec['backoffLimit']}\n")
    if spec.get("ttlSecondsAfterFinished") is not None:
        w.write(0, f"TTL Seconds After Finished:\t{spec['ttlSecondsAfterFinished']}\n")
    if st.get("startTime"):
        w.write(0, f"Start Time:\t{du.rfc1123z(st['startTime'])}\n")
    if st.get("completionTime"):
        w.write(0, f"Completed At:\t{du.rfc1123z(st['completionTime'])}\n")
    start, end = parse_time(st.get("startTime")), parse_time(st.get("completionTime"))
    if start is not None and end is not None:
        w.write(0, f"Duration:\t{human_duration((end - start).total_seconds())}\n")
    if spec.get("activeDeadlineSeconds") is not None:
        w.write(0, f"Active Deadline Seconds:\t{spec['activeDeadlineSeconds']}s\n")
    counts = (st.get("active", 0), st.get("succeeded", 0), st.get("failed", 0))
    if st.get("ready") is None:
        w.write(0, f"Pods Statuses:\t{counts[0]} Active / {counts[1]} Succeeded / {counts[2]} Failed\n")
    else:
        w.write(0, f"Pods Statuses:\t{counts[0]} Active ({st['ready']} Ready) / {counts[1]} "
                   f"Succeeded / {counts[2]} Failed\n")
    if spec.get("completionMode") == "Indexed":
        w.write(0, f"Completed Indexes:\t{_cap_indexes(st.get('completedIndexes'))}\n")
    du.pod_template(w, spec.get("template"))
    du.events(w, events, now)
    return w.text()


def describe_cronjob(cj: Obj, events: list[Obj] | None = None, now: datetime | None = None) -> str:
    w = du.PrefixWriter()
    meta, spec, st = _meta(cj), _spec(cj), _status(cj)
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    du.labels_multiline(w, "Labels", meta.get("labels"))
    du.annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"Schedule:\t{spec.get('schedule', '')}\n")
    w.write(0, f"Concurrency Policy:\t{spec.get('concurrencyPolicy', '')}\n")
    suspend = spec.get("suspend")
    w.write(0, f"Suspend:\t{'<unset>' if suspend is None else str(bool(suspend)).capitalize()}\n")
    w.write(0, f"Time Zone:\t{spec.get('timeZone') or '<unset>'}\n")
    for title, field in (("Successful Job History Limit", "successfulJobsHistoryLimit"),
                         ("Failed Job History Limit", "failedJobsHistoryLimit")):
        value = spec.get(field)
        w.write(0, f"{title}:\t{'<unset>' if value is None else value}\n")
    deadline = spec.get("startingDeadlineSeconds")
    w.write(0, f"Starting Deadline Seconds:\t{'<unset>' if deadline is None else f'{deadline}s'}\n")
    template = spec.get("jobTemplate") or {}
    tspec = _spec(template)
    selector = tspec.get("selector")
    w.write(0, f"Selector:\t{'<unset>' if selector is None else _selector(selector)}\n")
    for title, field in (("Parallelism", "parallelism"), ("Completions", "completions")):
        value = tspec.get(field)
        w.write(0, f"{title}:\t{'<unset>' if value is None else value}\n")
    if tspec.get("activeDeadlineSeconds") is not None:
        w.write(0, f"Active Deadline Seconds:\t{tspec['activeDeadlineSeconds']}s\n")
    du.pod_template(w, tspec.get("template"))
    last = st.get("lastScheduleTime")
    w.write(0, f"Last Schedule Time:\t{du.rfc1123z(last) if last else '<unset>'}\n")
    active = [str(ref.get("name", "")) for ref in st.get("active") or []]
    w.write(0, f"Active Jobs:\t{', '.join(active) if active else '<none>'}\n")
    du.events(w, events, now)
    return w.text()


def describe_replication_controller(rc: Obj, pods: list[Obj], events: list[Obj] | None = None,
                                    now: datetime | None = None) -> str:
    w = du.PrefixWriter()
    meta, spec, st = _meta(rc), _spec(rc), _status(rc)
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items()))
    w.write(0, f"Selector:\t{selector or '<none>'}\n")
    du.labels_multiline(w, "Labels", meta.get("labels"))
    du.annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"Replicas:\t{st.get('replicas', 0)} current / {spec.get('replicas', 0)} desired\n")
    phases = [_status(p).get("phase") for p in pods]
    w.write(0, f"Pods Status:\t{phases.count('Running')} Running / {phases.count('Pending')} "
               f"Waiting / {phases.count('Succeeded')} Succeeded / {phases.count('Failed')} Failed\n")
    du.pod_template(w, spec.get("template"))
    conditions = st.get("conditions")
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.write(1, "----\t------\t------\n")
        for c in conditions:
            w.write(1, f"{c.get('type')} \t{c.get('status')}\t{c.get('reason', '')}\n")
    du.events(w, events, now)
    return w.text()


DESCRIBERS = {"Job": describe_job, "CronJob": describe_cronjob}

__all__ = ["DESCRIBERS", "describe_cronjob", "describe_job", "describe_replication_controller"]
