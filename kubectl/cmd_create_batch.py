"""`pykubectl create job NAME --image=IMAGE [-- COMMAND...]`, `create job NAME
--from=cronjob/CRONJOB` and `create cronjob NAME --image=IMAGE --schedule=SCHEDULE
[--restart=OnFailure] [-- COMMAND...]`: the generators of kubectl's create_job.go and
create_cronjob.go, with their objects, flag checks and error wording. A Job made from a
CronJob carries its job template, the `cronjob.kubernetes.io/instantiate: manual`
annotation and a controller reference to the CronJob. Registered into cmd_create.
"""
from __future__ import annotations

import argparse
import copy
from typing import Any

from kubectl.cli import Parser
from kubectl.cmd_create import _check_output, _common, _one_name, _send
from kubectl.context import Context
from kubectl.errors import CmdError

Obj = dict[str, Any]
INSTANTIATE = "cronjob.kubernetes.io/instantiate"


def configure_job(p: Parser) -> None:
    """Create a job with the specified name."""
    p.add_argument("name", nargs="*")
    p.add_argument("--image", default="", help="image name to run")
    p.add_argument("--from", dest="from_", default="",
                   help="the name of the resource to create a Job from (only cronjob is supported)")
    _common(p)


def configure_cronjob(p: Parser) -> None:
    """Create a cron job with the specified name."""
    p.add_argument("name", nargs="*")
    p.add_argument("--image", default=None, help="image name to run")
    p.add_argument("--schedule", default=None, help="a schedule in the Cron format")
    p.add_argument("--restart", default="OnFailure",
                   help="job's restart policy: OnFailure (default) or Never")
    _common(p)


# ---------------------------------------------------------------- generators (pure)
def job_object(name: str, image: str, command: list[str] | None = None) -> Obj:
    container: Obj = {"name": name, "image": image, "resources": {}}
    if command:
        container = {"command": list(command), **container}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"metadata": {},
                                  "spec": {"containers": [container], "restartPolicy": "Never"}}},
            "status": {}}


def job_from_cronjob(name: str, cronjob: Obj) -> Obj:
    """createJobFromCronJob: the CronJob's job template, annotated as a manual run and
    owned by the CronJob."""
    template = (cronjob.get("spec") or {}).get("jobTemplate") or {}
    tmeta = template.get("metadata") or {}
    meta = cronjob.get("metadata") or {}
    job_meta: Obj = {"name": name,
                     "annotations": {INSTANTIATE: "manual", **(tmeta.get("annotations") or {})}}
    if tmeta.get("labels"):
        job_meta["labels"] = dict(tmeta["labels"])
    job_meta["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "CronJob",
                                    "name": meta.get("name"), "uid": meta.get("uid"),
                                    "controller": True}]
    spec = copy.deepcopy(template.get("spec") or {})
    tmpl = spec.setdefault("template", {})
    tmpl.setdefault("metadata", {})
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": job_meta, "spec": spec,
            "status": {}}


def cronjob_object(name: str, image: str, schedule: str, restart: str = "OnFailure",
                   command: list[str] | None = None) -> Obj:
    container: Obj = {"name": name, "image": image, "resources": {}}
    if command:
        container = {"command": list(command), **container}
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"jobTemplate": {"metadata": {"name": name},
                                     "spec": {"template": {"metadata": {}, "spec": {
                                         "containers": [container], "restartPolicy": restart}}}},
                     "schedule": schedule},
            "status": {}}


# ---------------------------------------------------------------- running
async def run_job(ctx: Context, args: argparse.Namespace) -> int:
    _check_output(args)
    if bool(args.image) == bool(args.from_):
        raise CmdError("either --image or --from must be specified")
    if args.passthrough and args.from_:
        raise CmdError("cannot specify --from and command")
    name = _one_name(args, "job")
    if args.from_:
        obj = job_from_cronjob(name, await _cronjob(ctx, args.from_))
    else:
        obj = job_object(name, args.image, args.passthrough)
    await _create(ctx, args, obj, "job")
    return 0


async def _create(ctx: Context, args: argparse.Namespace, obj: Obj, what: str) -> None:
    """Send the object; a refusal reads `failed to create <what>: <message>`, as kubectl's."""
    from client.errors import APIError
    try:
        await _send(ctx, args, obj)
    except APIError as e:
        raise CmdError(f"failed to create {what}: {e.message}") from None


async def _cronjob(ctx: Context, source: str) -> Obj:
    from kubectl import targets
    found = [t for t in targets.parse_args([source])]
    if len(found) != 1 or len(found[0].names) != 1:
        raise CmdError("from must be an existing cronjob")
    got = await targets.fetch(ctx, found)
    if got.errors:
        raise got.errors[0]
    (obj,) = got.objects
    if obj.get("kind") != "CronJob":
        version = str(obj.get("apiVersion", "")).rsplit("/", 1)[-1]
        raise CmdError(f"unknown object type *{version}.{obj.get('kind')}")
    return obj


async def run_cronjob(ctx: Context, args: argparse.Namespace) -> int:
    _check_output(args)
    missing = [f'"{f}"' for f in ("image", "schedule") if getattr(args, f) is None]
    if missing:
        raise CmdError(f"required flag(s) {', '.join(missing)} not set")
    name = _one_name(args, "cronjob")
    obj = cronjob_object(name, args.image, args.schedule, args.restart, args.passthrough)
    await _create(ctx, args, obj, "cronjob")
    return 0


COMMANDS = {
    "create job": (configure_job, run_job),
    "create cronjob": (configure_cronjob, run_cronjob),
}
