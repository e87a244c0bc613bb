"""Argument parsing, target rules and error wording — everything that needs no server."""
from __future__ import annotations

import io
import json

import pytest

from client.errors import APIError, ConnectionFailed
from kubectl import errors, main, targets
from kubectl.cli import normalize, parse_duration, split_command
from kubectl.errors import CmdError


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main.run(list(argv), io.StringIO(), out, err)
    return code, out.getvalue(), err.getvalue()


def test_pflag_spellings() -> None:
    flags, rest = normalize(["-o=wide", "--wait=false", "--show-labels=true", "pods", "--", "ls", "-l"],
                            {"--wait": True, "--show-labels": True})
    assert flags == ["-o", "wide", "--no-wait", "--show-labels", "pods"]
    assert rest == ["ls", "-l"]


def test_global_flags_before_the_command() -> None:
    words, rest = split_command(["-n", "kube-system", "--kubeconfig", "k", "get", "pods", "-o", "wide"])
    assert words == ["get", "pods"]
    assert rest == ["-n", "kube-system", "--kubeconfig", "k", "-o", "wide"]


@pytest.mark.parametrize("text,seconds", [("30s", 30), ("1m30s", 90), ("500ms", 0.5), ("2h", 7200),
                                          ("5", 5), ("-1s", -1)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_bad_duration() -> None:
    with pytest.raises(CmdError) as e:
        parse_duration("soon", "--timeout")
    assert e.value.message == 'invalid argument "soon" for "--timeout" flag: time: invalid duration "soon"'


@pytest.mark.parametrize("argv,stderr", [
    (["foo"], 'error: unknown command "foo" for "pykubectl"\nRun \'pykubectl --help\' for usage.\n'),
    (["get", "pods", "--bogus"], "error: unknown flag: --bogus\nSee 'pykubectl get --help' for usage.\n"),
    (["get", "pods", "-o"], "error: flag needs an argument: 'o' in -o\nSee 'pykubectl get --help' for usage.\n"),
    (["get", "pods", "--selector"], "error: flag needs an argument: --selector\nSee 'pykubectl get --help' for usage.\n"),
    (["apply", "x.yaml"], "error: Unexpected args: [x.yaml]\nSee 'pykubectl apply -h' for help and examples\n"),
    (["get", "foo"], 'error: the server doesn\'t have a resource type "foo"\n'),
    (["get", "pods", "-o", "bogus"], 'error: unable to match a printer suitable for the output format "bogus", '
     "allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,"
     "jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml\n"),
    (["get", "deploy", "deploy/x"], f"error: {targets.SLASH_MIX}\n"),
    (["apply"], "error: must specify one of -f and -k\n"),
    (["apply", "-f", "/nonexistent/x.yaml"], 'error: the path "/nonexistent/x.yaml" does not exist\n'),
    (["delete", "pods"], "error: resource(s) were provided, but no name was specified\n"),
    (["delete", "cm", "x", "--cascade=sideways"],
     'error: invalid cascade value (sideways). Must be "background", "foreground", or "orphan"\n'),
    (["scale", "deploy/x"], 'error: required flag(s) "replicas" not set\n'),
    (["label", "cm", "x"], "error: at least one label update is required\n"),
    (["wait", "deploy/x", "--for=bogus"], 'error: unrecognized condition: "bogus"\n'),
    (["rollout", "bogus"], "error: unknown command \"bogus\"\nSee 'pykubectl rollout -h' for help and examples\n"),
    (["create", "deployment", "x"], 'error: required flag(s) "image" not set\n'),
    (["exec", "pod", "ls"], "error: exec [POD] [COMMAND] is not supported anymore. "
     "Use exec [POD] -- [COMMAND] instead\n"),
    (["completion", "fish"], 'error: Unsupported shell type "fish".\n'),
])
def test_usage_errors_exit_1_with_one_kubectl_line(argv: list[str], stderr: str) -> None:
    code, out, err = run(*argv)
    assert (code, out, err) == (1, "", stderr)


def test_delete_without_anything_prints_kubectl_help_text() -> None:
    code, _, err = run("delete")
    assert code == 1
    assert err.startswith("error: You must provide one or more resources by argument or filename.\n"
                          "Example resource specifications include:\n   '-f rsrc.yaml'\n")


def test_help_exits_0() -> None:
    code, out, _ = run("--help")
    assert code == 0 and "apply" in out and "__complete" not in out


def test_command_help() -> None:
    code, out, _ = run("get", "--help")
    assert code == 0 and "--show-labels" in out


def test_version_client_needs_no_server() -> None:
    code, out, err = run("version", "--client")
    assert (code, out, err) == (0, "Client Version: v1.31.0-pykube\n", "")


# ---------------------------------------------------------------- targets
def test_target_forms() -> None:
    t = targets.parse_args(["deploy,svc", "web"])
    assert [(x.info.plural, x.names) for x in t] == [("deployments", ["web"]), ("services", ["web"])]
    t = targets.parse_args(["po/a", "deploy/b", "pods/c"])
    assert [(x.info.plural, x.names) for x in t] == [("pods", ["a", "c"]), ("deployments", ["b"])]
    assert [x.info.plural for x in targets.parse_args(["all"])] == [
        "pods", "services", "replicationcontrollers", "daemonsets", "deployments", "replicasets",
        "statefulsets", "horizontalpodautoscalers", "jobs", "cronjobs"]


# ---------------------------------------------------------------- error wording
def status(code: int, reason: str, message: str, **details: object) -> dict[str, object]:
    return {"kind": "Status", "code": code, "reason": reason, "message": message, "details": details}


def test_server_error_lines() -> None:
    nf = APIError.from_response(404, status(404, "NotFound", 'deployments.apps "x" not found'))
    assert errors.format_error(nf) == 'Error from server (NotFound): deployments.apps "x" not found'
    wrapped = errors.wrap(APIError.from_response(409, status(409, "AlreadyExists", 'configmaps "a" already exists')),
                          'error when creating "f.yaml": ')
    assert errors.format_error(wrapped) == \
        'Error from server (AlreadyExists): error when creating "f.yaml": configmaps "a" already exists'
    unauth = APIError.from_response(401, status(401, "Unauthorized", "Unauthorized"))
    assert errors.format_error(unauth) == "error: You must be logged in to the server (Unauthorized)"


def test_invalid_error_reads_like_kubectl() -> None:
    one = APIError.from_response(422, status(422, "Invalid", "ignored", kind="Deployment", name="web", causes=[
        {"field": "spec.replicas", "message": "Invalid value: -1: must be greater than or equal to 0"}]))
    assert errors.format_error(one) == ('The Deployment "web" is invalid: spec.replicas: Invalid value: -1: '
                                        "must be greater than or equal to 0")
    two = APIError.from_response(422, status(422, "Invalid", "ignored", kind="Pod", name="p", causes=[
        {"field": "a", "message": "a: Required value"}, {"field": "b", "message": "Required value"}]))
    assert errors.format_error(two) == 'The Pod "p" is invalid: \n* a: Required value\n* b: Required value'


def test_connection_refused_line() -> None:
    errors.set_server("https://127.0.0.1:6443")
    msg = errors.format_error(ConnectionFailed("GET /api: ConnectError('[Errno 111] Connection refused')"))
    assert msg == ("The connection to the server 127.0.0.1:6443 was refused - "
                   "did you specify the right host or port?")


def test_last_applied_annotation_bytes() -> None:
    from kubectl.objects import LAST_APPLIED, last_applied_value, with_last_applied
    obj = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "a", "namespace": "default"},
           "data": {"x": "<b>"}}
    value = last_applied_value(obj)
    assert value == ('{"apiVersion":"v1","data":{"x":"\\u003cb\\u003e"},"kind":"ConfigMap",'
                     '"metadata":{"annotations":{},"name":"a","namespace":"default"}}\n')
    assert json.loads(with_last_applied(obj)["metadata"]["annotations"][LAST_APPLIED]) == \
        json.loads(value)
    # the annotation itself never nests
    assert last_applied_value(with_last_applied(obj)) == value


def test_client_side_dry_run_needs_no_cluster(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", "/nonexistent/config")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PYKUBE_DATA_DIR", str(tmp_path))
    code, out, err = run("create", "deployment", "web", "--image=nginx", "--dry-run=client", "-o", "yaml")
    assert (code, err) == (0, "")
    assert out.startswith("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n    app: web\n  name: web\n")
