"""The pure decisions behind label/annotate, delete, create, wait, config, rollout,
completion and exec."""
from __future__ import annotations

import argparse
import io
import random

import pytest

from kubectl import cmd_config, cmd_create, cmd_delete, cmd_label, cmd_wait, rollout_logic
from kubectl.errors import CmdError


# ---------------------------------------------------------------- label / annotate
def test_label_words() -> None:
    res, new, remove = cmd_label.split_changes(["deploy", "web", "app=x", "tier-"], "label")
    assert (res, new, remove) == (["deploy", "web"], {"app": "x"}, ["tier"])


def test_label_clash_needs_overwrite() -> None:
    with pytest.raises(CmdError) as e:
        cmd_label.updated({"app": "web"}, {"app": "x"}, [], False, "label")
    assert e.value.message == "'app' already has a value (web), and --overwrite is false"
    with pytest.raises(CmdError) as e:
        cmd_label.updated({"n": "1"}, {"n": "2"}, [], False, "annotation")
    assert e.value.message == ("--overwrite is false but found the following declared annotation(s): "
                               "'n' already has a value (1)")


def test_label_patch_and_notes() -> None:
    patch, notes = cmd_label.updated({"a": "1", "b": "2"}, {"a": "1", "c": "3"}, ["b", "zz"], False, "label")
    assert patch == {"c": "3", "b": None}
    assert notes == ['label "zz" not found.']


# ---------------------------------------------------------------- delete
def _delete_args(**kw: object) -> argparse.Namespace:
    base = {"grace_period": -1, "now": False, "force": False}
    base.update(kw)
    return argparse.Namespace(**base)


@pytest.mark.parametrize("kw,grace", [
    ({}, -1), ({"grace_period": 0}, 1), ({"grace_period": 0, "force": True}, 0),
    ({"force": True}, 0), ({"now": True}, 1), ({"grace_period": 30}, 30)])
def test_grace_period_rules(kw: dict[str, object], grace: int) -> None:
    assert cmd_delete.grace_period(_delete_args(**kw)) == grace


def test_deleted_messages() -> None:
    from api.resources import resolve
    assert cmd_delete.deleted_message(resolve("deploy"), "web", "default", False) == \
        'deployment.apps "web" deleted from default namespace\n'
    assert cmd_delete.deleted_message(resolve("ns"), "foo", None, False) == 'namespace "foo" deleted\n'
    assert cmd_delete.deleted_message(resolve("po"), "p", "x", True) == 'pod "p" force deleted from x namespace\n'
    assert cmd_delete.deleted_message(resolve("po"), "p", "x", False, "name") == "pod/p\n"


# ---------------------------------------------------------------- create
def test_create_deployment_object() -> None:
    obj = cmd_create.deployment_object("web", ["nginx:1.25"], replicas=2, port=80, command=["sleep", "1"])
    assert obj["spec"]["template"]["spec"]["containers"] == [
        {"command": ["sleep", "1"], "image": "nginx:1.25", "name": "nginx",
         "ports": [{"containerPort": 80}], "resources": {}}]
    assert obj["spec"]["selector"] == {"matchLabels": {"app": "web"}}


def test_container_names_from_images() -> None:
    assert cmd_create.container_name("registry.io/team/api:2@sha256:x") == "api"
    name = cmd_create.container_name("side_car:1", random.Random(1))
    assert name.startswith("side-car-") and len(name) == len("side-car-") + 5


# ---------------------------------------------------------------- wait
def test_wait_conditions() -> None:
    d = {"metadata": {"generation": 2}, "status": {"conditions": [
        {"type": "Available", "status": "True"}, {"type": "Progressing", "status": "True", "observedGeneration": 1}]}}
    assert cmd_wait.condition_met(d, cmd_wait.parse_for("condition=available"))
    assert not cmd_wait.condition_met(d, cmd_wait.parse_for("condition=Available=false"))
    assert not cmd_wait.condition_met(d, cmd_wait.parse_for("condition=Progressing"))   # stale generation
    assert cmd_wait.condition_met({"spec": {"replicas": 3}}, cmd_wait.parse_for("jsonpath={.spec.replicas}=3"))
    assert cmd_wait.parse_for("delete").kind == "delete"


# ---------------------------------------------------------------- config
KUBECONFIG = {"apiVersion": "v1", "kind": "Config", "current-context": "a",
              "clusters": [{"name": "c1", "cluster": {"server": "https://x", "certificate-authority-data": "Zm9v"}},
                           {"name": "c2", "cluster": {"server": "https://y"}}],
              "users": [{"name": "u1", "user": {"token": "secret"}}],
              "contexts": [{"name": "a", "context": {"cluster": "c1", "user": "u1"}},
                           {"name": "b", "context": {"cluster": "c2", "user": "u1"}}]}


def test_config_redaction_and_minify() -> None:
    red = cmd_config.redact(KUBECONFIG)
    assert red["clusters"][0]["cluster"]["certificate-authority-data"] == "DATA+OMITTED"
    assert red["users"][0]["user"]["token"] == "REDACTED"
    assert KUBECONFIG["users"][0]["user"]["token"] == "secret"
    mini = cmd_config.minify(KUBECONFIG)
    assert [c["name"] for c in mini["clusters"]] == ["c1"] and [c["name"] for c in mini["contexts"]] == ["a"]


