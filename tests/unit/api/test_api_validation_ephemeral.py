"""Ephemeral containers: only added through the subresource, never changed or removed, and
without the fields a debugging container may not have (Kubernetes' words and paths)."""
from __future__ import annotations

from typing import Any

from api.validation_ephemeral import validate_ephemeral_update, validate_pod_create

SPEC: dict[str, Any] = {"containers": [{"name": "app", "image": "nginx"}],
                        "initContainers": [{"name": "setup", "image": "busybox"}],
                        "volumes": [{"name": "data", "emptyDir": {}}]}


def msgs(errs: list[Any]) -> list[str]:
    return [str(e) for e in errs]


def with_ephemeral(*containers: dict[str, Any]) -> dict[str, Any]:
    return {**SPEC, "ephemeralContainers": list(containers)}


def test_a_new_pod_may_not_bring_ephemeral_containers() -> None:
    assert msgs(validate_pod_create(with_ephemeral({"name": "dbg", "image": "busybox"}))) == [
        "spec.ephemeralContainers: Forbidden: cannot be set on create"]
    assert validate_pod_create(SPEC) == []


def test_a_debugger_is_added() -> None:
    dbg = {"name": "dbg", "image": "busybox", "targetContainerName": "app", "stdin": True, "tty": True,
           "resources": {}, "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
           "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
    assert validate_ephemeral_update(with_ephemeral(dbg), SPEC) == []


def test_fields_an_ephemeral_container_may_not_set() -> None:
    dbg = {"name": "dbg", "image": "busybox", "ports": [{"containerPort": 80}],
           "readinessProbe": {"exec": {"command": ["true"]}}, "resources": {"limits": {"cpu": "1"}},
           "volumeMounts": [{"name": "data", "mountPath": "/data", "subPath": "x"}]}
    assert msgs(validate_ephemeral_update(with_ephemeral(dbg), SPEC)) == [
        "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container",
        "spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container",
        "spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container",
        "spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container"]


def test_names_targets_and_images() -> None:
    errs = msgs(validate_ephemeral_update(with_ephemeral(
        {"name": "app", "image": "busybox"}, {"name": "setup", "image": "busybox"},
        {"name": "dbg", "image": "busybox", "targetContainerName": "nope"}, {"name": "Bad_Name"}), SPEC))
    assert 'spec.ephemeralContainers[0].name: Duplicate value: "app"' in errs
    assert 'spec.ephemeralContainers[1].name: Duplicate value: "setup"' in errs
    assert 'spec.ephemeralContainers[2].targetContainerName: Not found: "nope"' in errs
    assert "spec.ephemeralContainers[3].image: Required value" in errs
    assert any(e.startswith('spec.ephemeralContainers[3].name: Invalid value: "Bad_Name"') for e in errs)


def test_existing_ones_are_neither_changed_nor_removed() -> None:
    old = with_ephemeral({"name": "dbg", "image": "busybox"})
    assert validate_ephemeral_update(with_ephemeral({"name": "dbg", "image": "busybox"},
                                                    {"name": "dbg2", "image": "busybox"}), old) == []
    assert msgs(validate_ephemeral_update(with_ephemeral({"name": "dbg", "image": "alpine"}), old)) == [
        'spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be changed\n']
    assert msgs(validate_ephemeral_update(SPEC, old)) == [
        'spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be removed\n']
