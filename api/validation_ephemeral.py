"""Ephemeral containers: what `pods/{name}/ephemeralcontainers` accepts (pure).

Kubernetes' `validateEphemeralContainers` and `ValidatePodEphemeralContainersUpdate`:
- on create, a pod may not carry any (`spec.ephemeralContainers: Forbidden: cannot be set
  on create`); they only come through the subresource;
- each one is a container (name, image, env, mounts...) whose name is unique across all of
  the pod's containers, whose `targetContainerName` names one of the pod's (init)
  containers, and which sets none of the fields an ephemeral container may not have
  (ports, probes, lifecycle, resources, restartPolicy; a mount's subPath);
- existing ephemeral containers may be neither changed nor removed: only additions.
Errors carry Kubernetes' paths and words.
"""
from __future__ import annotations

from typing import Any

from api.field import FieldError, child, duplicate, forbidden, index, not_found
from api.validation_pod import _validate_container

Obj = dict[str, Any]

PATH = "spec.ephemeralContainers"
NOT_ALLOWED = ("ports", "resources", "resizePolicy", "lifecycle", "livenessProbe", "readinessProbe",
               "startupProbe", "restartPolicy")
NOT_FOR_EPHEMERAL = "cannot be set for an Ephemeral Container"


def validate_pod_create(spec: Any) -> list[FieldError]:
    """What a new pod may not have: ephemeral containers."""
    if isinstance(spec, dict) and spec.get("ephemeralContainers"):
        return [forbidden(PATH, "cannot be set on create")]
    return []


def validate_ephemeral_containers(spec: Obj) -> list[FieldError]:
    """Every problem with the ephemeral containers of a pod spec."""
    errs: list[FieldError] = []
    volumes = {v.get("name") for v in spec.get("volumes") or [] if isinstance(v, dict)}
    others = {c.get("name") for key in ("initContainers", "containers")
              for c in spec.get(key) or [] if isinstance(c, dict)}
    seen = set(others)
    for i, c in enumerate(spec.get("ephemeralContainers") or []):
        path = index(PATH, i)
        if not isinstance(c, dict):
            continue
        errs.extend(_validate_container(c, path, volumes, False))   # type: ignore[arg-type]
        name = c.get("name")
        if name:
            if name in seen:
                errs.append(duplicate(child(path, "name"), name))
            seen.add(name)
        target = c.get("targetContainerName")
        if target and target not in others:
            errs.append(not_found(child(path, "targetContainerName"), target))
        errs.extend(forbidden(child(path, f), NOT_FOR_EPHEMERAL) for f in NOT_ALLOWED if c.get(f))  # set = non-zero, as Go sees it
        for j, mount in enumerate(c.get("volumeMounts") or []):
            if isinstance(mount, dict) and mount.get("subPath"):
                errs.append(forbidden(child(index(child(path, "volumeMounts"), j), "subPath"), NOT_FOR_EPHEMERAL))
    return errs


def validate_ephemeral_update(new_spec: Obj, old_spec: Obj) -> list[FieldError]:
    """A write of the subresource: valid new ephemeral containers, the old ones untouched."""
    errs = validate_ephemeral_containers(new_spec)
    new_by_name = {c.get("name"): c for c in new_spec.get("ephemeralContainers") or [] if isinstance(c, dict)}
    for old in old_spec.get("ephemeralContainers") or []:
        name = old.get("name")
        if name not in new_by_name:
            errs.append(forbidden(PATH, f'existing ephemeral containers "{name}" may not be removed\n'))
        elif new_by_name[name] != old:
            errs.append(forbidden(PATH, f'existing ephemeral containers "{name}" may not be changed\n'))
    return errs