# ---------------------------------------------------------------- rollout
def dep(gen: int, observed: int, want: int, **st: int) -> dict[str, object]:
    return {"metadata": {"name": "web", "generation": gen},
            "spec": {"replicas": want}, "status": {"observedGeneration": observed, **st}}


@pytest.mark.parametrize("d,msg,done", [
    (dep(2, 1, 2), "Waiting for deployment spec update to be observed...\n", False),
    (dep(1, 1, 2, updatedReplicas=1, replicas=2),
     'Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...\n', False),
    (dep(1, 1, 2, updatedReplicas=2, replicas=3),
     'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...\n', False),
    (dep(1, 1, 2, updatedReplicas=2, replicas=2, availableReplicas=1),
     'Waiting for deployment "web" rollout to finish: 1 of 2 updated replicas are available...\n', False),
    (dep(1, 1, 2, updatedReplicas=2, replicas=2, availableReplicas=2),
     'deployment "web" successfully rolled out\n', True),
])
def test_rollout_status_messages(d: dict[str, object], msg: str, done: bool) -> None:
    assert rollout_logic.deployment_status(d) == (msg, done)


def test_progress_deadline() -> None:
    d = dep(1, 1, 2)
    d["status"]["conditions"] = [{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]  # type: ignore[index]
    with pytest.raises(CmdError) as e:
        rollout_logic.deployment_status(d)
    assert e.value.message == 'deployment "web" exceeded its progress deadline'


def rs(rev: int, image: str) -> dict[str, object]:
    return {"metadata": {"name": f"web-{rev}", "annotations": {rollout_logic.REVISION: str(rev), "x": str(rev)}},
            "spec": {"replicas": 0, "template": {"metadata": {"labels": {"app": "web", "pod-template-hash": f"h{rev}"}},
                                                 "spec": {"containers": [{"name": "c", "image": image}]}}}}


def test_rollback_target_and_patch() -> None:
    rss = [rs(1, "nginx:1"), rs(3, "nginx:3"), rs(2, "nginx:2")]
    d = {"metadata": {"name": "web", "annotations": {rollout_logic.REVISION: "3", "keep": "me"}},
         "spec": {"template": {"metadata": {"labels": {"app": "web"}},
                               "spec": {"containers": [{"name": "c", "image": "nginx:3"}]}}}}
    target = rollout_logic.rollback_target(d, rss, 0)
    assert target["metadata"]["name"] == "web-2"                     # type: ignore[index]
    patch = rollout_logic.undo_patch(d, target)
    assert patch == [
        {"op": "replace", "path": "/spec/template",
         "value": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}},
        {"op": "replace", "path": "/metadata/annotations", "value": {rollout_logic.REVISION: "3", "x": "2"}}]
    assert rollout_logic.undo_patch(d, rollout_logic.rollback_target(d, rss, 3)) is None
    with pytest.raises(CmdError) as e:
        rollout_logic.rollback_target(d, rss, 9)
    assert e.value.message == "unable to find specified revision 9 in history"


def test_history_table() -> None:
    rss = [rs(2, "b"), rs(1, "a")]
    rss[0]["metadata"]["annotations"]["kubernetes.io/change-cause"] = "set image b"  # type: ignore[index]
    assert rollout_logic.history_text(rollout_logic.history(rss)) == (
        "REVISION  CHANGE-CAUSE\n1         <none>\n2         set image b\n")


# ---------------------------------------------------------------- completion
def complete(*words: str) -> list[str]:
    from kubectl.completion import complete_main
    out = io.StringIO()
    complete_main(["--kubeconfig", "/nonexistent", *words], out, io.StringIO())
    return out.getvalue().splitlines()


def test_completion_words() -> None:
    assert complete("ro") == ["rollout"]
    assert complete("rollout", "") == ["status", "history", "undo", "restart", "pause", "resume"]
    assert complete("get", "dep") == ["deployments", "deploy"]
    assert "--show-labels" in complete("get", "pods", "--sh")
    assert complete("get", "pods", "-o", "j") == ["json", "jsonpath="]
    assert complete("get", "pods", "") == []            # no server: no names, no error
    assert complete("completion", "") == ["bash", "zsh"]


def test_completion_scripts() -> None:
    from kubectl.completion import BASH, ZSH
    assert "complete -o default -F _pykubectl pykubectl" in BASH
    assert "pykubectl __complete" in BASH and "pykubectl __complete" in ZSH
    assert ZSH.startswith("#compdef pykubectl")


# ---------------------------------------------------------------- exec
def test_exec_query_and_frames() -> None:
    from client.stream import stream_query
    from httpstream import channels
    q = stream_query(["sh", "-c", "echo hi"], "web", stdin=True, stdout=True, stderr=True, tty=False)
    assert q == "command=sh&command=-c&command=echo+hi&container=web&stdin=true&stdout=true&stderr=true&tty=false"
    assert "stderr=false" in stream_query(["sh"], "", True, True, True, tty=True)   # a TTY merges stderr
    assert channels.encode(channels.V5, 0, b"ls\n") == b"\x00ls\n"
    assert channels.decode(channels.V4, b"\x02oops") == (2, b"oops")
    assert channels.exit_code({"status": "Success"}) == 0
    assert channels.exit_code({"status": "Failure", "reason": "NonZeroExitCode", "details": {
        "causes": [{"reason": "ExitCode", "message": "3"}]}}) == 3